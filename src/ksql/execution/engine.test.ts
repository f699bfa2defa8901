import { describe, expect, it } from 'vitest';
import { KsqlError } from '../errors.ts';
import type { KsqlPlan } from '../planner/steps.ts';
import { InMemorySchemaRegistry } from '../serde/registry.ts';
import { createEngine, type Engine } from './engine.ts';
import { InMemoryProcessingLog } from './processing-log.ts';
import { InMemoryTopicIO } from './topic-io.ts';

function setup(config: Record<string, string> = {}): {
  engine: Engine;
  topics: InMemoryTopicIO;
  log: InMemoryProcessingLog;
  registry: InMemorySchemaRegistry;
} {
  const topics = new InMemoryTopicIO();
  const log = new InMemoryProcessingLog();
  const registry = new InMemorySchemaRegistry();
  const engine = createEngine({ topics, registry, processingLog: log, config, clock: () => 42 });
  return { engine, topics, log, registry };
}

const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));
const values = (topics: InMemoryTopicIO, topic: string): unknown[] =>
  topics.records(topic).map((r) => (r.value === null ? null : (JSON.parse(r.value.toString()) as unknown)));

describe('engine', () => {
  it('runs a stream query: projection, filter, functions, key and timestamp propagation', async () => {
    const { engine, topics } = setup();
    await engine.execute(`
      CREATE STREAM orders (id STRING KEY, amount INT, customer STRING)
        WITH (kafka_topic='orders', value_format='JSON', partitions=2);
      CREATE STREAM big AS SELECT id, UCASE(customer) AS who, amount * 2 AS doubled FROM orders WHERE amount > 10;
    `);
    await engine.produce('orders', {
      key: Buffer.from('o1'),
      value: json({ amount: 5, customer: 'a' }),
      timestamp: 1,
      headers: [],
    });
    await engine.produce('orders', {
      key: Buffer.from('o2'),
      value: json({ AMOUNT: 50, customer: 'bob' }),
      timestamp: 2,
      headers: [],
    });
    const out = topics.records('BIG');
    expect(out).toHaveLength(1);
    expect(out[0]?.key?.toString()).toBe('o2');
    expect(out[0]?.timestamp).toBe(2);
    expect(values(topics, 'BIG')).toEqual([{ WHO: 'BOB', DOUBLED: 100 }]);
    expect((await topics.listTopics()).find((t) => t.name === 'BIG')?.partitions).toBe(2);
  });

  it('re-keys with PARTITION BY and chains queries', async () => {
    const { engine, topics } = setup();
    await engine.execute(`
      CREATE STREAM s (k STRING KEY, region STRING, n INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
      CREATE STREAM by_region AS SELECT region, k, n FROM s PARTITION BY region;
      CREATE STREAM doubled AS SELECT region, n * 2 AS n2 FROM by_region;
    `);
    await engine.produce('s', {
      key: Buffer.from('x'),
      value: json({ region: 'eu', n: 3 }),
      timestamp: 7,
      headers: [],
    });
    expect(topics.records('BY_REGION')[0]?.key?.toString()).toBe('eu');
    expect(values(topics, 'BY_REGION')).toEqual([{ K: 'x', N: 3 }]);
    expect(values(topics, 'DOUBLED')).toEqual([{ N2: 6 }]);
  });

  it('stores plans as JSON that a fresh engine replays identically (command topic)', async () => {
    const first = setup();
    const sql = `
      CREATE STREAM src (k INT KEY, v DECIMAL(5, 2), big BIGINT) WITH (kafka_topic='src', value_format='JSON', partitions=1);
      CREATE STREAM dst AS SELECT k, v * 2 AS v2, big + 1 AS b FROM src WHERE v > 1.00;
    `;
    await first.engine.execute(sql);
    const stored = JSON.stringify(first.engine.executedPlans());
    const plans = JSON.parse(stored) as KsqlPlan[];
    expect(plans.map((p) => p.version)).toEqual([2, 2]);
    expect(plans[1]?.query?.queryId).toBe('CSAS_DST_0');

    const second = setup();
    for (const plan of plans) await second.engine.executePlan(plan);
    const key = Buffer.alloc(4);
    key.writeInt32BE(3);
    const record = {
      key,
      value: Buffer.from('{"V": 1.50, "BIG": 9007199254740993}'),
      timestamp: 5,
      headers: [],
    };
    await first.engine.produce('src', record);
    await second.engine.produce('src', record);
    const a = first.topics.records('DST').map((r) => r.value?.toString());
    const b = second.topics.records('DST').map((r) => r.value?.toString());
    expect(a).toEqual(['{"V2":3.00,"B":9007199254740994}']);
    expect(b).toEqual(a);
  });

  it('substitutes DEFINE variables and applies SET properties', async () => {
    const { engine, topics } = setup();
    const variables: Record<string, string> = {};
    const properties: Record<string, string> = {};
    await engine.execute(
      `DEFINE topic = 'in';
       SET 'ksql.persistence.default.format.value' = 'JSON';
       CREATE STREAM s (v STRING) WITH (kafka_topic='\${topic}', partitions=1);
       CREATE STREAM t AS SELECT * FROM s;`,
      { variables, properties },
    );
    expect(variables).toEqual({ topic: 'in' });
    expect(engine.metastore.getSource('S')?.topic).toBe('in');
    expect(engine.metastore.getSource('T')?.formats.value.format).toBe('JSON');
    await engine.produce('in', { key: null, value: json({ V: 'x' }), timestamp: 0, headers: [] });
    expect(values(topics, 'T')).toEqual([{ V: 'x' }]);
  });

  it('lists, describes, terminates and drops', async () => {
    const { engine, topics } = setup();
    await engine.execute(`
      CREATE STREAM s (k STRING KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
      CREATE STREAM t AS SELECT * FROM s;
    `);
    const [streams] = await engine.execute('SHOW STREAMS;');
    expect(streams?.type === 'streams' ? streams.sources.map((s) => s.name).sort() : []).toEqual(['S', 'T']);
    const [desc] = await engine.execute('DESCRIBE t;');
    expect(desc?.type === 'sourceDescription' ? desc.source.schema : '').toBe('K STRING KEY, V INTEGER');
    expect(desc?.type === 'sourceDescription' ? desc.source.writeQueries : []).toEqual(['CSAS_T_0']);
    await expect(engine.execute('DROP STREAM s;')).rejects.toThrow(
      'The following queries read from this source: [CSAS_T_0]',
    );
    await engine.execute('TERMINATE CSAS_T_0;');
    expect(engine.queries()).toEqual([]);
    await engine.execute('DROP STREAM t DELETE TOPIC; DROP STREAM s;');
    expect(engine.metastore.allSources()).toEqual([]);
    expect(topics.has('T')).toBe(false);
    await expect(engine.execute('TERMINATE nope;')).rejects.toThrow('Unknown queryId: NOPE');
  });

  it('inserts values through the source serdes', async () => {
    const { engine, topics } = setup();
    await engine.execute(`
      CREATE STREAM s (k STRING KEY, v INT, d DOUBLE) WITH (kafka_topic='s', value_format='JSON', partitions=1);
      INSERT INTO s (k, v, d) VALUES ('a', 1, 2);
      INSERT INTO s (ROWTIME, k, v) VALUES (99, 'b', 2);
    `);
    const records = topics.records('s');
    expect(records.map((r) => [r.key?.toString(), r.value?.toString(), r.timestamp])).toEqual([
      ['a', '{"V":1,"D":2.0}', 42],
      ['b', '{"V":2,"D":null}', 99],
    ]);
  });

  it('skips undeserializable records, logs them, and keeps running', async () => {
    const { engine, topics, log } = setup();
    await engine.execute(`
      CREATE STREAM s (v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
      CREATE STREAM t AS SELECT v FROM s;
    `);
    await engine.produce('s', { key: null, value: Buffer.from('not json'), timestamp: 0, headers: [] });
    await engine.produce('s', { key: null, value: json({ V: 'x' }), timestamp: 0, headers: [] });
    await engine.produce('s', { key: null, value: json({ V: 1 }), timestamp: 0, headers: [] });
    expect(values(topics, 'T')).toEqual([{ V: 1 }]);
    expect(log.entries.map((e) => [e.queryId, e.kind, e.offset])).toEqual([
      ['CSAS_T_0', 'deserialization', 0n],
      ['CSAS_T_0', 'deserialization', 1n],
    ]);
  });

  it('rejects invalid statements with ksqlDB messages and error code 40001', async () => {
    const { engine } = setup();
    await engine.execute(
      "CREATE STREAM s (k STRING KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);",
    );
    const error = await engine.execute('CREATE STREAM t AS SELECT v FROM s;').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KsqlError);
    expect((error as KsqlError).errorCode).toBe(40001);
    expect((error as KsqlError).message).toContain(
      'The query used to build `T` must include the key column K',
    );
    await expect(
      engine.execute("CREATE STREAM u (v INT) WITH (kafka_topic='missing', value_format='JSON');"),
    ).rejects.toThrow("Topic 'missing' does not exist.");
  });

  it('fails clearly on features not implemented (windowed aggregation)', async () => {
    const { engine } = setup();
    await engine.execute(
      "CREATE STREAM s (k STRING KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);",
    );
    const error = (await engine
      .execute('CREATE TABLE t AS SELECT k, COUNT(*) FROM s WINDOW TUMBLING (SIZE 1 SECOND) GROUP BY k;')
      .catch((e: unknown) => e)) as KsqlError;
    expect(error.kind).toBe('unsupported');
    expect(error.message).toContain('Not supported by the local ksql engine yet');
  });
});

describe('engine events and ordering', () => {
  it('notifies query start and stop, and runs concurrent statements one at a time', async () => {
    const events: string[] = [];
    const engine = createEngine({
      topics: new InMemoryTopicIO(),
      registry: new InMemorySchemaRegistry(),
      events: {
        queryStarted: (q) => events.push(`start ${q.plan.queryId}`),
        queryStopped: (id) => events.push(`stop ${id}`),
      },
    });
    await Promise.all([
      engine.execute("CREATE STREAM s (v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);"),
      engine.execute('CREATE STREAM t AS SELECT * FROM s;'),
      engine.execute('TERMINATE CSAS_T_0;'),
    ]);
    expect(events).toEqual(['start CSAS_T_0', 'stop CSAS_T_0']);
  });
});

describe('replay', () => {
  it('does not reuse query ids of replayed plans', async () => {
    const first = setup();
    await first.engine.execute(`
      CREATE STREAM s (v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
      CREATE STREAM t AS SELECT * FROM s;
      INSERT INTO t SELECT * FROM s;
    `);
    const second = setup();
    for (const p of JSON.parse(JSON.stringify(first.engine.executedPlans())) as KsqlPlan[]) {
      await second.engine.executePlan(p);
    }
    await second.engine.execute('INSERT INTO t SELECT * FROM s;');
    expect(second.engine.queries().map((q) => q.plan.queryId)).toEqual([
      'CSAS_T_0',
      'INSERTQUERY_1',
      'INSERTQUERY_2',
    ]);
  });
});
