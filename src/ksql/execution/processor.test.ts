import { describe, expect, it } from 'vitest';
import { InMemorySchemaRegistry } from '../serde/registry.ts';
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
