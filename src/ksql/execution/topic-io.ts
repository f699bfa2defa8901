/**
 * The engine's view of Kafka topics, and an in-memory implementation (tests, QTT). A Kafka adapter
 * implements the same interface over kafkajs. Records with a key land on the partition Kafka's Java
 * client (and kafkajs's DefaultPartitioner) would choose: murmur2(key) mod partitions.
 */

export interface RecordHeader {
  readonly key: string;
  readonly value: Uint8Array | null;
}

/** A record to write; the partition is chosen from the key when not given. */
export interface ProducerRecord {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly timestamp: number;
  readonly headers: readonly RecordHeader[];
  readonly partition?: number;
}

/** A record as stored in a topic. */
export interface TopicRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly timestamp: number;
  readonly headers: readonly RecordHeader[];
}

export interface TopicSpecIO {
  readonly name: string;
  readonly partitions: number;
  readonly replicas: number;
}

export interface TopicIO {
  /** Creates the topic unless it exists (existing topics keep their partition count). */
  createTopic(spec: TopicSpecIO): Promise<void>;
  deleteTopic(name: string): Promise<void>;
  listTopics(): Promise<TopicSpecIO[]>;
  produce(topic: string, record: ProducerRecord): Promise<TopicRecord>;
}

/** Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2), 32-bit signed. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  const m = 0x5bd1e995;
  const r = 24;
  let h = 0x9747b28c ^ length;
  const length4 = Math.floor(length / 4);
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k =
      (data[i4] ?? 0) |
      ((data[i4 + 1] ?? 0) << 8) |
      ((data[i4 + 2] ?? 0) << 16) |
      ((data[i4 + 3] ?? 0) << 24);
    k = Math.imul(k, m);
    k ^= k >>> r;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  const tail = length & ~3;
  const rest = length % 4;
  if (rest === 3) h ^= (data[tail + 2] ?? 0) << 16;
  if (rest >= 2) h ^= (data[tail + 1] ?? 0) << 8;
  if (rest >= 1) {
    h ^= data[tail] ?? 0;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition Kafka's default partitioner picks for a non-null key. */
export function partitionForKey(key: Uint8Array, partitions: number): number {
  return (murmur2(key) & 0x7fffffff) % partitions;
}

interface MemoryTopic {
  readonly spec: TopicSpecIO;
  readonly partitions: TopicRecord[][];
  /** Every record in write order (what a QTT output comparison reads). */
  readonly log: TopicRecord[];
}

export class InMemoryTopicIO implements TopicIO {
  private readonly topics = new Map<string, MemoryTopic>();

  createTopic(spec: TopicSpecIO): Promise<void> {
    if (!this.topics.has(spec.name)) {
      this.topics.set(spec.name, {
        spec,
        partitions: Array.from({ length: Math.max(1, spec.partitions) }, () => []),
        log: [],
      });
    }
    return Promise.resolve();
  }

  deleteTopic(name: string): Promise<void> {
    this.topics.delete(name);
    return Promise.resolve();
  }

  listTopics(): Promise<TopicSpecIO[]> {
    return Promise.resolve([...this.topics.values()].map((t) => t.spec));
  }

  produce(topic: string, record: ProducerRecord): Promise<TopicRecord> {
    let t = this.topics.get(topic);
    if (t === undefined) {
      // Auto-creation, as a broker with auto.create.topics.enable would.
      t = { spec: { name: topic, partitions: 1, replicas: 1 }, partitions: [[]], log: [] };
      this.topics.set(topic, t);
    }
    const count = t.partitions.length;
    const partition =
      record.partition !== undefined && record.partition >= 0 && record.partition < count
        ? record.partition
        : record.key === null
          ? 0
          : partitionForKey(record.key, count);
    const list = t.partitions[partition] as TopicRecord[];
    const stored: TopicRecord = {
      topic,
      partition,
      offset: BigInt(list.length),
      key: record.key,
      value: record.value,
      timestamp: record.timestamp,
      headers: record.headers,
    };
    list.push(stored);
    t.log.push(stored);
    return Promise.resolve(stored);
  }

  /** Every record written to a topic, in write order. */
  records(topic: string): readonly TopicRecord[] {
    return this.topics.get(topic)?.log ?? [];
  }

  has(topic: string): boolean {
    return this.topics.has(topic);
  }
}
