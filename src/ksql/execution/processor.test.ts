import { describe, expect, it } from 'vitest';
import { avroType, type AvroSchema } from '../serde/avro.ts';
import { InMemorySchemaRegistry } from '../serde/registry.ts';
import { unwrapWire, wrapWire } from '../serde/serde.ts';
import { createEngine } from './engine.ts';
import type { OutputRecord } from './processor.ts';
import { InMemoryProcessingLog } from './processing-log.ts';
import { InMemoryTopicIO, type TopicRecord } from './topic-io.ts';

async function query(statements: string) {
  const engine = createEngine({
    topics: new InMemoryTopicIO(),
    registry: new InMemorySchemaRegistry(),
    processingLog: new InMemoryProcessingLog(),
    drive: 'external',
  });
  await engine.execute(statements);
  const q = engine.queries().at(-1);
  if (q === undefined) throw new Error('no query');
  return q.processor;
}

const record = (n: number, value: unknown): TopicRecord => ({
  topic: 'in',
  partition: n % 3,
  offset: BigInt(n),
  key: Buffer.from(`k${n % 4}`),
  value: Buffer.from(JSON.stringify(value)),
  timestamp: 1000 + n,
  headers: [],
});

const text = (outs: readonly OutputRecord[]) =>
  outs.map((o) => ({ key: o.key?.toString(), value: o.value?.toString(), timestamp: o.timestamp }));

describe('processSync', () => {
  it('gives what process gives, pseudo columns included, for formats that never wait', async () => {
    const sql = `
      CREATE STREAM S (K STRING KEY, A INT, B STRING) WITH (kafka_topic='in', value_format='JSON', partitions=3);
      CREATE STREAM O AS SELECT K, A * 2 AS A2, UCASE(B) AS B, ROWTIME AS T, ROWPARTITION AS P, ROWOFFSET AS OFF
        FROM S WHERE A > 1;`;
    const sync = await query(sql);
    const async_ = await query(sql);
    const records = [0, 1, 2, 3, 4, 5].map((n) => record(n, { A: n, B: `b${n}` }));
    const viaSync: OutputRecord[] = [];
    for (const r of records) expect(sync.processSync(r, viaSync)).toBe(true);
    const viaProcess: OutputRecord[] = [];
    for (const r of records) viaProcess.push(...(await async_.process(r)));
    expect(text(viaSync)).toEqual(text(viaProcess));
    expect(text(viaSync)[0]).toEqual({
      key: 'k2',
      value: '{"A2":4,"B":"B2","T":1002,"P":2,"OFF":2}',
      timestamp: 1002,
    });
  });

  it('declines (doing nothing) when a format needs the registry', async () => {
    const p = await query(`
      CREATE STREAM S (K STRING KEY, A INT) WITH (kafka_topic='in', value_format='JSON', partitions=1);
      CREATE STREAM O WITH (value_format='AVRO') AS SELECT K, A FROM S;`);
    const into: OutputRecord[] = [];
    expect(p.processSync(record(0, { A: 1 }), into)).toBe(false);
    expect(into).toEqual([]);
    expect(await p.process(record(0, { A: 1 }))).toHaveLength(1);
  });
});

describe('processSync with AVRO (registry-backed)', () => {
  const registry = new InMemorySchemaRegistry();
  const v1 = {
    type: 'record',
    name: 'Click',
    fields: [
      { name: 'PAGE', type: 'string' },
      { name: 'MS', type: 'int' },
    ],
  };
  // An evolved writer schema: a new writer id the query has not read yet.
  const v2 = { ...v1, fields: [...v1.fields, { name: 'REF', type: ['null', 'string'], default: null }] };
  const id1 = registry.registerSync('clicks-value', { schemaType: 'AVRO', schema: JSON.stringify(v1) });
  const id2 = registry.registerSync('clicks-value', { schemaType: 'AVRO', schema: JSON.stringify(v2) });
  const clickType = avroType(v1);
  const clickType2 = avroType(v2);
  const click = (n: number, page: string, v2Writer = false): TopicRecord => ({
    topic: 'clicks',
    partition: 0,
    offset: BigInt(n),
    key: Buffer.from(page),
    value: v2Writer
      ? wrapWire(id2, clickType2.toBuffer({ PAGE: page, MS: n, REF: 'r' }))
      : wrapWire(id1, clickType.toBuffer({ PAGE: page, MS: n })),
    timestamp: 1000 + n,
    headers: [],
  });

  async function avroQuery(sql: string) {
    const engine = createEngine({
      topics: new InMemoryTopicIO(),
      registry,
      processingLog: new InMemoryProcessingLog(),
      drive: 'external',
    });
    await engine.execute(sql);
    const q = engine.queries().at(-1);
    if (q === undefined) throw new Error('no query');
    return { processor: q.processor, decode: writerSchemaReader(registry) };
  }

  /** Reads framed Avro output with its own writer schema. */
  function writerSchemaReader(r: InMemorySchemaRegistry) {
    return async (bytes: Buffer | null): Promise<unknown> => {
      if (bytes === null) return null;
      const { schemaId, payload } = unwrapWire(bytes);
      return avroType(JSON.parse((await r.getById(schemaId)).schema) as AvroSchema).fromBuffer(payload);
    };
  }

  it('runs synchronously once the schemas are loaded, and declines without touching state for a new writer id', async () => {
    const { processor, decode } = await avroQuery(`
      CREATE STREAM CLICKS (PAGE STRING KEY, MS INT) WITH (kafka_topic='clicks', value_format='AVRO', partitions=1);
      CREATE TABLE VIEWS AS SELECT PAGE, COUNT(*) AS N, SUM(MS) AS TOTAL FROM CLICKS GROUP BY PAGE;`);
    const into: OutputRecord[] = [];
    // Nothing loaded yet: declines and does nothing.
    expect(processor.processSync(click(1, 'home'), into)).toBe(false);
    expect(into).toEqual([]);
    into.push(...(await processor.process(click(1, 'home'))));
    // Loaded: the next records need no await.
    expect(processor.processSync(click(2, 'home'), into)).toBe(true);
    expect(processor.processSync(click(3, 'docs'), into)).toBe(true);
    // A record written with a schema id not seen yet declines before counting anything...
    const before = into.length;
    expect(processor.processSync(click(4, 'home', true), into)).toBe(false);
    expect(into).toHaveLength(before);
    // ...and counts once on the async path, after which that id runs synchronously too.
    into.push(...(await processor.process(click(4, 'home', true))));
    expect(processor.processSync(click(5, 'home', true), into)).toBe(true);
    const rows = await Promise.all(
      into.map(async (o) => ({ key: o.key?.toString(), value: await decode(o.value) })),
    );
    expect(rows).toEqual([
      { key: 'home', value: { N: 1n, TOTAL: 1 } },
      { key: 'home', value: { N: 2n, TOTAL: 3 } },
      { key: 'docs', value: { N: 1n, TOTAL: 3 } },
      { key: 'home', value: { N: 3n, TOTAL: 7 } },
      { key: 'home', value: { N: 4n, TOTAL: 12 } },
    ]);
  });

  it('loads the sink schema even when the first records write nothing', async () => {
    const { processor } = await avroQuery(`
      CREATE STREAM CLICKS2 (PAGE STRING KEY, MS INT) WITH (kafka_topic='clicks', value_format='AVRO', partitions=1);
      CREATE STREAM SLOW AS SELECT PAGE, MS FROM CLICKS2 WHERE MS > 100;`);
    expect(await processor.process(click(1, 'home'))).toEqual([]);
    const into: OutputRecord[] = [];
    expect(processor.processSync(click(2, 'home'), into)).toBe(true);
    expect(processor.processSync(click(200, 'home'), into)).toBe(true);
    expect(into).toHaveLength(1);
  });
});
