import type { Admin } from 'kafkajs';
import { StreamdeskError } from '../errors.ts';
import { createKafka } from './client.ts';

/** Run `fn` with a connected admin client; a cluster that does not answer is SD_ERR_KAFKA_UNAVAILABLE. */
export async function withAdmin<T>(brokers: readonly string[], fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = createKafka({ brokers, clientId: 'streamdesk-admin', retries: 2 }).admin();
  try {
    await admin.connect();
  } catch (error) {
    throw new StreamdeskError(
      'KAFKA_UNAVAILABLE',
      `Kafka at ${brokers.join(',')} did not answer (${(error as Error).message}); is the stack up? (npm run stack:up)`,
      { cause: error },
    );
  }
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

export interface NewTopic {
  readonly topic: string;
  readonly numPartitions: number;
  readonly replicationFactor: number;
  readonly configEntries?: readonly { name: string; value: string }[];
}

/**
 * Create topics (existing ones are left alone) and wait until every partition has a leader.
 * kafkajs's own `waitForLeaders` gives up on the UNKNOWN_TOPIC_OR_PARTITION a broker answers while
 * KRaft is still propagating a new topic; this polls the metadata instead, tolerating that.
 */
export async function createTopicsReady(
  admin: Admin,
  topics: readonly NewTopic[],
  timeoutMs = 30_000,
): Promise<void> {
  if (topics.length === 0) return;
  await admin.createTopics({
    waitForLeaders: false,
    topics: topics.map((t) => ({ ...t, configEntries: t.configEntries ? [...t.configEntries] : [] })),
  });
  const names = topics.map((t) => t.topic);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: names });
      const ready = metadata.topics.every(
        (t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0),
      );
      if (ready && metadata.topics.length === names.length) return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    if (Date.now() > deadline) {
      throw new StreamdeskError(
        'KAFKA_UNAVAILABLE',
        `topics ${names.join(', ')} have no leaders after ${timeoutMs} ms`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Delete topics and wait until the broker no longer knows them: KRaft acknowledges a deletion before
 * every broker forgot the topic, and a topic of the same name created in that window vanishes.
 */
export async function deleteTopicsGone(
  admin: Admin,
  topics: readonly string[],
  timeoutMs = 30_000,
): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const present = topics.filter((t) => existing.has(t));
  if (present.length === 0) return;
  await admin.deleteTopics({ topics: present, timeout: timeoutMs });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = new Set(await admin.listTopics());
    if (!present.some((t) => left.has(t))) return;
    if (Date.now() > deadline)
      throw new Error(`topics still present ${timeoutMs} ms after deletion: ${present.join(', ')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
