import { describe, expect, it } from 'vitest';
import type { KsqlError } from '../errors.ts';
import type { KsqlPlan } from '../planner/steps.ts';
import { InMemorySchemaRegistry } from '../serde/registry.ts';
import { createEngine, type Engine } from './engine.ts';
import type { ChangelogRecord } from './state.ts';
import { InMemoryTopicIO } from './topic-io.ts';

function setup(events: Parameters<typeof createEngine>[0]['events'] = {}): {
  engine: Engine;
  topics: InMemoryTopicIO;
} {
  const topics = new InMemoryTopicIO();
  const engine = createEngine({ topics, registry: new InMemorySchemaRegistry(), clock: () => 42, events });
  return { engine, topics };
}

const json = (v: unknown): Buffer | null => (v === null ? null : Buffer.from(JSON.stringify(v)));

/** Records of a topic as [key, value, timestamp] with JSON values parsed. */
function read(topics: InMemoryTopicIO, topic: string): [string | null, unknown, number][] {
  return topics
    .records(topic)
    .map((r) => [
      r.key === null ? null : r.key.toString(),
      r.value === null ? null : (JSON.parse(r.value.toString()) as unknown),
      r.timestamp,
    ]);
}

async function send(
  engine: Engine,
  topic: string,
  key: string | null,
  value: unknown,
  timestamp: number,
): Promise<void> {
  await engine.produce(topic, {
    key: key === null ? null : Buffer.from(key),
    value: json(value),
    timestamp,
    headers: [],
  });
}

describe('tables', () => {
  it('CTAS over a table: projection, filter tombstones, deletes and null keys', async () => {
    const { engine, topics } = setup();
    await engine.execute(`
      CREATE TABLE users (id STRING PRIMARY KEY, name STRING, age INT) WITH (kafka_topic='users', value_format='JSON', partitions=1);
      CREATE TABLE adults AS SELECT id, UCASE(name) AS name FROM users WHERE age >= 18;
    `);
    await send(engine, 'users', 'u1', { name: 'ann', age: 30 }, 1);
    await send(engine, 'users', null, { name: 'nobody', age: 50 }, 2);
    await send(engine, 'users', 'u1', { name: 'ann', age: 12 }, 3);
    await send(engine, 'users', 'u2', { name: 'bob', age: 40 }, 4);
    await send(engine, 'users', 'u2', null, 5);
    expect(read(topics, 'ADULTS')).toEqual([
      ['u1', { NAME: 'ANN' }, 1],
      ['u1', null, 3],
      ['u2', { NAME: 'BOB' }, 4],
      ['u2', null, 5],
    ]);
    const d = await engine.execute('DESCRIBE adults;');
    expect(d[0]?.type === 'sourceDescription' && d[0].source.schema).toBe('ID STRING KEY, NAME STRING');
  });

  it('aggregates a table with retraction: counts go back down and moved rows leave their group', async () => {
    const { engine, topics } = setup();
    await engine.execute(`
      CREATE TABLE tickets (id INT PRIMARY KEY, status STRING) WITH (kafka_topic='tickets', value_format='JSON', partitions=1);
      CREATE TABLE by_status AS SELECT status, COUNT(*) AS n FROM tickets GROUP BY status;
    `);
    await send(engine, 'tickets', '\u0000\u0000\u0000\u0001', { status: 'open' }, 1);
    await send(engine, 'tickets', '\u0000\u0000\u0000\u0002', { status: 'open' }, 2);
    await send(engine, 'tickets', '\u0000\u0000\u0000\u0001', { status: 'closed' }, 3);
    await send(engine, 'tickets', '\u0000\u0000\u0000\u0002', null, 4);
    expect(read(topics, 'BY_STATUS')).toEqual([
      ['open', { N: 1 }, 1],
      ['open', { N: 2 }, 2],
      ['open', { N: 1 }, 3],
      ['closed', { N: 1 }, 3],
      ['open', { N: 0 }, 4],
    ]);
  });

  it('names join columns like ksqlDB and enriches a stream from a table (LEFT JOIN on a value column)', async () => {
    const { engine, topics } = setup();
    await engine.execute(`
      CREATE STREAM msgs (id STRING KEY, contact STRING, body STRING) WITH (kafka_topic='msgs', value_format='JSON', partitions=1);
      CREATE TABLE contacts (contact STRING PRIMARY KEY, name STRING) WITH (kafka_topic='contacts', value_format='JSON', partitions=1);
      CREATE STREAM enriched AS SELECT m.contact, m.id, body, name FROM msgs m LEFT JOIN contacts c ON m.contact = c.contact;
      CREATE STREAM everything AS SELECT * FROM msgs m JOIN contacts c ON m.contact = c.contact;
    `);
    const schema = async (name: string): Promise<unknown> => {
      const [r] = await engine.execute(`DESCRIBE ${name};`);
      return r?.type === 'sourceDescription' ? r.source.schema : undefined;
    };
    expect(await schema('enriched')).toBe('M_CONTACT STRING KEY, ID STRING, BODY STRING, NAME STRING');
    expect(await schema('everything')).toBe(
      'M_CONTACT STRING KEY, M_ID STRING, M_BODY STRING, C_CONTACT STRING, C_NAME STRING',
    );
    await send(engine, 'msgs', 'm1', { contact: 'c1', body: 'hi' }, 10);
    await send(engine, 'contacts', 'c1', { name: 'Ann' }, 11);
    await send(engine, 'msgs', 'm2', { contact: 'c1', body: 'again' }, 12);
    await send(engine, 'contacts', 'c1', null, 13);
    await send(engine, 'msgs', 'm3', { contact: 'c1', body: 'gone' }, 14);
    expect(read(topics, 'ENRICHED')).toEqual([
      ['c1', { ID: 'm1', BODY: 'hi', NAME: null }, 10],
      ['c1', { ID: 'm2', BODY: 'again', NAME: 'Ann' }, 12],
      ['c1', { ID: 'm3', BODY: 'gone', NAME: null }, 14],
    ]);
    expect(read(topics, 'EVERYTHING').map((r) => r[2])).toEqual([12]);
  });

  it('rejects joins ksqlDB rejects, with its messages', async () => {
    const { engine } = setup();
    await engine.execute(`
      CREATE STREAM s (id INT KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=2);
      CREATE TABLE t (id INT PRIMARY KEY, w INT) WITH (kafka_topic='t', value_format='JSON', partitions=3);
    `);
    const fail = (sql: string): Promise<string> =>
      engine.execute(sql).then(
        () => 'no error',
        (e: unknown) => (e as KsqlError).message,
      );
    expect(await fail('CREATE STREAM o AS SELECT s.id, w FROM s JOIN t ON s.id = t.id;')).toBe(
      "Can't join S with T since the number of partitions don't match. S partitions = 2; T partitions = 3. Please repartition either one so that the number of partitions match.",
    );
    expect(await fail('CREATE STREAM o AS SELECT s.id, w FROM s JOIN t ON s.v = t.w;')).toBe(
      "Invalid join condition: stream-table joins require to join on the table's primary key. Got S.V = T.W.",
    );
    expect(await fail('CREATE TABLE o AS SELECT t.id, v FROM t JOIN s ON s.id = t.id;')).toContain(
      'Invalid join order: table-stream joins are not supported; only stream-table joins.',
    );
  });
});

describe('more joins', () => {
  it('joins three sources, re-keying the stream for the second table', async () => {
    const { engine, topics } = setup();
    await engine.execute(`
      CREATE STREAM orders (id STRING KEY, customer STRING, product STRING) WITH (kafka_topic='orders', value_format='JSON', partitions=1);
      CREATE TABLE customers (id STRING PRIMARY KEY, name STRING) WITH (kafka_topic='customers', value_format='JSON', partitions=1);
      CREATE TABLE products (id STRING PRIMARY KEY, title STRING) WITH (kafka_topic='products', value_format='JSON', partitions=1);
      CREATE STREAM full_orders AS SELECT o.id AS order_id, p.id, name, title
        FROM orders o JOIN customers c ON o.customer = c.id LEFT JOIN products p ON o.product = p.id;
    `);
    const [d] = await engine.execute('DESCRIBE full_orders;');
    expect(d?.type === 'sourceDescription' && d.source.schema).toBe(
      'P_ID STRING KEY, ORDER_ID STRING, NAME STRING, TITLE STRING',
    );
    await send(engine, 'customers', 'c1', { name: 'Ann' }, 1);
    await send(engine, 'products', 'p1', { title: 'Pen' }, 2);
    await send(engine, 'orders', 'o1', { customer: 'c1', product: 'p1' }, 3);
    await send(engine, 'orders', 'o2', { customer: 'c1', product: 'p9' }, 4);
    await send(engine, 'orders', 'o3', { customer: 'c9', product: 'p1' }, 5);
    expect(read(topics, 'FULL_ORDERS')).toEqual([
      ['p1', { ORDER_ID: 'o1', NAME: 'Ann', TITLE: 'Pen' }, 3],
      ['p9', { ORDER_ID: 'o2', NAME: 'Ann', TITLE: null }, 4],
    ]);
  });

  it('joins tables on a foreign key: updates on either side emit, deletes emit tombstones', async () => {
    const { engine, topics } = setup();
    await engine.execute(`
      CREATE TABLE tickets (id STRING PRIMARY KEY, customer STRING, subject STRING) WITH (kafka_topic='tickets', value_format='JSON', partitions=1);
      CREATE TABLE customers (id STRING PRIMARY KEY, name STRING) WITH (kafka_topic='customers', value_format='JSON', partitions=1);
      CREATE TABLE ticket_view AS SELECT t.id, subject, name FROM tickets t JOIN customers c ON t.customer = c.id;
    `);
    await send(engine, 'tickets', 't1', { customer: 'c1', subject: 'help' }, 1);
    await send(engine, 'customers', 'c1', { name: 'Ann' }, 2);
    await send(engine, 'tickets', 't2', { customer: 'c1', subject: 'again' }, 3);
    await send(engine, 'customers', 'c1', { name: 'Anna' }, 4);
    await send(engine, 'customers', 'c1', null, 5);
    expect(read(topics, 'TICKET_VIEW')).toEqual([
      ['t1', { SUBJECT: 'help', NAME: 'Ann' }, 2],
      ['t2', { SUBJECT: 'again', NAME: 'Ann' }, 3],
      ['t1', { SUBJECT: 'help', NAME: 'Anna' }, 4],
      ['t2', { SUBJECT: 'again', NAME: 'Anna' }, 4],
      ['t1', null, 5],
      ['t2', null, 5],
    ]);
  });

  it('accepts INSERT VALUES into a table only with its primary key', async () => {
    const { engine, topics } = setup();
    await engine.execute(
      "CREATE TABLE t (id STRING PRIMARY KEY, v INT) WITH (kafka_topic='t', value_format='JSON', partitions=1);",
    );
    await expect(engine.execute('INSERT INTO t (v) VALUES (1);')).rejects.toThrow(
      "Failed to insert values into 'T'. Value for primary key column(s) ID is required for tables",
    );
    await engine.execute("INSERT INTO t (id, v) VALUES ('a', 1);");
    expect(read(topics, 't')).toEqual([['a', { V: 1 }, 42]]);
  });

  it('declares windowed sources but does not query them yet', async () => {
    const { engine } = setup();
    await engine.execute(
      "CREATE STREAM w (k STRING KEY, v INT) WITH (kafka_topic='w', value_format='JSON', partitions=1, window_type='SESSION');",
    );
    const [d] = await engine.execute('DESCRIBE w;');
    expect(d?.type === 'sourceDescription' && d.source.isWindowed).toBe(true);
    const error = (await engine
      .execute('CREATE STREAM o AS SELECT * FROM w;')
      .catch((e: unknown) => e)) as KsqlError;
    expect(error.kind).toBe('unsupported');
    await expect(
      engine.execute(
        "CREATE STREAM w2 (v INT) WITH (kafka_topic='w2', value_format='JSON', partitions=1, window_type='SESSION');",
      ),
    ).rejects.toThrow('Windowed sources require a key column.');
  });
});

describe('state restore', () => {
  const statements = `
    CREATE STREAM msgs (contact STRING KEY, body STRING, channel STRING) WITH (kafka_topic='msgs', value_format='JSON', partitions=1);
    CREATE TABLE contacts (contact STRING PRIMARY KEY, name STRING, tier INT) WITH (kafka_topic='contacts', value_format='JSON', partitions=1);
    CREATE STREAM enriched AS SELECT m.contact, body, name, tier FROM msgs m LEFT JOIN contacts c ON m.contact = c.contact;
    CREATE TABLE per_contact AS SELECT contact, COUNT(*) AS n, LATEST_BY_OFFSET(body) AS last_body, COLLECT_LIST(channel) AS channels FROM msgs GROUP BY contact;
    CREATE TABLE per_tier AS SELECT tier, COUNT(*) AS n, SUM(tier) AS total FROM contacts GROUP BY tier;
    CREATE TABLE contact_stats AS SELECT c.contact, name, n FROM contacts c JOIN per_contact p ON c.contact = p.contact;
    CREATE TABLE tickets (id STRING PRIMARY KEY, contact STRING, subject STRING) WITH (kafka_topic='tickets', value_format='JSON', partitions=1);
    CREATE TABLE ticket_view AS SELECT t.id, subject, name FROM tickets t LEFT JOIN contacts c ON t.contact = c.contact;
  `;
  const records: [string, string | null, unknown][] = [
    ['contacts', 'a', { name: 'Ann', tier: 1 }],
    ['msgs', 'a', { body: 'one', channel: 'email' }],
    ['contacts', 'b', { name: 'Bob', tier: 1 }],
    ['msgs', 'b', { body: 'two', channel: 'web' }],
    ['tickets', 't1', { contact: 'a', subject: 'help' }],
    ['tickets', 't2', { contact: 'b', subject: 'more' }],
    ['msgs', 'a', { body: 'three', channel: 'whatsapp' }],
    // ---- the restart happens here ----
    ['contacts', 'a', { name: 'Ann', tier: 2 }],
    ['msgs', 'a', { body: 'four', channel: 'email' }],
    ['contacts', 'b', null],
    ['msgs', 'b', { body: 'five', channel: 'web' }],
    ['msgs', 'c', { body: 'six', channel: 'web' }],
  ];
  const RESTART = 7;
  const sinks = ['ENRICHED', 'PER_CONTACT', 'PER_TIER', 'CONTACT_STATS', 'TICKET_VIEW'];

  it('a fresh engine built from the stored plans and restored from the changelog continues exactly', async () => {
    const changelog: { queryId: string; record: ChangelogRecord }[] = [];
    const first = setup({ stateChanged: (queryId, record) => changelog.push({ queryId, record }) });
    await first.engine.execute(statements);
    for (const [i, [topic, key, value]] of records.slice(0, RESTART).entries())
      await send(first.engine, topic, key, value, i);
    const stored = JSON.stringify(first.engine.executedPlans());
    expect(changelog.length).toBeGreaterThan(0);

    // The restarted engine: replay the plans, restore every store, then resume with the rest.
    const second = setup();
    for (const plan of JSON.parse(stored) as KsqlPlan[]) await second.engine.executePlan(plan);
    const byId = new Map(second.engine.queries().map((q) => [q.plan.queryId, q]));
    for (const { queryId, record } of changelog) {
      byId.get(queryId)?.processor.restore(record.store, record.key, record.value);
    }
    const storeNames = second.engine
      .queries()
      .flatMap((q) => q.processor.stores().map((s) => `${q.plan.queryId}/${s.name}`));
    expect(storeNames).toEqual([
      'CSAS_ENRICHED_0/KafkaTopic_Right-Reduce',
      'CTAS_PER_CONTACT_1/Aggregate-Aggregate-Materialize',
      'CTAS_PER_CONTACT_1/Project-Materialize',
      'CTAS_PER_TIER_2/Aggregate-Aggregate-Materialize',
      'CTAS_PER_TIER_2/KsqlTopic-Reduce',
      'CTAS_PER_TIER_2/Project-Materialize',
      'CTAS_CONTACT_STATS_3/KafkaTopic_Left-Reduce',
      'CTAS_CONTACT_STATS_3/KafkaTopic_Right-Reduce',
      'CTAS_CONTACT_STATS_3/Project-Materialize',
      'CTAS_TICKET_VIEW_4/KafkaTopic_Left-Reduce',
      'CTAS_TICKET_VIEW_4/KafkaTopic_Right-Reduce',
      'CTAS_TICKET_VIEW_4/Project-Materialize',
    ]);
    for (const [i, [topic, key, value]] of records.slice(RESTART).entries())
      await send(second.engine, topic, key, value, i + RESTART);

    // The same records without a restart.
    const uninterrupted = setup();
    await uninterrupted.engine.execute(statements);
    const before = new Map(sinks.map((s) => [s, 0]));
    for (const [i, [topic, key, value]] of records.entries()) {
      if (i === RESTART) for (const s of sinks) before.set(s, uninterrupted.topics.records(s).length);
      await send(uninterrupted.engine, topic, key, value, i);
    }
    for (const s of sinks) {
      const expected = read(uninterrupted.topics, s).slice(before.get(s));
      expect(expected.length).toBeGreaterThan(0);
      expect(read(second.topics, s)).toEqual(expected);
    }
    // The foreign-key join's subscriptions came back with its left store: contact updates reach tickets.
    expect(read(second.topics, 'TICKET_VIEW')).toEqual([
      ['t1', { SUBJECT: 'help', NAME: 'Ann' }, 7],
      ['t2', { SUBJECT: 'more', NAME: null }, 9],
    ]);
    // Without the restore, the aggregation would have started from scratch.
    expect(read(second.topics, 'PER_CONTACT')[0]).toEqual([
      'a',
      { N: 3, LAST_BODY: 'four', CHANNELS: ['email', 'whatsapp', 'email'] },
      8,
    ]);
  });

  it('reset() empties every store so a failed run can be restored from the changelog alone', async () => {
    const changelog: { queryId: string; record: ChangelogRecord }[] = [];
    const live = setup({ stateChanged: (queryId, record) => changelog.push({ queryId, record }) });
    await live.engine.execute(statements);
    for (const [i, [topic, key, value]] of records.slice(0, RESTART).entries())
      await send(live.engine, topic, key, value, i);
    // Changes that were never committed to the changelog (a batch that failed half-way).
    const committed = changelog.length;
    await send(live.engine, records[RESTART]?.[0] ?? '', 'zz', records[RESTART]?.[2], 999);
    for (const q of live.engine.queries()) q.processor.reset();
    for (const q of live.engine.queries()) {
      for (const store of q.processor.stores()) expect(store.size, `${q.plan.queryId}/${store.name}`).toBe(0);
      expect([...(q.processor.materialized() ?? [])]).toEqual([]);
    }
    const byId = new Map(live.engine.queries().map((q) => [q.plan.queryId, q]));
    for (const { queryId, record } of changelog.slice(0, committed))
      byId.get(queryId)?.processor.restore(record.store, record.key, record.value);
    const before = new Map(sinks.map((s) => [s, live.topics.records(s).length]));
    for (const [i, [topic, key, value]] of records.slice(RESTART).entries())
      await send(live.engine, topic, key, value, i + RESTART);

    const uninterrupted = setup();
    await uninterrupted.engine.execute(statements);
    const expectedFrom = new Map(sinks.map((s) => [s, 0]));
    for (const [i, [topic, key, value]] of records.entries()) {
      if (i === RESTART) for (const s of sinks) expectedFrom.set(s, uninterrupted.topics.records(s).length);
      await send(uninterrupted.engine, topic, key, value, i);
    }
    for (const s of sinks) {
      expect(read(live.topics, s).slice(before.get(s))).toEqual(
        read(uninterrupted.topics, s).slice(expectedFrom.get(s)),
      );
    }
  });
});

describe('pull queries', () => {
  it('serve the migrations tool: WHERE key = and IN on a LATEST_BY_OFFSET table', async () => {
    const { engine } = setup();
    await engine.execute(`
      CREATE STREAM MIGRATION_EVENTS (version_key STRING KEY, version STRING, name STRING, state STRING,
        checksum STRING, started_on STRING, completed_on STRING, previous STRING, error_reason STRING)
        WITH (KAFKA_TOPIC='default_ksql_MIGRATION_EVENTS', VALUE_FORMAT='JSON', PARTITIONS=1, REPLICAS=1);
      CREATE TABLE MIGRATION_SCHEMA_VERSIONS WITH (KAFKA_TOPIC='default_ksql_MIGRATION_SCHEMA_VERSIONS') AS SELECT version_key,
        latest_by_offset(version) as version, latest_by_offset(name) AS name, latest_by_offset(state) AS state,
        latest_by_offset(checksum) AS checksum, latest_by_offset(started_on) AS started_on,
        latest_by_offset(completed_on) AS completed_on, latest_by_offset(previous) AS previous,
        latest_by_offset(error_reason) AS error_reason FROM MIGRATION_EVENTS GROUP BY version_key;
    `);
    const insert = (key: string, version: string, state: string, previous: string): Promise<unknown> =>
      engine.execute(
        `INSERT INTO MIGRATION_EVENTS (version_key, version, name, state, checksum, started_on, completed_on, previous, error_reason)
         VALUES ('${key}', '${version}', 'init', '${state}', 'abc', '1', '', '${previous}', 'N/A');`,
      );
    await insert('CURRENT', '1', 'RUNNING', '<none>');
    await insert('1', '1', 'RUNNING', '<none>');
    await insert('CURRENT', '1', 'MIGRATED', '<none>');
    await insert('1', '1', 'MIGRATED', '<none>');
    await insert('CURRENT', '2', 'RUNNING', '1');
    await insert('2', '2', 'RUNNING', '1');

    const current = await engine.pullQuery(
      "SELECT VERSION FROM MIGRATION_SCHEMA_VERSIONS WHERE version_key = 'CURRENT';",
    );
    expect(current.header.columnNames).toEqual(['VERSION']);
    expect(current.header.columnTypes).toEqual(['STRING']);
    expect(current.rows).toEqual([['2']]);
    expect(current.jsonRows).toEqual(['["2"]']);

    const some = await engine.pullQuery(
      "SELECT version, checksum, previous, state, name, started_on, completed_on, error_reason FROM MIGRATION_SCHEMA_VERSIONS WHERE version_key IN ('1', '2', '3');",
    );
    expect(some.header.columnNames).toEqual([
      'VERSION',
      'CHECKSUM',
      'PREVIOUS',
      'STATE',
      'NAME',
      'STARTED_ON',
      'COMPLETED_ON',
      'ERROR_REASON',
    ]);
    expect(some.rows.map((r) => [r[0], r[3]])).toEqual([
      ['1', 'MIGRATED'],
      ['2', 'RUNNING'],
    ]);

    const all = await engine.pullQuery('SELECT * FROM MIGRATION_SCHEMA_VERSIONS;');
    expect(all.header.columnNames[0]).toBe('VERSION_KEY');
    expect(all.rows.map((r) => r[0])).toEqual(['CURRENT', '1', '2']);
  });

  it('evaluates expressions, non-key filters and LIMIT, and rejects tables nothing materializes', async () => {
    const { engine } = setup();
    await engine.execute(`
      CREATE STREAM s (k STRING KEY, n BIGINT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
      CREATE TABLE totals AS SELECT k, SUM(n) AS total FROM s GROUP BY k;
      CREATE TABLE raw (k STRING PRIMARY KEY, n BIGINT) WITH (kafka_topic='raw', value_format='JSON', partitions=1);
    `);
    for (const [k, n] of [
      ['a', 1],
      ['b', 5],
      ['a', 2],
      ['c', 10],
    ] as const)
      await send(engine, 's', k, { n }, 0);
    const r = await engine.pullQuery(
      'SELECT k, total * 2, total > 3 AS big FROM totals WHERE total >= 3 LIMIT 2;',
    );
    expect(r.header).toMatchObject({
      columnNames: ['K', 'KSQL_COL_0', 'BIG'],
      columnTypes: ['STRING', 'BIGINT', 'BOOLEAN'],
    });
    expect(r.rows).toEqual([
      ['a', 6n, false],
      ['b', 10n, true],
    ]);
    expect(r.jsonRows).toEqual(['["a",6,false]', '["b",10,true]']);
    const missing = await engine.pullQuery("SELECT * FROM totals WHERE k = 'zzz';");
    expect(missing.rows).toEqual([]);
    await expect(engine.pullQuery('SELECT * FROM raw;')).rejects.toThrow("The `RAW` table isn't queryable.");
  });
});

describe('plan versions', () => {
  it('runs version-1 plans stored by part 1 and rejects unknown versions', async () => {
    const { engine, topics } = setup();
    const v1: KsqlPlan[] = [
      {
        version: 1,
        statementText:
          "CREATE STREAM S (K STRING KEY, V INT) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON', PARTITIONS=1);",
        ddl: {
          command: 'createSource',
          orReplace: false,
          topic: { name: 's', partitions: 1, replicas: 1 },
          source: {
            name: 'S',
            type: 'STREAM',
            schema: {
              key: [{ name: 'K', type: { type: 'STRING' } }],
              value: [{ name: 'V', type: { type: 'INTEGER' } }],
            },
            topic: 's',
            formats: { key: { format: 'KAFKA', properties: {} }, value: { format: 'JSON', properties: {} } },
            isSource: false,
            sql: '',
          },
        },
      },
    ];
    for (const p of v1) await engine.executePlan(p);
    const [plan] = await engine.plan('CREATE STREAM T AS SELECT K, V + 1 AS W FROM S;');
    expect(plan?.version).toBe(2);
    await engine.executePlan({ ...(plan as KsqlPlan), version: 1 });
    await send(engine, 's', 'x', { V: 1 }, 3);
    expect(read(topics, 'T')).toEqual([['x', { W: 2 }, 3]]);
    await expect(engine.executePlan({ ...(plan as KsqlPlan), version: 3 as 2 })).rejects.toThrow(
      'Unsupported plan version 3',
    );
  });
});
