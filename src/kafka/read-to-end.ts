/**
 * Read topics from the beginning up to the end they had when the read started (the command topic on
 * start, state-store changelogs on restore), in offset order per partition. Works on transactional
 * topics: batches holding only control records or aborted data still advance the position (kafkajs
 * reports them through END_BATCH_PROCESS), so a trailing commit marker does not stall the read.
 */
import { randomUUID } from 'node:crypto';
import type { Admin, Kafka, KafkaMessage } from 'kafkajs';

export interface ReadToEndOptions {
  readonly kafka: Kafka;
  readonly admin: Admin;
  readonly topics: readonly string[];
  /** Skip records of aborted transactions (and wait for open ones to end). */
  readonly readCommitted: boolean;
  /** Group id prefix of the throwaway consumer group (deleted afterwards). */
  readonly groupPrefix: string;
  readonly timeoutMs?: number;
  onMessage(topic: string, partition: number, message: KafkaMessage): void | Promise<void>;
}

/** Returns the number of records read. */
export async function readToEnd(options: ReadToEndOptions): Promise<number> {
  const remaining = new Map<string, bigint>(); // `${topic}/${partition}` → last offset to reach
  for (const topic of options.topics) {
    for (const p of await offsetsOf(options.admin, topic)) {
      const high = BigInt(p.high);
      if (high > BigInt(p.low)) remaining.set(`${topic}/${p.partition}`, high - 1n);
    }
  }
  if (remaining.size === 0) return 0;
  const groupId = `${options.groupPrefix}-${randomUUID()}`;
  const consumer = options.kafka.consumer({
    groupId,
    readUncommitted: !options.readCommitted,
    maxWaitTimeInMs: 100,
    sessionTimeout: 30_000,
  });
  let count = 0;
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [...options.topics], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? 120_000;
      const timer = setTimeout(() => {
        reject(new Error(`timed out after ${timeoutMs} ms reading ${options.topics.join(', ')} to the end`));
      }, timeoutMs);
      const reached = (topic: string, partition: number, offset: string | null): void => {
        const id = `${topic}/${partition}`;
        const target = remaining.get(id);
        if (target === undefined || offset === null || BigInt(offset) < target) return;
        remaining.delete(id);
        if (remaining.size === 0) {
          clearTimeout(timer);
          resolve();
        }
      };
      consumer.on(consumer.events.END_BATCH_PROCESS, (event) => {
        const p = event.payload as { topic: string; partition: number; lastOffset: string | null };
        reached(p.topic, p.partition, p.lastOffset);
      });
      consumer.on(consumer.events.CRASH, (event) => {
        clearTimeout(timer);
        reject((event.payload as { error: Error }).error);
      });
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            for (const message of batch.messages) {
              // Records past the end seen at start belong to the live consumer, not to this read.
              const target = remaining.get(`${batch.topic}/${batch.partition}`);
              if (target === undefined || BigInt(message.offset) > target) break;
              await options.onMessage(batch.topic, batch.partition, message);
              count++;
            }
          },
        })
        .catch((error: unknown) => {
          clearTimeout(timer);
          reject(error instanceof Error ? error : new Error(String(error)));
        });
    });
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await options.admin.deleteGroups([groupId]).catch(() => undefined);
  }
  return count;
}

/** Topic offsets, retried for a while on retriable errors (a new topic's leader not known yet). */
async function offsetsOf(admin: Admin, topic: string): ReturnType<Admin['fetchTopicOffsets']> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await admin.fetchTopicOffsets(topic);
    } catch (error) {
      if (attempt >= 20 || (error as { retriable?: boolean }).retriable !== true) throw error;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
