/**
 * Runs one persistent query against Kafka: a consumer group of its own (ksqlDB's
 * `_confluent-ksql-<service id>query_<query id>`), each record through the query's processor, the
 * outputs produced, and only then the input offsets committed — at least once by default. With
 * processing.guarantee=exactly_once_v2 the outputs and the input offsets commit in one Kafka
 * transaction, so a crash produces no duplicate output.
 *
 * Stateful queries (tables, joins, aggregations) write every state-store change to a compacted
 * changelog topic per store (`_confluent-ksql-<service id>query_<query id>-<store>-changelog`), in the
 * same produce as the outputs (the same transaction under exactly-once), and restore their stores from
 * those topics before consuming: after a restart a query continues from the state that matches its
 * committed offsets (under at-least-once, state may include records that are processed again).
 *
 * A processing error (e.g. a sink that cannot serialize) stops the query's consumer and restarts it
 * with backoff from the last committed offsets and the changelog, as ksqlDB restarts failed queries.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin, Consumer, EachBatchPayload, Kafka, Message, Producer, Transaction } from 'kafkajs';
import type { SendingProducer } from '../../kafka/renewing-producer.ts';
import type { Logger } from 'pino';
import type { RunningQuery } from '../execution/engine.ts';
import type { OutputRecord } from '../execution/processor.ts';
import type { ChangelogRecord } from '../execution/state.ts';
import { createTopicsReady } from '../../kafka/admin.ts';
import { transactionalProducerConfig } from '../../kafka/client.ts';
import { readToEnd } from '../../kafka/read-to-end.ts';
import type { TopicRecord } from '../execution/topic-io.ts';
import { partitionForKey } from '../execution/topic-io.ts';
import { fromKafkaHeaders, toKafkaHeaders } from './adapters.ts';

export type ProcessingGuarantee = 'at_least_once' | 'exactly_once_v2';

/** How long stream records wait at most for a join's tables to catch up on start. */
const HOLD_LIMIT_MS = 60_000;

export interface QueryRunnerOptions {
  readonly kafka: Kafka;
  /** Shared producer for at-least-once queries. */
  readonly producer: SendingProducer;
  readonly query: RunningQuery;
  readonly groupId: string;
  readonly offsetReset: 'earliest' | 'latest';
  readonly guarantee: ProcessingGuarantee;
  readonly logger: Logger;
  /** Records processed (for metrics and benchmarks). */
  readonly onProcessed?: (count: number) => void;
  /** The changelog topic of one of the query's state stores. */
  readonly changelogTopic: (store: string) => string;
  /** Replication factor of changelog topics. */
  readonly replicas: number;
  /**
   * Source topics read as tables. When the query starts with a backlog on them, they are caught up
   * before stream records are processed (see `holdStreams`).
   */
  readonly tableTopics?: readonly string[];
  /**
   * Exactly-once: how long a transaction stays open gathering batches (of every partition) before it
   * commits — Kafka Streams' commit.interval.ms, 100 ms under exactly-once. 0 commits every batch.
   */
  readonly commitIntervalMs?: number;
  /** Transactions committed (for tests and metrics). */
  readonly onCommitted?: () => void;
}

export interface QueryRunner {
  readonly queryId: string;
  state(): 'RUNNING' | 'ERROR' | 'STOPPED';
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The changelog topics of the query's stores (deleted when the query is terminated). */
  changelogTopics(): string[];
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
  const message: Message = { key: out.key, value: out.value, timestamp: String(out.timestamp) };
  if (out.headers.length > 0) message.headers = toKafkaHeaders(out.headers);
  if (partition !== undefined) message.partition = partition;
  return message;
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
  // Set when a transaction failed: kafkajs would give the next one the failed batch's sequence
  // numbers, which the broker can take for a duplicate of what it wrote (see kafka/renewing-producer.ts).
  let txProducerSpent = false;
  const newTxProducer = (): Producer =>
    options.kafka.producer(transactionalProducerConfig(`${options.groupId}-tx`));
  const interval = options.commitIntervalMs ?? 100;
  const commitIntervalMs = Number.isFinite(interval) && interval >= 0 ? interval : 100;
  /**
   * The open transaction: it spans batches until commitIntervalMs passed since it began, so the
   * broker writes one set of markers per interval instead of per fetched partition batch (which
   * cost the broker most of its CPU at 500 msg/s). Its input offsets commit with it.
   */
  interface OpenTransaction {
    readonly tx: Transaction;
    readonly began: number;
    /** Input topic → partition → next offset, committed with the transaction. */
    readonly offsets: Map<string, Map<number, string>>;
    timer?: NodeJS.Timeout;
  }
  let open: OpenTransaction | undefined;
  // Transaction work runs one piece at a time: batches and the timer that commits an idle transaction.
  let txQueue: Promise<unknown> = Promise.resolve();
  const serially = <T>(work: () => Promise<T>): Promise<T> => {
    const run = txQueue.then(work);
    txQueue = run.catch(() => undefined);
    return run;
  };
  /** Detach the open transaction (and stop its timer) to commit or abort it. */
  const takeOpen = (): OpenTransaction | undefined => {
    const current = open;
    open = undefined;
    clearTimeout(current?.timer);
    return current;
  };
  /** After a failed produce or commit: abort, and renew the producer before the next transaction. */
  const discard = async (tx: Transaction): Promise<void> => {
    txProducerSpent = true;
    await tx.abort().catch(() => undefined);
  };
  const commitOpen = async (): Promise<void> => {
    const current = takeOpen();
    if (!current) return;
    try {
      await current.tx.sendOffsets({
        consumerGroupId: options.groupId,
        topics: [...current.offsets].map(([topic, partitions]) => ({
          topic,
          partitions: [...partitions].map(([partition, offset]) => ({ partition, offset })),
        })),
      });
      await current.tx.commit();
      options.onCommitted?.();
    } catch (error) {
      if (stores.length > 0) dirty = true;
      await discard(current.tx);
      throw error;
    }
  };
  /** After a failed batch: what the open transaction holds is processed again from the committed offsets. */
  const abortOpen = (): Promise<void> =>
    serially(async () => {
      await takeOpen()
        ?.tx.abort()
        .catch(() => {
          txProducerSpent = true;
        });
    });
  /** A commit that fails outside a batch: restart from the committed offsets (and state). */
  const commitOpenOrRestart = (): void => {
    void serially(commitOpen).catch((error: unknown) => {
      if (!stopped()) restartLater(error);
    });
  };
  let state: 'RUNNING' | 'ERROR' | 'STOPPED' = 'STOPPED';
  const flags = { stopping: false };
  // Read through a function: the flag changes while loops await.
  const stopped = (): boolean => flags.stopping;
  let restarting: Promise<void> | undefined;

  const partitionCounts = new Map<string, number>();
  const partitionsOf = (topic: string): number | undefined => partitionCounts.get(topic);
  const stores = query.processor.stores().map((s) => s.name);
  const changelogOf = new Map(stores.map((store) => [store, options.changelogTopic(store)]));
  const storeOf = new Map([...changelogOf].map(([store, topic]) => [topic, store]));
  // State changes reported while records are processed; produced with the batch's outputs.
  let changes: ChangelogRecord[] = [];
  if (stores.length > 0) query.processor.onChange((record) => void changes.push(record));
  let restored = false;
  let dirty = false;
  const tableTopics = new Set(options.tableTopics ?? []);
  const streamTopics = query.processor.sourceTopics.filter((t) => !tableTopics.has(t));
  /** Table partitions still behind the end they had at start: `${topic}/${partition}` → last offset. */
  const tableBacklog = new Map<string, bigint>();
  let holdingSince = 0;
  let holdTimer: NodeJS.Timeout | undefined;
  let paused = false;

  /**
   * ksqlDB (Kafka Streams) processes the record with the smallest timestamp first across a query's
   * inputs, so on a start with a backlog, table rows older than the stream's records are in the table
   * before those records join. The local engine consumes topics as they come; instead, when a join
   * query starts behind on its table topics, stream records wait (unprocessed, not committed) until
   * the tables reach the end they had at start. Afterwards both flow as they arrive.
   */
  const measureTableBacklog = async (admin: Admin): Promise<void> => {
    tableBacklog.clear();
    clearTimeout(holdTimer);
    paused = false;
    if (tableTopics.size === 0 || streamTopics.length === 0) return;
    const committed = await admin.fetchOffsets({ groupId: options.groupId, topics: [...tableTopics] });
    for (const topic of tableTopics) {
      const ends = await admin.fetchTopicOffsets(topic);
      const done = committed.find((c) => c.topic === topic)?.partitions ?? [];
      for (const p of ends) {
        const position = BigInt(done.find((d) => d.partition === p.partition)?.offset ?? '-1');
        const from =
          position >= 0n ? position : options.offsetReset === 'earliest' ? BigInt(p.low) : BigInt(p.high);
        if (from < BigInt(p.high)) tableBacklog.set(`${topic}/${p.partition}`, BigInt(p.high) - 1n);
      }
    }
    holdingSince = tableBacklog.size > 0 ? Date.now() : 0;
    if (tableBacklog.size > 0)
      logger.info({ queryId, partitions: tableBacklog.size }, 'catching up tables before streams');
  };

  const tableProgress = (topic: string, partition: number, offset: string | null): void => {
    const id = `${topic}/${partition}`;
    const target = tableBacklog.get(id);
    if (target === undefined || offset === null || BigInt(offset) < target) return;
    tableBacklog.delete(id);
    if (tableBacklog.size === 0) releaseStreams();
  };

  const releaseStreams = (): void => {
    tableBacklog.clear();
    holdingSince = 0;
    clearTimeout(holdTimer);
    if (paused) consumer?.resume(streamTopics.map((topic) => ({ topic })));
    paused = false;
  };

  const holdTooLong = (): boolean => {
    if (Date.now() - holdingSince <= HOLD_LIMIT_MS) return false;
    logger.warn({ queryId }, 'tables did not catch up within 60 s; processing streams anyway');
    releaseStreams();
    return true;
  };

  /** Whether a stream batch must wait for the tables (pausing the stream topics meanwhile). */
  const holdStreams = (topic: string): boolean => {
    if (tableBacklog.size === 0 || tableTopics.has(topic)) return false;
    if (holdTooLong()) return false;
    if (!paused) {
      consumer?.pause(streamTopics.map((t) => ({ topic: t })));
      paused = true;
    }
    return true;
  };

  const changelogOutputs = (records: readonly ChangelogRecord[]): OutputRecord[] =>
    records.map((r) => ({
      topic: changelogOf.get(r.store) ?? '',
      key: r.key,
      value: r.value,
      timestamp: r.timestamp,
      headers: [],
    }));

  /** Create the changelog topics (compacted; as many partitions as the widest source) if missing. */
  /** Returns whether every changelog topic was created now (so there is nothing to restore). */
  const ensureChangelogs = async (admin: Admin): Promise<boolean> => {
    const sources = await admin.fetchTopicMetadata({ topics: [...query.processor.sourceTopics] });
    const partitions = Math.max(1, ...sources.topics.map((t) => t.partitions.length));
    const existing = new Set(await admin.listTopics());
    const missing = [...changelogOf.values()].filter((topic) => !existing.has(topic));
    await createTopicsReady(
      admin,
      missing.map((topic) => ({
        topic,
        numPartitions: partitions,
        replicationFactor: options.replicas,
        configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
      })),
    );
    return missing.length === changelogOf.size;
  };

  /**
   * Bring the stores to what their changelogs hold. After a failed run the stores may hold changes
   * that were never committed: they are emptied and rebuilt the same way.
   */
  const restore = async (admin: Admin): Promise<void> => {
    if (restored) query.processor.reset();
    changes = [];
    const started = Date.now();
    const count = await readToEnd({
      kafka: options.kafka,
      admin,
      topics: [...changelogOf.values()],
      readCommitted: exactlyOnce,
      groupPrefix: `${options.groupId}-restore`,
      onMessage: (topic, _partition, message) => {
        const store = storeOf.get(topic);
        if (store !== undefined && message.key !== null)
          query.processor.restore(store, message.key, message.value);
      },
    });
    restored = true;
    logger.info({ queryId, records: count, ms: Date.now() - started }, 'state stores restored');
  };

  const withAdmin = async (work: (admin: Admin) => Promise<void>): Promise<void> => {
    const admin = options.kafka.admin();
    await admin.connect();
    try {
      await work(admin);
    } finally {
      await admin.disconnect();
    }
  };

  const run = async (): Promise<void> => {
    dirty = false;
    await withAdmin(async (admin) => {
      // Sink partition counts, for partitioning outputs without asking kafkajs (see toMessage).
      const sinks = [query.processor.sinkTopic, ...changelogOf.values()];
      const fresh = stores.length > 0 && (await ensureChangelogs(admin));
      try {
        for (const t of (await admin.fetchTopicMetadata({ topics: sinks })).topics)
          partitionCounts.set(t.name, t.partitions.length);
      } catch {
        // unknown: kafkajs partitions those outputs itself
      }
      if (exactlyOnce) {
        // Connecting a transactional producer fences an earlier incarnation and aborts its open
        // transaction, so the read_committed restore below is not held up by it.
        takeOpen(); // its producer is gone: the broker aborts what it held
        txProducer = newTxProducer();
        txProducerSpent = false;
        await txProducer.connect();
      }
      if (stores.length > 0 && !(fresh && !restored)) await restore(admin);
      await measureTableBacklog(admin);
    });
    consumer = options.kafka.consumer({
      groupId: options.groupId,
      // ksqlDB reads committed data only under exactly-once; otherwise it reads everything.
      readUncommitted: !exactlyOnce,
      sessionTimeout: 30_000,
      heartbeatInterval: 3000,
      maxWaitTimeInMs: 100,
    });
    consumer.on(consumer.events.END_BATCH_PROCESS, (event) => {
      // Also reports batches that held only control records (transaction markers).
      const p = event.payload as {
        topic: string;
        partition: number;
        lastOffset: string | null;
        batchSize: number;
      };
      if (p.batchSize === 0) tableProgress(p.topic, p.partition, p.lastOffset);
    });
    const joining = consumer;
    consumer.on(consumer.events.GROUP_JOIN, () => {
      // Stream records fetched before the tables are in would only be held and fetched again
      // (holdStreams): leave them on the broker until then. (Emitted before the first fetch.) No
      // stream batch comes to notice a hold that lasts too long, so a timer does.
      if (tableBacklog.size > 0 && streamTopics.length > 0) {
        joining.pause(streamTopics.map((topic) => ({ topic })));
        paused = true;
        clearTimeout(holdTimer);
        holdTimer = setTimeout(holdTooLong, Math.max(0, HOLD_LIMIT_MS + 1 - (Date.now() - holdingSince)));
        holdTimer.unref();
      }
    });
    // Partitions may move: what was processed for them commits first (best effort, as Kafka Streams
    // commits on revocation).
    if (exactlyOnce) consumer.on(consumer.events.REBALANCING, commitOpenOrRestart);
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
        if (dirty) {
          // A batch failed after changing state: start again from what the changelogs hold.
          await withAdmin(restore);
          dirty = false;
        }
        if (holdStreams(payload.batch.topic)) return;
        try {
          await processBatch(payload);
        } catch (error) {
          if (stores.length > 0) dirty = true;
          changes = [];
          await abortOpen();
          throw error;
        }
      },
    });
  };

  const processBatch = async (payload: EachBatchPayload): Promise<void> => {
    const { batch } = payload;
    const outputs: OutputRecord[] = [];
    let last: string | undefined;
    let processed = 0;
    // Whether the consumer may have stopped or been asked to seek since the last check: only while
    // awaiting, so records processed synchronously one after another need one check between them.
    let mayHaveMoved = true;
    for (const message of batch.messages) {
      if (mayHaveMoved) {
        if (!payload.isRunning() || payload.isStale()) break;
        mayHaveMoved = false;
      }
      const record: TopicRecord = {
        topic: batch.topic,
        partition: batch.partition,
        offset: BigInt(message.offset),
        key: message.key,
        value: message.value,
        timestamp: Number(message.timestamp),
        headers: fromKafkaHeaders(message.headers),
      };
      if (!query.processor.processSync(record, outputs)) {
        for (const out of await query.processor.process(record)) outputs.push(out);
        mayHaveMoved = true;
      }
      last = message.offset;
      processed++;
    }
    if (changes.length > 0) {
      outputs.push(...changelogOutputs(changes));
      changes = [];
    }
    if (last === undefined) return;
    const next = (BigInt(last) + 1n).toString();
    if (exactlyOnce && txProducer) {
      const started = txProducer;
      await serially(async () => {
        // Read when this turn comes: an earlier one may have renewed the producer.
        let producer = txProducer ?? started;
        if (!open && txProducerSpent) {
          // A new incarnation registers the transactional id again: a new epoch, numbered afresh.
          await producer.disconnect().catch(() => undefined);
          txProducer = producer = newTxProducer();
          await producer.connect();
          txProducerSpent = false;
        }
        const current: OpenTransaction = (open ??= {
          tx: await producer.transaction(),
          began: Date.now(),
          offsets: new Map<string, Map<number, string>>(),
        });
        try {
          if (outputs.length > 0)
            await current.tx.sendBatch({ acks: -1, topicMessages: byTopic(outputs, partitionsOf) });
        } catch (error) {
          takeOpen();
          await discard(current.tx);
          throw error;
        }
        let partitions = current.offsets.get(batch.topic);
        if (!partitions) current.offsets.set(batch.topic, (partitions = new Map<number, string>()));
        partitions.set(batch.partition, next);
        const age = Date.now() - current.began;
        if (age >= commitIntervalMs) await commitOpen();
        else current.timer ??= setTimeout(commitOpenOrRestart, commitIntervalMs - age);
      });
    } else if (outputs.length > 0) {
      // Outputs acknowledged before the input offsets move: at least once.
      await options.producer.sendBatch({ acks: -1, topicMessages: byTopic(outputs, partitionsOf) });
    }
    payload.resolveOffset(last);
    tableProgress(batch.topic, batch.partition, last);
    options.onProcessed?.(processed);
    await payload.heartbeat();
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
    changelogTopics: () => [...changelogOf.values()],
    async start() {
      flags.stopping = false;
      state = 'RUNNING'; // while the consumer joins its group, as ksqlDB reports a starting query
      try {
        await run();
      } catch (error) {
        // e.g. a topic created a moment ago whose leader the broker does not know yet: retried.
        restartLater(error);
      }
    },
    async stop() {
      flags.stopping = true;
      state = 'STOPPED';
      clearTimeout(holdTimer);
      await consumer?.disconnect().catch(() => undefined);
      // What the processed batches produced commits now rather than being processed again.
      await serially(commitOpen).catch(() => undefined);
      await txProducer?.disconnect().catch(() => undefined);
      await restarting;
    },
  };
}
