/**
 * What the ksql benchmarks share: output progress measured from the broker's offsets, bulk input
 * production, and the cleanup of everything a benchmark's ksql runtime leaves on the broker (its
 * command and processing-log topics, changelog topics, consumer groups). Not a benchmark itself
 * (bench/run.ts skips `*-support.ts`).
 */
import type { Admin, Kafka, Producer } from 'kafkajs';
import { commandTopicName, processingLogTopicName } from '../src/ksql/kafka/runtime.ts';

export async function topicTotal(admin: Admin, topic: string): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(topic).catch(() => []);
  return offsets.reduce((n, p) => n + Number(p.high), 0);
}

export interface Progress {
  /** When the topic first held a record. */
  readonly first: number;
  /** When it reached 10% of the expected records. */
  readonly t10: number;
  /** When it reached all of them. */
  readonly t100: number;
}

/** Shortest span a rate is computed over: progress is polled every 20 ms. */
const MIN_SPAN_MS = 200;

/** `count` records over [from, to] as records/s; refuses a span too short to measure. */
export function perSecond(count: number, from: number, to: number): number {
  const span = to - from;
  if (span < MIN_SPAN_MS) {
    throw new Error(
      `a run took only ${span} ms over the span measured (at least ${MIN_SPAN_MS} ms are needed at 20 ms polling): raise --records`,
    );
  }
  return (count / span) * 1000;
}

/**
 * Polls a topic's offsets (every 20 ms) until it holds `expected` records. The rate between 10% and
 * 100% is the steady-state throughput: it leaves out start-up (query planning, group join), which
 * different consumers pay differently.
 */
export async function progress(
  admin: Admin,
  topic: string,
  expected: number,
  timeoutMs: number,
): Promise<Progress> {
  const started = Date.now();
  let first: number | undefined;
  let t10: number | undefined;
  while (Date.now() - started < timeoutMs) {
    const n = await topicTotal(admin, topic);
    const now = Date.now();
    if (first === undefined && n > 0) first = now;
    if (t10 === undefined && n >= expected / 10) t10 = now;
    if (n >= expected) return { first: first ?? now, t10: t10 ?? now, t100: now };
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${topic} did not reach ${expected} records in ${timeoutMs} ms`);
}

/** Produces `count` keyed records (acks=all) in sends of 5000. */
export async function produceRecords(
  producer: Producer,
  topic: string,
  count: number,
  record: (n: number) => { key: string; value: string | Buffer },
): Promise<void> {
  for (let i = 0; i < count; i += 5000) {
    await producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: Math.min(5000, count - i) }, (_, j) => record(i + j)),
    });
  }
}

/**
 * Deletes what a ksql runtime with this service id left on the broker: its command topic, processing
 * log, state-store changelogs and its queries' consumer groups. Call after the runtime stopped. A
 * terminated query's consumer leaves its group in the background, so a group that is not empty yet is
 * tried again (for a few seconds at most).
 */
export async function removeKsqlService(admin: Admin, serviceId: string): Promise<void> {
  const prefix = `_confluent-ksql-${serviceId}`;
  const topics = (await admin.listTopics()).filter(
    (t) =>
      t.startsWith(prefix) || t === commandTopicName(serviceId) || t === processingLogTopicName(serviceId),
  );
  if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => undefined);
  for (let attempt = 0; attempt < 10; attempt++) {
    const groups = (await admin.listGroups()).groups
      .map((g) => g.groupId)
      .filter((g) => g.startsWith(prefix));
    if (groups.length === 0) return;
    try {
      await admin.deleteGroups(groups);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/**
 * Removes a benchmark's topics and its ksql service, with an admin client of its own: the one that
 * polled progress may have been left unable to refresh metadata, and a benchmark must not leave
 * topics behind whatever happened.
 */
export async function cleanUp(kafka: Kafka, topics: readonly string[], serviceId: string): Promise<void> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.deleteTopics({ topics: [...topics] }).catch(() => undefined);
    await removeKsqlService(admin, serviceId).catch(() => undefined);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
