/**
 * Consumer lag: for each consumer group, how far its committed offsets are behind the end of the
 * partitions it reads — the tickets service, every ksql query (`_confluent-ksql-…query_…`), dead-letter
 * replay positions (`streamdesk.dlt-replay.…`: dead letters not replayed yet).
 *
 * Lag is counted in offsets, like `kafka-consumer-groups.sh`: on topics written in transactions the
 * commit markers take offsets too, so a group that has read everything can show a small lag there
 * until it commits past the last marker.
 */
import type { Admin } from 'kafkajs';

export interface PartitionLag {
  readonly partition: number;
  /** Next offset the group will read; undefined when it never committed on this partition. */
  readonly committed: bigint | undefined;
  readonly end: bigint;
  /** end − committed (end − start when nothing is committed: everything still to read). */
  readonly lag: bigint;
}

export interface TopicLag {
  readonly topic: string;
  readonly lag: bigint;
  readonly partitions: readonly PartitionLag[];
}

export interface GroupLag {
  readonly groupId: string;
  /** The group's state (Stable, Empty, …). */
  readonly state: string;
  readonly members: number;
  readonly lag: bigint;
  readonly topics: readonly TopicLag[];
}

/**
 * Groups that live for one read of a topic to its end and are deleted again (src/kafka/read-to-end.ts:
 * a ksql command-topic replay, a state restore, a dead-letter read): `<prefix>-<uuid>`.
 */
const THROWAWAY =
  /(replay|-restore|^streamdesk-dlt-read)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface LagOptions {
  /** Only groups whose id passes. */
  readonly filter?: (groupId: string) => boolean;
  /** Also groups with no committed offset on any existing topic. */
  readonly all?: boolean;
}

export async function consumerLag(admin: Admin, options: LagOptions = {}): Promise<GroupLag[]> {
  const { filter } = options;
  const { groups } = await admin.listGroups();
  const ids = groups
    .filter((g) => g.protocolType === 'consumer' || g.protocolType === '')
    .map((g) => g.groupId)
    .filter((id) => !THROWAWAY.test(id))
    .filter((id) => filter === undefined || filter(id))
    .sort();
  if (ids.length === 0) return [];
  const described = new Map((await admin.describeGroups(ids)).groups.map((g) => [g.groupId, g]));
  const existing = new Set(await admin.listTopics());
  const ends = new Map<string, Map<number, { low: bigint; high: bigint }>>();
  const endsOf = async (topic: string): Promise<Map<number, { low: bigint; high: bigint }>> => {
    let m = ends.get(topic);
    if (m === undefined) {
      m = new Map(
        (await admin.fetchTopicOffsets(topic)).map((p) => [
          p.partition,
          { low: BigInt(p.low), high: BigInt(p.high) },
        ]),
      );
      ends.set(topic, m);
    }
    return m;
  };
  const result: GroupLag[] = [];
  for (const groupId of ids) {
    const committed = await admin.fetchOffsets({ groupId });
    const topics: TopicLag[] = [];
    for (const t of committed) {
      // A group keeps offsets of topics deleted since; nothing to be behind on there.
      if (!existing.has(t.topic)) continue;
      const offsets = await endsOf(t.topic);
      const partitions: PartitionLag[] = [];
      for (const [partition, { low, high }] of [...offsets].sort((a, b) => a[0] - b[0])) {
        const c = t.partitions.find((p) => p.partition === partition)?.offset;
        const at = c === undefined || c === '-1' ? undefined : BigInt(c);
        const lag = at === undefined ? high - low : high > at ? high - at : 0n;
        partitions.push({ partition, committed: at, end: high, lag });
      }
      topics.push({ topic: t.topic, lag: partitions.reduce((n, p) => n + p.lag, 0n), partitions });
    }
    // Offsets only of topics deleted since (a finished test, a dropped query): nothing to report.
    if (topics.length === 0 && !options.all) continue;
    const d = described.get(groupId);
    result.push({
      groupId,
      state: d?.state ?? 'Unknown',
      members: d?.members.length ?? 0,
      lag: topics.reduce((n, t) => n + t.lag, 0n),
      topics,
    });
  }
  return result;
}
