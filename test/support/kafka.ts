import type { Admin, Consumer, Kafka, KafkaMessage } from 'kafkajs';
import { uniqueName } from './env.ts';
import { createTopicsReady } from '../../src/kafka/admin.ts';

const created = new Set<string>();
const createdPrefixes = new Set<string>();

/** Remember a topic this test file made, for `deleteTestTopics`. */
export function trackTopic(topic: string): string {
  created.add(topic);
  return topic;
}

/**
 * Remember every topic whose name starts with `prefix` (a ksql server's internal topics, named after
 * its unique service id: command topic, changelogs of queries the test never names), for
 * `deleteTestTopics`.
 */
export function trackTopicPrefix(prefix: string): void {
  createdPrefixes.add(prefix);
}

/** Delete every topic this test file created or tracked (tests clean up after themselves). */
export async function deleteTestTopics(admin: Admin): Promise<void> {
  const existing = await admin.listTopics();
  const prefixes = [...createdPrefixes];
  const mine = existing.filter((t) => created.has(t) || prefixes.some((p) => t.startsWith(p)));
  if (mine.length > 0) await admin.deleteTopics({ topics: mine, timeout: 30_000 });
  // The consumer groups of those ksql servers' queries go too (their servers have stopped).
  if (prefixes.length > 0) {
    const groups = (await admin.listGroups()).groups
      .map((g) => g.groupId)
      .filter((g) => prefixes.some((p) => g.startsWith(p)));
    if (groups.length > 0) await admin.deleteGroups(groups).catch(() => undefined);
  }
  created.clear();
  createdPrefixes.clear();
}

export async function createTestTopic(admin: Admin, prefix: string, partitions = 1): Promise<string> {
  const topic = trackTopic(uniqueName(prefix));
  await createTopicsReady(admin, [{ topic, numPartitions: partitions, replicationFactor: 1 }]);
  return topic;
}

export interface Received {
  readonly partition: number;
  readonly message: KafkaMessage;
}

/**
 * Run `consumer` on `topic` from the beginning until `count` messages arrived (or `timeoutMs` passed),
 * then stop it. Resolves with what arrived, so a test can assert on exactly-N as well as at-least-N.
 */
export async function consumeUntil(
  consumer: Consumer,
  topic: string,
  count: number,
  options: {
    timeoutMs?: number;
    settleMs?: number;
    autoCommit?: boolean;
    /** Count distinct identities instead of deliveries (a rebalance may deliver a record again). */
    identity?: (received: Received) => string;
  } = {},
): Promise<Received[]> {
  const received: Received[] = [];
  const seen = new Set<string>();
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  await consumer.run({
    autoCommit: options.autoCommit ?? true,
    eachMessage: async ({ partition, message }) => {
      received.push({ partition, message });
      if (options.identity) seen.add(options.identity({ partition, message }));
      if ((options.identity ? seen.size : received.length) >= count) resolveDone();
      return Promise.resolve();
    },
  });
  const timeout = new Promise<void>((r) => setTimeout(r, options.timeoutMs ?? 20_000));
  await Promise.race([done, timeout]);
  // Wait a little longer: a duplicate, if any, would arrive right after the expected records.
  if (options.settleMs) await new Promise((r) => setTimeout(r, options.settleMs));
  await consumer.stop();
  return received;
}

export function groupConsumer(kafka: Kafka, groupId: string, readUncommitted = false): Consumer {
  return kafka.consumer({
    groupId,
    readUncommitted,
    sessionTimeout: 10_000,
    heartbeatInterval: 1000,
    maxWaitTimeInMs: 200,
  });
}

export interface ReadRecord {
  readonly key: string | null;
  readonly value: Buffer | null;
  readonly partition: number;
  readonly timestamp: number;
}

/**
 * Read a topic from the beginning (read_committed) until `expected` records arrived or `timeoutMs`
 * passed, then a little longer (a duplicate would show), and return everything read.
 */
export async function readTopic(
  kafka: Kafka,
  topic: string,
  expected: number,
  timeoutMs = 30_000,
): Promise<ReadRecord[]> {
  const records: ReadRecord[] = [];
  const consumer = kafka.consumer({
    groupId: uniqueName('reader'),
    maxWaitTimeInMs: 100,
    readUncommitted: false,
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      records.push({
        key: message.key?.toString() ?? null,
        value: message.value,
        partition,
        timestamp: Number(message.timestamp),
      });
      return Promise.resolve();
    },
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && records.length < expected) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 500));
  await consumer.disconnect();
  return records;
}
