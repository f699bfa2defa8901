/**
 * The local ksql engine on the real broker and registry: a single-node server's core. Statements
 * that change the metastore or start/stop queries are written to the command topic
 * (`_confluent-ksql-<service id>_command_topic`) before they are applied, and replayed in order on
 * start, so persistent queries resume after a restart from their committed offsets.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Partitioners, type Admin, type ISocketFactory, type Kafka, type ProducerConfig } from 'kafkajs';
import type { Logger } from 'pino';
import { createKafka } from '../../kafka/client.ts';
import { createRenewingProducer, warnOnRenewal } from '../../kafka/renewing-producer.ts';
import { createRegistryClient } from '../../registry/client.ts';
import { createEngine, type Engine, type StatementResult } from '../execution/engine.ts';
import { KsqlError } from '../errors.ts';
import { parseStatements, splitStatements } from '../parser/parser.ts';
import type { KsqlPlan } from '../planner/steps.ts';
import { createKafkaProcessingLog, createKafkaTopicIO, createRegistryPort } from './adapters.ts';
import { changelogTopicName } from '../execution/state.ts';
import { readToEnd } from '../../kafka/read-to-end.ts';
import { createQueryRunner, type ProcessingGuarantee, type QueryRunner } from './query-runner.ts';
import { createTopicsReady, deleteTopicsGone } from '../../kafka/admin.ts';

export interface KsqlRuntimeConfig {
  readonly brokers: readonly string[];
  readonly registryUrl: string;
  /** ksql.service.id: prefixes the command topic, processing log and query consumer groups. */
  readonly serviceId: string;
  /** Replication for the command topic and for topics created without REPLICAS. */
  readonly replicas: number;
  /** Server-level ksql.* / streams properties (defaults for every statement). */
  readonly properties?: Readonly<Record<string, string>>;
  /** How broker connections are opened (tests inject faults between the engine and the broker). */
  readonly socketFactory?: ISocketFactory;
}

export type Command =
  | {
      readonly version: 1;
      readonly type: 'plan';
      readonly plan: KsqlPlan;
      readonly properties: Record<string, string>;
    }
  | { readonly version: 1; readonly type: 'terminate'; readonly queryId: string | null };

export interface Session {
  readonly variables?: Record<string, string>;
  readonly properties?: Record<string, string>;
}

export interface KsqlRuntime {
  readonly engine: Engine;
  readonly serviceId: string;
  readonly kafka: Kafka;
  readonly admin: Admin;
  readonly registryPort: ReturnType<typeof createRegistryPort>;
  /** Offset of the last command written or replayed (ksqlDB's commandSequenceNumber). */
  commandSequence(): number;
  clusterId(): Promise<string>;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Run statements: DDL/queries/TERMINATE persisted to the command topic first. */
  execute(sql: string, session?: Session): Promise<(StatementResult & { commandSequenceNumber?: number })[]>;
  queryState(queryId: string): 'RUNNING' | 'ERROR' | 'STOPPED' | undefined;
  /** Records processed by persistent queries since start. */
  processed(): number;
  /** Transactions committed by exactly-once persistent queries since start. */
  transactions(): number;
}

/**
 * Idempotent, acks=all, retrying until the broker answers (as idempotence requires): query outputs
 * wait out a broker outage instead of failing; the Java-compatible partitioner keeps keys where
 * ksqlDB would put them (co-partitioned joins depend on it).
 */
const ENGINE_PRODUCER: ProducerConfig = {
  idempotent: true,
  maxInFlightRequests: 1,
  createPartitioner: Partitioners.DefaultPartitioner,
  allowAutoTopicCreation: false,
  retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 100, maxRetryTime: 2000 },
};

export function commandTopicName(serviceId: string): string {
  return `_confluent-ksql-${serviceId}_command_topic`;
}

export function processingLogTopicName(serviceId: string): string {
  return `${serviceId}ksql_processing_log`;
}

const MUTATING = new Set(['CreateSource', 'CreateAsSelect', 'InsertInto', 'DropSource']);

function substitute(text: string, variables: Readonly<Record<string, string>>): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_@]*)\}/g, (m, name: string) => variables[name] ?? m);
}

export function createKsqlRuntime(config: KsqlRuntimeConfig, logger: Logger): KsqlRuntime {
  const kafka = createKafka({
    brokers: config.brokers,
    clientId: `streamdesk-ksql-${config.serviceId}`,
    ...(config.socketFactory && { socketFactory: config.socketFactory }),
    log: (level, message) => logger[level]({ component: 'kafkajs' }, message),
  });
  const admin = kafka.admin();
  const producer = createRenewingProducer(() => kafka.producer(ENGINE_PRODUCER), warnOnRenewal(logger));
  const registry = createRegistryClient(config.registryUrl, 10_000);
  const registryPort = createRegistryPort(registry);
  const commandTopic = commandTopicName(config.serviceId);
  const logTopic = processingLogTopicName(config.serviceId);
  const processingLog = createKafkaProcessingLog(producer, logTopic, () => undefined);
  const runners = new Map<string, QueryRunner>();
  const queryProperties = new Map<string, Record<string, string>>();
  const baseProperties: Record<string, string> = { ...(config.properties ?? {}) };
  let sequence = -1;
  let processedCount = 0;
  let transactionCount = 0;
  let starting: Promise<void> | undefined;

  const engine = createEngine({
    topics: createKafkaTopicIO({ admin, producer, defaultReplicas: config.replicas }),
    registry: registryPort,
    processingLog,
    drive: 'external',
    config: baseProperties,
    events: {
      queryStarted(query) {
        const props = { ...baseProperties, ...(queryProperties.get(query.plan.queryId) ?? {}) };
        const guarantee: ProcessingGuarantee =
          props['processing.guarantee'] === 'exactly_once_v2' ||
          props['processing.guarantee'] === 'exactly_once'
            ? 'exactly_once_v2'
            : 'at_least_once';
        const commitInterval = props['commit.interval.ms'] ?? props['ksql.streams.commit.interval.ms'];
        const runner = createQueryRunner({
          kafka,
          producer,
          query,
          groupId: `_confluent-ksql-${config.serviceId}query_${query.plan.queryId}`,
          // ksqlDB's default for new queries is the end of the topic; SET 'auto.offset.reset'='earliest' reads it all.
          offsetReset: props['auto.offset.reset'] === 'earliest' ? 'earliest' : 'latest',
          guarantee,
          // Kafka Streams' commit.interval.ms, settable per query (the runner's default: 100 ms).
          ...(commitInterval !== undefined && { commitIntervalMs: Number(commitInterval) }),
          logger,
          onProcessed: (n) => (processedCount += n),
          onCommitted: () => {
            transactionCount++;
          },
          changelogTopic: (store) => changelogTopicName(query.plan.queryId, store, config.serviceId),
          replicas: config.replicas,
          tableTopics: query.plan.sources.flatMap((name) => {
            const source = engine.metastore.getSource(name);
            return source?.type === 'TABLE' ? [source.topic] : [];
          }),
        });
        runners.set(query.plan.queryId, runner);
        // Queries start in the background: statement execution does not wait for group joins.
        starting = (starting ?? Promise.resolve()).then(() =>
          runner.start().catch((error: unknown) => {
            logger.error(
              {
                queryId: query.plan.queryId,
                err: { type: (error as Error).name, message: (error as Error).message },
              },
              'query did not start',
            );
          }),
        );
      },
      queryStopped(queryId) {
        // Terminated (runtime.stop() removes the runners before the engine closes): its internal
        // topics go with it, as in ksqlDB.
        const runner = runners.get(queryId);
        if (runner === undefined) return;
        runners.delete(queryId);
        void runner.stop().then(async () => {
          const topics = runner.changelogTopics();
          if (topics.length > 0) await deleteTopicsGone(admin, topics).catch(() => undefined);
        });
      },
    },
  });

  const append = async (command: Command, key: string): Promise<number> => {
    const [meta] = await producer.send({
      topic: commandTopic,
      acks: -1,
      messages: [{ key, value: JSON.stringify(command) }],
    });
    sequence = Number(meta?.baseOffset ?? sequence + 1);
    return sequence;
  };

  const applyCommand = async (command: Command): Promise<StatementResult> => {
    if (command.type === 'plan') {
      if (command.plan.query) queryProperties.set(command.plan.query.queryId, command.properties);
      return engine.executePlan(command.plan);
    }
    const [result] = await engine.execute(
      command.queryId === null ? 'TERMINATE ALL;' : `TERMINATE ${command.queryId};`,
    );
    if (!result) throw new KsqlError('statement', 'TERMINATE returned nothing');
    return result;
  };

  /** Read the whole command topic and apply it in order. */
  const replay = async (): Promise<number> => {
    const commands: { offset: number; command: Command }[] = [];
    await readToEnd({
      kafka,
      admin,
      topics: [commandTopic],
      readCommitted: false,
      groupPrefix: `${config.serviceId}replay`,
      onMessage: (_topic, _partition, message) => {
        commands.push({
          offset: Number(message.offset),
          command: JSON.parse(message.value?.toString() ?? '{}') as Command,
        });
      },
    });
    for (const { offset, command } of commands.sort((a, b) => a.offset - b.offset)) {
      try {
        await applyCommand(command);
      } catch (error) {
        // A command that cannot be applied any more (e.g. its topic was deleted by hand) is skipped, as ksqlDB does.
        logger.warn(
          { offset, err: { type: (error as Error).name, message: (error as Error).message } },
          'command not replayed',
        );
      }
      sequence = offset;
    }
    return commands.length;
  };

  const ensureInfrastructure = async (): Promise<void> => {
    const existing = new Set(await admin.listTopics());
    const topics = [];
    if (!existing.has(commandTopic)) {
      topics.push({
        topic: commandTopic,
        numPartitions: 1,
        replicationFactor: config.replicas,
        configEntries: [
          { name: 'retention.ms', value: '-1' },
          { name: 'cleanup.policy', value: 'delete' },
        ],
      });
    }
    if (!existing.has(logTopic))
      topics.push({ topic: logTopic, numPartitions: 1, replicationFactor: config.replicas });
    await createTopicsReady(admin, topics);
  };

  const runtime: KsqlRuntime = {
    engine,
    serviceId: config.serviceId,
    kafka,
    admin,
    registryPort,
    commandSequence: () => sequence,
    async clusterId() {
      return (await admin.describeCluster()).clusterId;
    },
    async start() {
      await admin.connect();
      await producer.connect();
      await ensureInfrastructure();
      const replayed = await replay();
      logger.info({ commands: replayed, queries: engine.queries().length }, 'command topic replayed');
      if (engine.metastore.getSource('KSQL_PROCESSING_LOG') === undefined) {
        await runtime.execute(
          `CREATE STREAM KSQL_PROCESSING_LOG (LOGGER STRING, LEVEL STRING, TIME BIGINT, MESSAGE STRUCT<\`TYPE\` STRING, \`ERRORMESSAGE\` STRING, \`TOPIC\` STRING, \`PARTITION\` INT, \`OFFSET\` BIGINT>) WITH (KAFKA_TOPIC='${logTopic}', VALUE_FORMAT='JSON');`,
        );
      }
    },
    async stop() {
      await starting;
      await Promise.all([...runners.values()].map((r) => r.stop()));
      runners.clear();
      await engine.close();
      await producer.disconnect().catch(() => undefined);
      await admin.disconnect().catch(() => undefined);
    },
    async execute(sql, session = {}) {
      const variables = session.variables ?? {};
      const properties = session.properties ?? {};
      const results: (StatementResult & { commandSequenceNumber?: number })[] = [];
      for (const piece of splitStatements(sql)) {
        const parsed = parseStatements(substitute(piece, variables));
        for (const { statement, text } of parsed) {
          if (MUTATING.has(statement.kind)) {
            const plans = await engine.plan(text, { variables, properties });
            if (plans.length === 0) {
              results.push({
                type: 'warning_entity',
                statementText: text,
                message: 'Statement had no effect (already exists / does not exist).',
              });
              continue;
            }
            for (const plan of plans) {
              const command: Command = { version: 1, type: 'plan', plan, properties: { ...properties } };
              const offset = await append(command, plan.query?.queryId ?? plan.statementText.slice(0, 200));
              results.push({ ...(await applyCommand(command)), commandSequenceNumber: offset });
            }
          } else if (statement.kind === 'Terminate') {
            const id = statement.all ? null : (statement.queryId ?? '');
            if (id !== null && !engine.queries().some((q) => q.plan.queryId === id)) {
              throw new KsqlError('statement', `Unknown queryId: ${id}`);
            }
            const command: Command = { version: 1, type: 'terminate', queryId: id };
            const offset = await append(command, `terminate/${id ?? 'all'}/execute`);
            results.push({ ...(await applyCommand(command)), commandSequenceNumber: offset });
          } else {
            results.push(...(await engine.execute(text, { variables, properties })));
          }
        }
      }
      return results;
    },
    queryState: (queryId) => runners.get(queryId)?.state(),
    processed: () => processedCount,
    transactions: () => transactionCount,
  };
  return runtime;
}

/** Wait until every query's consumer has joined its group (tests, benchmarks). */
export async function settle(ms = 500): Promise<void> {
  await sleep(ms);
}
