/**
 * The local ksql engine's REST API on the real broker and registry: ksqlDB's response and error
 * shapes, persistent queries through Kafka, push queries (delimited and JSON), inserts, the processing
 * log — and the npm ksqldb-client (h2c for every call) driving the server.
 */
import type { Admin } from 'kafkajs';
import KsqldbClientModule from 'ksqldb-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testKafka, uniqueName } from '../../support/env.ts';
import { deleteTestTopics, trackTopic, trackTopicPrefix } from '../../support/kafka.ts';
import { startTestKsql, until, type TestKsql } from '../../support/ksql.ts';

let admin: Admin;
let ksql: TestKsql;
const input = trackTopic(uniqueName('ksql-in'));
const output = trackTopic(uniqueName('ksql-out'));

beforeAll(async () => {
  admin = testKafka('ksql-server-test').admin();
  await admin.connect();
  ksql = await startTestKsql('server');
  trackTopicPrefix(`_confluent-ksql-${ksql.serviceId}`); // command topic and changelogs
  trackTopic(`${ksql.serviceId}ksql_processing_log`);
}, 60_000);
afterAll(async () => {
  await ksql.stop();
  await deleteTestTopics(admin);
  await admin.disconnect();
});

type Entity = Record<string, unknown>;

describe('ksqlDB REST API', () => {
  it('/info and /healthcheck answer like ksqlDB', async () => {
    const info = (await (await fetch(`${ksql.url}/info`)).json()) as { KsqlServerInfo: Entity };
    expect(info.KsqlServerInfo).toMatchObject({
      ksqlServiceId: ksql.serviceId,
      serverStatus: 'RUNNING',
      version: expect.stringMatching(/^\d+\.\d+/),
    });
    const health = (await (await fetch(`${ksql.url}/healthcheck`)).json()) as Entity;
    expect(health).toEqual({
      isHealthy: true,
      details: { metastore: { isHealthy: true }, kafka: { isHealthy: true } },
      serverState: 'READY',
    });
  });

  it('creates a stream and a persistent CSAS that processes records through Kafka', async () => {
    const created = await ksql.post('/ksql', {
      ksql: `CREATE STREAM ORDERS (ID STRING KEY, ITEM STRING, QTY INT) WITH (KAFKA_TOPIC='${input}', VALUE_FORMAT='JSON', PARTITIONS=3);
             CREATE STREAM BIG_ORDERS WITH (KAFKA_TOPIC='${output}', PARTITIONS=3) AS SELECT ID, UCASE(ITEM) AS ITEM, QTY * 10 AS UNITS FROM ORDERS WHERE QTY >= 2 EMIT CHANGES;`,
      streamsProperties: { 'auto.offset.reset': 'earliest' },
    });
    expect(created.status).toBe(200);
    expect(created.body).toEqual([
      expect.objectContaining({
        '@type': 'currentStatus',
        commandId: 'stream/orders/create',
        commandStatus: { status: 'SUCCESS', message: 'Stream created' },
      }),
      expect.objectContaining({
        '@type': 'currentStatus',
        commandId: 'stream/big_orders/create',
        commandStatus: {
          status: 'SUCCESS',
          message: 'Created query with ID CSAS_BIG_ORDERS_0',
          queryId: 'CSAS_BIG_ORDERS_0',
        },
        commandSequenceNumber: expect.any(Number),
      }),
    ]);
    const producer = testKafka('ksql-producer').producer();
    await producer.connect();
    await producer.send({
      topic: input,
      messages: [
        { key: 'o1', value: JSON.stringify({ ITEM: 'apple', QTY: 3 }) },
        { key: 'o2', value: JSON.stringify({ ITEM: 'pear', QTY: 1 }) },
        { key: 'o3', value: JSON.stringify({ ITEM: 'plum', QTY: 5 }) },
      ],
    });
    await producer.disconnect();
    const seen: Record<string, unknown> = {};
    const consumer = testKafka('ksql-reader').consumer({
      groupId: uniqueName('reader'),
      maxWaitTimeInMs: 100,
    });
    await consumer.connect();
    await consumer.subscribe({ topic: output, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) =>
        void (seen[message.key?.toString() ?? ''] = JSON.parse(message.value?.toString() ?? 'null')),
    });
    await until(async () => Object.keys(seen).length >= 2);
    await consumer.disconnect();
    expect(seen).toEqual({ o1: { ITEM: 'APPLE', UNITS: 30 }, o3: { ITEM: 'PLUM', UNITS: 50 } });

    const queries = await ksql.post('/ksql', { ksql: 'SHOW QUERIES;' });
    expect((queries.body as Entity[])[0]).toMatchObject({
      '@type': 'queries',
      queries: [
        expect.objectContaining({
          id: 'CSAS_BIG_ORDERS_0',
          sinks: ['BIG_ORDERS'],
          sinkKafkaTopics: [output],
          state: 'RUNNING',
          queryType: 'PERSISTENT',
        }),
      ],
    });
    const describe_ = await ksql.post('/ksql', { ksql: 'DESCRIBE BIG_ORDERS;' });
    expect((describe_.body as Entity[])[0]).toMatchObject({
      '@type': 'sourceDescription',
      sourceDescription: expect.objectContaining({
        name: 'BIG_ORDERS',
        type: 'STREAM',
        topic: output,
        keyFormat: 'KAFKA',
        valueFormat: 'JSON',
      }),
    });
  });

  it('answers bad statements with ksqlDB error bodies', async () => {
    const bad = await ksql.post('/ksql', { ksql: 'CREATE STREAM NOPE AS SELECT * FROM MISSING;' });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({
      '@type': 'statement_error',
      error_code: 40001,
      statementText: expect.any(String),
      entities: [],
    });
    const syntax = await ksql.post('/ksql', { ksql: 'CREAT STREAM X;' });
    expect(syntax.status).toBe(400);
    expect((syntax.body as Entity)['message']).toMatch(/line 1:1/);
    const select = await ksql.post('/ksql', { ksql: 'SELECT * FROM ORDERS EMIT CHANGES;' });
    expect(select.body).toMatchObject({ error_code: 40002 });
    const unknown = await fetch(`${ksql.url}/nope`);
    expect(unknown.status).toBe(404);
  });

  it('push queries: delimited over HTTP/1.1, a JSON array with Accept: application/json', async () => {
    const delimited = await ksql.post(
      '/query-stream',
      {
        sql: 'SELECT * FROM BIG_ORDERS EMIT CHANGES LIMIT 2;',
        properties: { 'auto.offset.reset': 'earliest' },
      },
      'application/vnd.ksqlapi.delimited.v1',
    );
    const lines = delimited.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown);
    expect(lines[0]).toMatchObject({
      queryId: expect.stringMatching(/^transient_BIG_ORDERS_/),
      columnNames: ['ID', 'ITEM', 'UNITS'],
      columnTypes: ['STRING', 'STRING', 'INTEGER'],
    });
    expect(lines.slice(1).sort()).toEqual(
      [
        ['o1', 'APPLE', 30],
        ['o3', 'PLUM', 50],
      ].sort(),
    );
    const json = await ksql.post('/query-stream', {
      sql: "SELECT ID, QTY FROM ORDERS WHERE ITEM = 'pear' EMIT CHANGES LIMIT 1;",
      properties: { 'auto.offset.reset': 'earliest' },
    });
    expect(json.body).toEqual([expect.objectContaining({ columnNames: ['ID', 'QTY'] }), ['o2', 1]]);
  });

  it('the npm ksqldb-client (h2c for every call) drives the server', async () => {
    // The package is CommonJS (module.exports = the class) while its typings declare a default export.
    const KsqldbClient = KsqldbClientModule as unknown as typeof KsqldbClientModule.default;
    const client = new KsqldbClient({ host: '127.0.0.1', port: ksql.port });
    await client.connect();
    try {
      const stream = uniqueName('client').replaceAll('.', '_').toUpperCase();
      const topic = trackTopic(uniqueName('client-topic'));
      const created = await client.executeStatement(
        `CREATE STREAM ${stream} (K STRING KEY, V INT) WITH (KAFKA_TOPIC='${topic}', VALUE_FORMAT='JSON', PARTITIONS=1);`,
      );
      expect(created.status).toBe(200);
      const inserted = await client.insertInto(stream, { K: 'a', V: 1 });
      expect(inserted).toMatchObject({ status: 200, data: { rows: [{ status: 'ok', seq: 0 }] } });
      await client.insertInto(stream, { K: 'b', V: 2 });
      const result = await client.query(`SELECT K, V FROM ${stream} EMIT CHANGES LIMIT 2;`, {
        properties: { 'auto.offset.reset': 'earliest' },
      } as never);
      expect(result.status).toBe(200);
      expect(result.data?.rows).toEqual([
        { K: 'a', V: 1 },
        { K: 'b', V: 2 },
      ]);
      const streams = await client.listStreams();
      expect(JSON.stringify(streams)).toContain(stream);

      // A push query without LIMIT streams rows until it is terminated through /close-query.
      const rows: unknown[] = [];
      let queryId = '';
      const streaming = client.streamQuery(
        `SELECT K FROM ${stream} EMIT CHANGES;`,
        (data) => {
          // ksqldb-client's types promise metadata; the first callback of a failed query has none.
          queryId = (data.metadata as typeof data.metadata | undefined)?.queryId ?? queryId;
          rows.push(...(data.rows ?? []));
        },
        { properties: { 'auto.offset.reset': 'earliest' } } as never,
      );
      await until(async () => rows.length >= 2);
      const closed = await client.terminatePushQuery(queryId);
      expect(closed.status).toBe(200);
      await streaming;
      expect(rows).toEqual([{ K: 'a' }, { K: 'b' }]);
    } finally {
      await client.disconnect();
    }
  });

  it('/inserts-stream refuses HTTP/1.1 with 40004, as ksqlDB does', async () => {
    const response = await fetch(`${ksql.url}/inserts-stream`, {
      method: 'POST',
      body: '{"target":"ORDERS"}\n{"ID":"x","ITEM":"fig","QTY":1}',
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error_code: 40004 });
  });

  it('a record that does not deserialize goes to the processing log; the query keeps running', async () => {
    const producer = testKafka('ksql-poison').producer();
    await producer.connect();
    await producer.send({
      topic: input,
      messages: [
        { key: 'bad', value: '{not json' },
        { key: 'o9', value: JSON.stringify({ ITEM: 'kiwi', QTY: 9 }) },
      ],
    });
    await producer.disconnect();
    const rows = await ksql.post('/query-stream', {
      sql: "SELECT * FROM BIG_ORDERS WHERE ID = 'o9' EMIT CHANGES LIMIT 1;",
      properties: { 'auto.offset.reset': 'earliest' },
    });
    expect(rows.body).toEqual([expect.anything(), ['o9', 'KIWI', 90]]);
    const log = await ksql.post('/query-stream', {
      sql: 'SELECT MESSAGE->`TYPE` AS KIND, MESSAGE->`TOPIC` AS SOURCE_TOPIC FROM KSQL_PROCESSING_LOG EMIT CHANGES LIMIT 1;',
      properties: { 'auto.offset.reset': 'earliest' },
    });
    expect(log.body).toEqual([expect.anything(), ['deserialization', input]]);
  });
});
