/**
 * A persistent query with AVRO in and out on the real broker and registry survives kill -9 of the
 * server: after a restart it is replayed from the command topic and resumes from its committed
 * offsets, and every input record has its output (at least once).
 */
import type { ChildProcess } from 'node:child_process';
import avro from 'avsc';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRegistryClient } from '../../../src/registry/client.ts';
import { frame } from '../../../src/registry/serde.ts';
import { freePort, testConfig, testKafka, uniqueName } from '../../support/env.ts';
import { deleteTestTopics, trackTopic, trackTopicPrefix } from '../../support/kafka.ts';
import { killHard, serviceIdFor, spawnKsqlServer, until, writerSchemaDecoder } from '../../support/ksql.ts';
import { createTopicsReady } from '../../../src/kafka/admin.ts';

const registry = createRegistryClient(testConfig.registry.url);
const paymentSchema = {
  type: 'record',
  name: 'Payment',
  namespace: 'dev.streamdesk.test',
  fields: [
    { name: 'amount', type: 'int' },
    { name: 'currency', type: 'string' },
  ],
};
const paymentType = avro.Type.forSchema(paymentSchema as avro.Schema);

let admin: Admin;
let child: ChildProcess | undefined;
const serviceId = serviceIdFor('durable');
const input = trackTopic(uniqueName('payments'));
const output = trackTopic(uniqueName('doubled'));

beforeAll(async () => {
  admin = testKafka('durable-test').admin();
  await admin.connect();
  trackTopicPrefix(`_confluent-ksql-${serviceId}`); // command topic and changelogs
  trackTopic(`${serviceId}ksql_processing_log`);
  await createTopicsReady(admin, [{ topic: input, numPartitions: 3, replicationFactor: 1 }]);
});
afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await deleteTestTopics(admin);
  await admin.disconnect();
});

describe('persistent query durability', () => {
  it('AVRO in and out: survives kill -9 of the server and resumes without losing records', async () => {
    const schemaId = await registry.register(`${input}-value`, JSON.stringify(paymentSchema));
    const port = await freePort();
    child = await spawnKsqlServer(port, serviceId);
    const statement = await fetch(`http://127.0.0.1:${port}/ksql`, {
      method: 'POST',
      body: JSON.stringify({
        ksql: `CREATE STREAM PAYMENTS (ID STRING KEY) WITH (KAFKA_TOPIC='${input}', VALUE_FORMAT='AVRO');
               CREATE STREAM DOUBLED WITH (KAFKA_TOPIC='${output}', VALUE_FORMAT='AVRO', PARTITIONS=3) AS
                 SELECT ID, AMOUNT * 2 AS DOUBLED, UCASE(CURRENCY) AS CURRENCY FROM PAYMENTS EMIT CHANGES;`,
        streamsProperties: { 'auto.offset.reset': 'earliest' },
      }),
    });
    expect(statement.status).toBe(200);

    const producer = testKafka('durable-producer').producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    let next = 0;
    const produce = async (count: number) => {
      const messages = Array.from({ length: count }, () => {
        const n = next++;
        return { key: `p${n}`, value: frame(schemaId, paymentType.toBuffer({ amount: n, currency: 'eur' })) };
      });
      await producer.send({ topic: input, acks: -1, messages });
    };
    const outputs = new Map<string, unknown>();
    const consumer = testKafka('durable-reader').consumer({
      groupId: uniqueName('durable-reader'),
      maxWaitTimeInMs: 100,
    });
    const decode = writerSchemaDecoder(registry);
    await consumer.connect();
    await consumer.subscribe({ topic: output, fromBeginning: true }).catch(async () => {
      await until(async () => (await admin.listTopics()).includes(output));
      await consumer.subscribe({ topic: output, fromBeginning: true });
    });
    await consumer.run({
      eachMessage: async ({ message }) => {
        outputs.set(message.key?.toString() ?? '', await decode(message.value));
      },
    });

    await produce(100);
    await until(async () => outputs.size >= 50, 60_000);
    // Kill the server while records keep arriving.
    const during = produce(100);
    await killHard(child);
    await during;
    await produce(100);
    child = await spawnKsqlServer(port, serviceId);
    await until(async () => outputs.size >= 300, 90_000);
    await consumer.disconnect();
    await producer.disconnect();

    for (let n = 0; n < 300; n++) expect(outputs.get(`p${n}`)).toEqual({ DOUBLED: n * 2, CURRENCY: 'EUR' });
    // The output schema is ksqlDB's generated one, registered under the output topic's subject.
    const registered = JSON.parse(
      (await registry.subjectVersion(`${output}-value`, 'latest'))?.schema ?? '{}',
    ) as { name?: string; namespace?: string };
    expect(`${registered.namespace}.${registered.name}`).toBe(
      'io.confluent.ksql.avro_schemas.KsqlDataSourceSchema',
    );
    const queries = await (
      await fetch(`http://127.0.0.1:${port}/ksql`, {
        method: 'POST',
        body: JSON.stringify({ ksql: 'SHOW QUERIES;' }),
      })
    ).json();
    expect(JSON.stringify(queries)).toContain('CSAS_DOUBLED_0');
    child.kill('SIGTERM');
    await new Promise((r) => child?.once('exit', r));
  }, 240_000);
});
