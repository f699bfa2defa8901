/**
 * Transient push queries (`SELECT … FROM stream … EMIT CHANGES [LIMIT n]`) for /query-stream: planned
 * like a CREATE STREAM AS SELECT into an in-process JSON sink, run by a consumer of their own from
 * the end of the source topic (or the beginning with auto.offset.reset=earliest), each output record
 * decoded into a row for the client. Nothing is written to Kafka and nothing enters the metastore.
 */
import { randomUUID } from 'node:crypto';
import type { Consumer } from 'kafkajs';
import type { Expr, Query } from '../parser/ast.ts';
import type { Engine } from '../execution/engine.ts';
import { buildProcessor, type QueryProcessor } from '../execution/processor.ts';
import { KsqlError, statementError } from '../errors.ts';
import { planCreateAsSelect } from '../planner/planner.ts';
import { formatType } from '../schema/types.ts';
import type { KsqlRuntime } from '../kafka/runtime.ts';
import { fromKafkaHeaders } from '../kafka/adapters.ts';

export interface QueryHeader {
  readonly queryId?: string;
  readonly columnNames: readonly string[];
  readonly columnTypes: readonly string[];
}

export interface PushQuery {
  readonly header: QueryHeader;
  /** Rows until close() or the LIMIT; resolves when the query ends. */
  run(onRow: (row: readonly unknown[]) => Promise<void>): Promise<void>;
  close(): Promise<void>;
}

const PAD = 'KSQL_PUSH_ROW_PRESENT';

const literal = (value: string): Expr => ({ kind: 'Literal', type: 'STRING', value });

export async function createPushQuery(
  runtime: KsqlRuntime,
  engine: Engine,
  query: Query,
  text: string,
  properties: Readonly<Record<string, string>>,
): Promise<PushQuery> {
  const from = engine.metastore.getSource(query.from.name);
  if (!from) throw statementError(`${query.from.name} does not exist.`);
  const queryId = `transient_${from.name}_${randomUUID().replaceAll('-', '').slice(0, 19)}`;
  const sinkTopic = `__${queryId}`;
  const partitions = new Map(
    (await runtime.admin.fetchTopicMetadata({ topics: [from.topic] })).topics.map((t) => [
      t.name,
      t.partitions.length,
    ]),
  );
  const planFor = (q: Query) =>
    planCreateAsSelect(
      {
        kind: 'CreateAsSelect',
        sourceType: 'STREAM',
        name: queryId.toUpperCase(),
        orReplace: false,
        ifNotExists: false,
        properties: [
          { name: 'KAFKA_TOPIC', value: literal(sinkTopic) },
          // JSON keys decode back into values without a schema; a keyless source has no key format.
          ...(from.schema.key.length > 0 ? [{ name: 'KEY_FORMAT', value: literal('JSON') }] : []),
          { name: 'VALUE_FORMAT', value: literal('JSON') },
        ],
        query: { ...q, limit: undefined },
      },
      text,
      {
        metastore: engine.metastore,
        functions: engine.functions,
        config: properties,
        topicPartitions: partitions,
        nextQueryId: () => queryId,
      },
    );
  let plan;
  let padded = false;
  try {
    plan = planFor(query);
  } catch (error) {
    // A push query may select only key columns, a persistent query may not: pad the projection with a
    // value column and leave it out of the rows.
    if (!(error instanceof KsqlError) || !error.message.includes('no value columns')) throw error;
    padded = true;
    plan = planFor({
      ...query,
      select: [
        ...query.select,
        { kind: 'Expr', expr: { kind: 'Literal', type: 'BOOLEAN', value: true }, alias: PAD },
      ],
    });
  }
  if (!plan?.query || !plan.ddl || plan.ddl.command !== 'createSource')
    throw new KsqlError('statement', 'not a push query');
  const full = plan.ddl.source.schema;
  const schema = padded ? { ...full, value: full.value.filter((c) => c.name !== PAD) } : full;
  const columns = [...schema.key, ...schema.value];
  const processor: QueryProcessor = buildProcessor(plan.query, {
    registry: runtime.registryPort,
    functions: engine.functions,
    functionContext: { now: Date.now, uuid: randomUUID },
    processingLog: engine.processingLog,
  });
  const limit = query.limit;
  let consumer: Consumer | undefined;
  let finish: (() => void) | undefined;

  return {
    header: {
      queryId,
      columnNames: columns.map((c) => c.name),
      columnTypes: columns.map((c) => formatType(c.type)),
    },
    async run(onRow) {
      let emitted = 0;
      const done = new Promise<void>((resolve) => (finish = resolve));
      consumer = runtime.kafka.consumer({
        groupId: `_confluent-ksql-${runtime.serviceId}${queryId}`,
        maxWaitTimeInMs: 100,
      });
      await consumer.connect();
      await consumer.subscribe({
        topics: [...processor.sourceTopics],
        fromBeginning: properties['auto.offset.reset'] === 'earliest',
      });
      await consumer.run({
        autoCommit: false,
        eachMessage: async ({ topic, partition, message }) => {
          if (limit !== undefined && emitted >= limit) return;
          const outputs = await processor.process({
            topic,
            partition,
            offset: BigInt(message.offset),
            key: message.key,
            value: message.value,
            timestamp: Number(message.timestamp),
            headers: fromKafkaHeaders(message.headers),
          });
          for (const out of outputs) {
            // Streams push no tombstones: a null value is not a row (ksqlDB drops them too).
            if (out.value === null) continue;
            const keyJson = out.key === null ? null : (JSON.parse(out.key.toString('utf8')) as unknown);
            const value = JSON.parse(out.value.toString('utf8')) as Record<string, unknown>;
            const keyValues =
              schema.key.length === 1
                ? [keyJson]
                : schema.key.map((c) =>
                    keyJson !== null && typeof keyJson === 'object'
                      ? ((keyJson as Record<string, unknown>)[c.name] ?? null)
                      : null,
                  );
            await onRow([...keyValues, ...schema.value.map((c) => value[c.name] ?? null)]);
            emitted++;
            if (limit !== undefined && emitted >= limit) {
              finish?.();
              return;
            }
          }
        },
      });
      await done;
      await consumer.disconnect().catch(() => undefined);
    },
    async close() {
      finish?.();
      await consumer?.disconnect().catch(() => undefined);
    },
  };
}
