import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { InMemoryTopicIO, murmur2, partitionForKey } from './topic-io.ts';

describe('partitioning', () => {
  it('matches kafkajs DefaultPartitioner (Java-compatible murmur2) for many keys', () => {
    const partitioner = Partitioners.DefaultPartitioner();
    const partitionMetadata = Array.from({ length: 7 }, (_, i) => ({
      partitionId: i,
      leader: 0,
      partitionErrorCode: 0,
      replicas: [0],
      isr: [0],
    }));
    for (let i = 0; i < 500; i++) {
      const key = Buffer.from(`key-${i}-${'x'.repeat(i % 9)}`);
      const expected = partitioner({ topic: 't', partitionMetadata, message: { key, value: null } });
      expect(partitionForKey(key, 7)).toBe(expected);
    }
  });

  it('hashes the empty key and odd lengths', () => {
    expect(murmur2(new Uint8Array())).toBe(murmur2(Buffer.alloc(0)));
    expect(murmur2(Buffer.from('abc'))).not.toBe(murmur2(Buffer.from('abd')));
  });
});

describe('InMemoryTopicIO', () => {
  it('assigns offsets per partition and keeps write order', async () => {
    const io = new InMemoryTopicIO();
    await io.createTopic({ name: 't', partitions: 3, replicas: 1 });
    const a = await io.produce('t', { key: Buffer.from('a'), value: null, timestamp: 1, headers: [] });
    const b = await io.produce('t', {
      key: Buffer.from('a'),
      value: Buffer.from('v'),
      timestamp: 2,
      headers: [],
    });
    const c = await io.produce('t', { key: null, value: null, timestamp: 3, headers: [], partition: 2 });
    expect(a.partition).toBe(b.partition);
    expect([a.offset, b.offset]).toEqual([0n, 1n]);
    expect(c.partition).toBe(2);
    expect(io.records('t').map((r) => r.timestamp)).toEqual([1, 2, 3]);
    expect((await io.listTopics()).map((t) => [t.name, t.partitions])).toEqual([['t', 3]]);
  });
});
