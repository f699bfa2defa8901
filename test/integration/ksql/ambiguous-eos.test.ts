/**
 * An exactly-once query whose transaction's produce request the broker wrote but never answered
 * (injected between the engine and the real broker; connections then refused for a while): after
 * the broker is back, every input has exactly one output in the committed data.
 */
import type { Admin, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig, testKafka, uniqueName } from '../../support/env.ts';
import { createFaultProxy, type FaultProxy } from '../../support/fault-proxy.ts';
import {
  createTestTopic,
  deleteTestTopics,
  readTopic,
  trackTopic,
  trackTopicPrefix,
} from '../../support/kafka.ts';
import { serviceIdFor, startTestKsql } from '../../support/ksql.ts';

let admin: Admin;
let producer: Producer;
let proxy: FaultProxy;
beforeAll(async () => {
  admin = testKafka('ambiguous-eos-test').admin();
  await admin.connect();
  producer = testKafka('ambiguous-eos-input').producer();
  await producer.connect();
  proxy = await createFaultProxy(testConfig.kafka.brokers[0] as string);
});
afterAll(async () => {
  await proxy.close();
  await producer.disconnect();
  await deleteTestTopics(admin);
  await admin.disconnect();
});

describe('exactly-once query after an ambiguous produce failure', () => {
  it('every input has exactly one committed output', async () => {
    const input = await createTestTopic(admin, 'eos-in', 1);
    const output = trackTopic(uniqueName('eos-out'));
    const serviceId = serviceIdFor('eos');
    trackTopicPrefix(`_confluent-ksql-${serviceId}`);
    trackTopic(`${serviceId}ksql_processing_log`);
    const ksql = await startTestKsql('eos', serviceId, proxy.socketFactory);
    const send = (from: number) =>
      producer.send({
        topic: input,
        acks: -1,
        messages: Array.from({ length: 5 }, (_, i) => ({
          key: `id-${from + i}`,
          value: JSON.stringify({ N: from + i }),
        })),
      });
    const outputs = async (expected: number) =>
      (await readTopic(testKafka(), output, expected, 20_000)).map((r) => r.key ?? '');
    try {
      const created = await ksql.post('/ksql', {
        ksql: `CREATE STREAM EOS_IN (ID STRING KEY, N INT) WITH (KAFKA_TOPIC='${input}', VALUE_FORMAT='JSON');
               CREATE STREAM EOS_OUT WITH (KAFKA_TOPIC='${output}', PARTITIONS=1) AS SELECT ID, N * 2 AS N2 FROM EOS_IN;`,
        streamsProperties: { 'auto.offset.reset': 'earliest', 'processing.guarantee': 'exactly_once_v2' },
      });
      expect(created.status, created.text).toBe(200);
      await send(0);
      expect(await outputs(5)).toHaveLength(5);

      const lost = proxy.loseNextProduceResponse();
      await send(5);
      await lost; // the transaction's records are written; the engine did not hear so
      await new Promise((r) => setTimeout(r, 8000)); // refused meanwhile: its sends give up
      proxy.heal();
      await send(10);
      const keys = await outputs(15);
      const expected = Array.from({ length: 15 }, (_, i) => `id-${i}`);
      expect([...keys].sort()).toEqual([...expected].sort());
    } finally {
      await ksql.stop();
    }
  }, 120_000);
});
