/**
 * Runs one persistent query against Kafka: a consumer group of its own (ksqlDB's
 * `_confluent-ksql-<service id>query_<query id>`), each record through the query's processor, the
 * outputs produced, and only then the input offsets committed — at least once by default. With
 * processing.guarantee=exactly_once_v2 the outputs and the input offsets commit in one Kafka
 * transaction, so a crash produces no duplicate output.
 *
 * A processing error (e.g. a sink that cannot serialize) stops the query's consumer and restarts it
 * with backoff from the last committed offsets, as ksqlDB restarts failed queries.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Consumer, Kafka, Message, Producer } from 'kafkajs';
import type { Logger } from 'pino';
import type { RunningQuery } from '../execution/engine.ts';
import type { OutputRecord } from '../execution/processor.ts';
import type { TopicRecord } from '../execution/topic-io.ts';
import { partitionForKey } from '../execution/topic-io.ts';
import { fromKafkaHeaders, toKafkaHeaders } from './adapters.ts';

export type ProcessingGuarantee = 'at_least_once' | 'exactly_once_v2';

export interface QueryRunnerOptions {
  readonly kafka: Kafka;
  /** Shared producer for at-least-once queries. */
  readonly producer: Producer;
  readonly query: RunningQuery;
  readonly groupId: string;
  readonly offsetReset: 'earliest' | 'latest';
  readonly guarantee: ProcessingGuarantee;
  readonly logger: Logger;
  /** Records processed (for metrics and benchmarks). */
  readonly onProcessed?: (count: number) => void;
}

export interface QueryRunner {
  readonly queryId: string;
  state(): 'RUNNING' | 'ERROR' | 'STOPPED';
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Keyed outputs get their partition here, with the same murmur2 as kafkajs's Java-compatible
 * partitioner but without its 64-bit Long emulation (a tenth of the engine's CPU in profiles).
 */
function toMessage(out: OutputRecord, partitions: number | undefined): Message {
  const partition =
    out.partition ??
    (out.key !== null && partitions !== undefined && partitions > 0
      ? partitionForKey(out.key, partitions)
      : undefined);
  return {
    key: out.key,
    value: out.value,
    timestamp: String(out.timestamp),
    ...(out.headers.length === 0 ? {} : { headers: toKafkaHeaders(out.headers) }),
    ...(partition === undefined ? {} : { partition }),
  };
}

function byTopic(
  outputs: readonly OutputRecord[],
  partitionsOf: (topic: string) => number | undefined,
): { topic: string; messages: Message[] }[] {
  const grouped = new Map<string, Message[]>();
  for (const out of outputs) {
    const message = toMessage(out, partitionsOf(out.topic));
    const list = grouped.get(out.topic);
    if (list) list.push(message);
    else grouped.set(out.topic, [message]);
  }
  return [...grouped].map(([topic, messages]) => ({ topic, messages }));
}

export function createQueryRunner(options: QueryRunnerOptions): QueryRunner {
  const { query, logger } = options;
  const queryId = query.plan.queryId;
  const exactlyOnce = options.guarantee === 'exactly_once_v2';
  let consumer: Consumer | undefined;
  let txProducer: Producer | undefined;
  let state: 'RUNNING' | 'ERROR' | 'STOPPED' = 'STOPPED';
  const flags = { stopping: false };
  // Read through a function: the flag changes while loops await.
  const stopped = (): boolean => flags.stopping;
  let restarting: Promise<void> | undefined;

  const partitionCounts = new Map<string, number>();
  const partitionsOf = (topic: string): number | undefined => partitionCounts.get(topic);

  const run = async (): Promise<void> => {
    // Sink partition counts, for partitioning outputs without asking kafkajs (see toMessage).
    const admin = options.kafka.admin();
    await admin.connect();
    try {
      const sinks = [query.processor.sinkTopic];
      for (const t of (await admin.fetchTopicMetadata({ topics: sinks })).topics)
        partitionCounts.set(t.name, t.partitions.length);
    } catch {
      // unknown: kafkajs partitions those outputs itself
    } finally {
      await admin.disconnect();
    }
    consumer = options.kafka.consumer({
      groupId: options.groupId,
      // ksqlDB reads committed data only under exactly-once; otherwise it reads everything.
      readUncommitted: !exactlyOnce,
      sessionTimeout: 30_000,
      heartbeatInterval: 3000,
      maxWaitTimeInMs: 100,
    });
    if (exactlyOnce) {
      txProducer = options.kafka.producer({
        transactionalId: `${options.groupId}-tx`,
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
      });
      await txProducer.connect();
    }
    consumer.on(consumer.events.CRASH, (event) => {
      const payload = event.payload as { error: unknown; restart: boolean };
      // kafkajs restarts the consumer itself on retriable errors; other crashes are ours to handle.
      if (!payload.restart && !stopped()) restartLater(payload.error);
    });
    await consumer.connect();
    await consumer.subscribe({
      topics: [...query.processor.sourceTopics],
      fromBeginning: options.offsetReset === 'earliest',
    });
    const active = consumer;
    await active.run({
      autoCommit: !exactlyOnce,
      eachBatchAutoResolve: false,
      eachBatch: async (payload) => {
        const { batch } = payload;
        const outputs: OutputRecord[] = [];
        let last: string | undefined;
        for (const message of batch.messages) {
          if (!payload.isRunning() || payload.isStale()) break;
          const record: TopicRecord = {
            topic: batch.topic,
            partition: batch.partition,
            offset: BigInt(message.offset),
            key: message.key,
            value: message.value,
            timestamp: Number(message.timestamp),
            headers: fromKafkaHeaders(message.headers),
          };
          outputs.push(...(await query.processor.process(record)));
          last = message.offset;
        }
        if (last === undefined) return;
        const next = (BigInt(last) + 1n).toString();
        if (exactlyOnce && txProducer) {
          const tx = await txProducer.transaction();
          try {
            if (outputs.length > 0)
              await tx.sendBatch({ acks: -1, topicMessages: byTopic(outputs, partitionsOf) });
            await tx.sendOffsets({
              consumerGroupId: options.groupId,
              topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: next }] }],
            });
            await tx.commit();
          } catch (error) {
            await tx.abort().catch(() => undefined);
            throw error;
          }
        } else if (outputs.length > 0) {
          // Outputs acknowledged before the input offsets move: at least once.
          await options.producer.sendBatch({ acks: -1, topicMessages: byTopic(outputs, partitionsOf) });
        }
        payload.resolveOffset(last);
        options.onProcessed?.(batch.messages.length);
        await payload.heartbeat();
      },
    });
  };

  const restartLater = (error: unknown): void => {
    state = 'ERROR';
    logger.warn(
      { queryId, err: { type: (error as Error).name, message: (error as Error).message } },
      'query failed; restarting',
    );
    restarting ??= (async () => {
      for (let attempt = 1; !stopped(); attempt++) {
        await consumer?.disconnect().catch(() => undefined);
        await txProducer?.disconnect().catch(() => undefined);
        await sleep(Math.min(120_000, 1000 * 2 ** Math.min(attempt, 7)));
        if (stopped()) return;
        try {
          await run();
          state = 'RUNNING';
          restarting = undefined;
          return;
        } catch (e) {
          logger.warn({ queryId, attempt, err: { type: (e as Error).name } }, 'query restart failed');
        }
      }
    })();
  };

  return {
    queryId,
    state: () => state,
    async start() {
      flags.stopping = false;
      state = 'RUNNING'; // while the consumer joins its group, as ksqlDB reports a starting query
      await run();
      state = 'RUNNING';
    },
    async stop() {
      flags.stopping = true;
      state = 'STOPPED';
      await consumer?.disconnect().catch(() => undefined);
      await txProducer?.disconnect().catch(() => undefined);
      await restarting;
    },
  };
}
