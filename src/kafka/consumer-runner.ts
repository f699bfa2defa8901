/**
 * A consumer that never stalls its partition on a bad record:
 * - records that cannot be decoded or acted on go to the dead-letter topic with their original
 *   coordinates, the attempt count and the error in headers;
 * - retriable failures (database or registry unavailable...) go to the retry topic, to be consumed
 *   again after a delay carried in a header (non-blocking: a record not yet due pauses only its
 *   retry partition), and to the dead-letter topic after the last attempt;
 * - offsets are committed after the effect, so delivery is at least once: handlers are idempotent;
 * - with `handleBatch`, runs of records are handled together (group commit), falling back to one by
 *   one when a run fails.
 * A failure to write to the retry or dead-letter topic (Kafka down) fails the batch: kafkajs restarts
 * from the last committed offset, nothing is lost.
 */
import { randomUUID } from 'node:crypto';
import type { Consumer, IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import type { SendingProducer } from './renewing-producer.ts';
import type { Logger } from 'pino';
import { isStreamdeskError, StreamdeskError } from '../errors.ts';

export const HEADERS = {
  originalTopic: 'sd-original-topic',
  originalPartition: 'sd-original-partition',
  originalOffset: 'sd-original-offset',
  attempts: 'sd-attempts',
  notBefore: 'sd-retry-not-before',
  errorCode: 'sd-error-code',
  errorMessage: 'sd-error-message',
  failedAt: 'sd-failed-at',
} as const;

export interface RecordMeta {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly attempt: number;
  readonly headers: IHeaders;
}

export type Outcome = 'processed' | 'retried' | 'dead-lettered';

export interface ConsumerRunnerOptions<T> {
  readonly kafka: Kafka;
  readonly producer: SendingProducer;
  readonly groupId: string;
  readonly topic: string;
  readonly retryTopic: string;
  readonly deadLetterTopic: string;
  readonly retryDelaysMs: readonly number[];
  readonly maxAttempts: number;
  readonly concurrency: number;
  readonly logger: Logger;
  readonly now?: () => number;
  decode(value: Buffer | null): Promise<T>;
  handle(value: T, meta: RecordMeta): Promise<void>;
  /**
   * Optional group commit: consecutive decodable records of a partition (first attempts only, up to
   * `maxBatch`) handled together, e.g. in one database transaction. If it throws, nothing of it may
   * have taken effect: each record is then handled alone through `handle`, with the usual retry and
   * dead-letter treatment.
   */
  handleBatch?(items: readonly { value: T; meta: RecordMeta }[]): Promise<void>;
  readonly maxBatch?: number;
  /**
   * How the main consumer fetches: a fetch returns once it has `minBytes` or after `maxWaitTimeInMs`
   * (defaults 1 byte / 250 ms: every fetch returns as soon as anything arrived). Waiting a few ms for
   * more makes longer runs for `handleBatch`, so fewer transactions under load, for that much added
   * latency when traffic is light. The retry consumer keeps the defaults.
   */
  readonly fetch?: { readonly minBytes: number; readonly maxWaitTimeInMs: number };
  onOutcome?(outcome: Outcome, meta: RecordMeta): void;
}

export interface ConsumerRunner {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Errors worth retrying later: marked retriable, or PostgreSQL/network failures that pass. */
export function isRetriable(error: unknown): boolean {
  if (isStreamdeskError(error)) return error.retriable;
  const e = error as { code?: unknown; retriable?: unknown; name?: unknown };
  if (e.retriable === true) return true; // kafkajs
  const code = typeof e.code === 'string' ? e.code : '';
  // PostgreSQL: connection exceptions (08), shutdown (57P), serialization/deadlock (40), out of resources (53).
  if (/^(08|57P|40|53)/.test(code)) return true;
  return (
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND'].includes(code) ||
    /timeout/i.test(String(e.name))
  );
}

function headerString(headers: IHeaders | undefined, name: string): string | undefined {
  const v = headers?.[name];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v[0]?.toString() : v.toString();
}

function safeError(error: unknown): { code: string; message: string } {
  if (isStreamdeskError(error)) return { code: error.code, message: error.message };
  // Foreign messages may quote data: only the class and, for PostgreSQL, its SQLSTATE.
  const code = (error as { code?: unknown }).code;
  return {
    code: 'SD_ERR_UNEXPECTED',
    message: `${(error as Error).name || 'Error'}${typeof code === 'string' ? ` ${code}` : ''}`,
  };
}

export function createConsumerRunner<T>(options: ConsumerRunnerOptions<T>): ConsumerRunner {
  const now = options.now ?? Date.now;
  const consumers: Consumer[] = [];
  const timers = new Set<NodeJS.Timeout>();

  const forward = async (
    message: KafkaMessage,
    meta: RecordMeta,
    error: unknown,
    to: 'retry' | 'dead-letter',
  ): Promise<void> => {
    const first = meta.topic === options.topic;
    const safe = safeError(error);
    const attempts = meta.attempt;
    const delay = options.retryDelaysMs[Math.min(attempts - 1, options.retryDelaysMs.length - 1)] ?? 60_000;
    const headers: IHeaders = {
      ...message.headers,
      [HEADERS.originalTopic]: first
        ? meta.topic
        : (headerString(meta.headers, HEADERS.originalTopic) ?? meta.topic),
      [HEADERS.originalPartition]: first
        ? String(meta.partition)
        : (headerString(meta.headers, HEADERS.originalPartition) ?? String(meta.partition)),
      [HEADERS.originalOffset]: first
        ? meta.offset
        : (headerString(meta.headers, HEADERS.originalOffset) ?? meta.offset),
      [HEADERS.attempts]: String(attempts),
      [HEADERS.errorCode]: safe.code,
      [HEADERS.errorMessage]: safe.message,
      [HEADERS.failedAt]: String(now()),
      'sd-forward-id': randomUUID(),
    };
    if (to === 'retry') headers[HEADERS.notBefore] = String(now() + delay);
    await options.producer.send({
      topic: to === 'retry' ? options.retryTopic : options.deadLetterTopic,
      acks: -1,
      messages: [{ key: message.key, value: message.value, headers, timestamp: message.timestamp }],
    });
    options.logger.warn(
      { topic: meta.topic, partition: meta.partition, offset: meta.offset, attempts, error: safe.code, to },
      to === 'retry' ? 'record failed; retrying later' : 'record moved to the dead-letter topic',
    );
    options.onOutcome?.(to === 'retry' ? 'retried' : 'dead-lettered', meta);
  };

  const processOne = async (message: KafkaMessage, meta: RecordMeta): Promise<void> => {
    try {
      const value = await options.decode(message.value);
      await options.handle(value, meta);
      options.onOutcome?.('processed', meta);
    } catch (error) {
      if (isRetriable(error) && meta.attempt < options.maxAttempts) {
        await forward(message, { ...meta }, error, 'retry');
      } else {
        await forward(message, meta, error, 'dead-letter');
      }
    }
  };

  const consume = async (groupId: string, topic: string, delayed: boolean): Promise<void> => {
    const fetch = delayed ? undefined : options.fetch;
    const consumer = options.kafka.consumer({
      groupId,
      sessionTimeout: 30_000,
      heartbeatInterval: 3000,
      maxWaitTimeInMs: fetch?.maxWaitTimeInMs ?? 250,
      minBytes: fetch?.minBytes ?? 1,
    });
    consumers.push(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      partitionsConsumedConcurrently: options.concurrency,
      eachBatchAutoResolve: false,
      eachBatch: async (payload) => {
        const { batch } = payload;
        const pending: { message: KafkaMessage; meta: RecordMeta }[] = [];
        for (const message of batch.messages) {
          if (!payload.isRunning() || payload.isStale()) break;
          const attempt = delayed ? Number(headerString(message.headers, HEADERS.attempts) ?? '1') + 1 : 1;
          if (delayed) {
            const due = Number(headerString(message.headers, HEADERS.notBefore) ?? '0');
            if (due > now()) {
              // Not yet due: come back to this record when it is, without blocking other partitions.
              consumer.seek({ topic: batch.topic, partition: batch.partition, offset: message.offset });
              const resume = payload.pause();
              const timer = setTimeout(() => {
                timers.delete(timer);
                resume();
              }, due - now());
              timers.add(timer);
              break;
            }
          }
          const meta: RecordMeta = {
            topic: batch.topic,
            partition: batch.partition,
            offset: message.offset,
            attempt,
            headers: message.headers ?? {},
          };
          if (!delayed && options.handleBatch !== undefined) {
            pending.push({ message, meta });
            if (pending.length >= (options.maxBatch ?? 200)) await flushRun();
            continue;
          }
          await processOne(message, meta);
          payload.resolveOffset(message.offset);
          await payload.heartbeat();
        }
        await flushRun();

        async function flushRun(): Promise<void> {
          const run = pending.splice(0);
          // After a rebalance the records are someone else's (or fetched again): leave them.
          if (run.length === 0 || !payload.isRunning() || payload.isStale()) return;
          await processRun(run);
          payload.resolveOffset(run.at(-1)?.meta.offset ?? '');
          await payload.heartbeat();
        }
      },
    });
  };

  /**
   * A run of records: decodable stretches go to `handleBatch` together (falling back to one by one
   * when that fails); an undecodable record between them takes the usual path (dead letter).
   */
  const processRun = async (run: readonly { message: KafkaMessage; meta: RecordMeta }[]): Promise<void> => {
    let segment: { message: KafkaMessage; value: T; meta: RecordMeta }[] = [];
    const flushSegment = async (): Promise<void> => {
      const items = segment;
      segment = [];
      if (items.length === 0) return;
      if (options.handleBatch !== undefined && items.length > 1) {
        try {
          await options.handleBatch(items.map(({ value, meta }) => ({ value, meta })));
          for (const { meta } of items) options.onOutcome?.('processed', meta);
          return;
        } catch {
          // One record of the stretch may be at fault: each gets its own attempt (and outcome).
        }
      }
      for (const { message, meta } of items) await processOne(message, meta);
    };
    for (const { message, meta } of run) {
      let value: T;
      try {
        value = await options.decode(message.value);
      } catch {
        await flushSegment();
        await processOne(message, meta);
        continue;
      }
      segment.push({ message, value, meta });
    }
    await flushSegment();
  };

  return {
    async start() {
      await consume(options.groupId, options.topic, false);
      await consume(`${options.groupId}-retry`, options.retryTopic, true);
    },
    async stop() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await Promise.all(consumers.map((c) => c.disconnect().catch(() => undefined)));
    },
  };
}

/** For handlers: mark an error as not worth retrying (goes straight to the dead-letter topic). */
export function poison(message: string): StreamdeskError {
  return new StreamdeskError('RECORD_INVALID', message);
}
