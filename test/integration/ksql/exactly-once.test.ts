/**
 * Exactly-once queries on the real broker. A transaction spans the batches of every partition for
 * commit.interval.ms. And an exactly-once query whose transaction's produce request the broker wrote but never answered
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

describe('exactly-once queries', () => {
  it('after an ambiguous produce failure, every input has exactly one committed output', async () => {
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

  it('one transaction spans the batches of every partition for commit.interval.ms', async () => {
    const run = async (interval: number) => {
      const input = await createTestTopic(admin, 'span-in', 3);
      const output = trackTopic(uniqueName('span-out'));
      const serviceId = serviceIdFor('span');
      trackTopicPrefix(`_confluent-ksql-${serviceId}`);
      trackTopic(`${serviceId}ksql_processing_log`);
      const ksql = await startTestKsql('span', serviceId);
      try {
        const created = await ksql.post('/ksql', {
          ksql: `CREATE STREAM SPAN_IN (ID STRING KEY, N INT) WITH (KAFKA_TOPIC='${input}', VALUE_FORMAT='JSON');
                 CREATE STREAM SPAN_OUT WITH (KAFKA_TOPIC='${output}', PARTITIONS=3) AS SELECT ID, N FROM SPAN_IN;`,
          streamsProperties: {
            'auto.offset.reset': 'earliest',
            'processing.guarantee': 'exactly_once_v2',
            'commit.interval.ms': String(interval),
          },
        });
        expect(created.status, created.text).toBe(200);
        // Six sends, one record on each partition every time, 50 ms apart.
        for (let round = 0; round < 6; round++) {
          await producer.send({
            topic: input,
            acks: -1,
            messages: [0, 1, 2].map((partition) => ({
              partition,
              key: `id-${round}-${partition}`,
              value: JSON.stringify({ N: round }),
            })),
          });
          await new Promise((r) => setTimeout(r, 50));
        }
        const keys = (await readTopic(testKafka(), output, 18, 20_000)).map((r) => r.key ?? '');
        expect(keys).toHaveLength(18);
        expect(new Set(keys).size).toBe(18);
        return ksql.runtime.transactions();
      } finally {
        await ksql.stop();
      }
    };
    const perBatch = await run(0);
    const spanning = await run(5000);
    // Per batch: a transaction for each partition's batch (at least one per partition).
    expect(perBatch).toBeGreaterThanOrEqual(3);
    // 5 s interval: everything sent within ~0.5 s commits in one transaction (the stop commits it).
    expect(spanning).toBeLessThanOrEqual(2);
    expect(spanning).toBeLessThan(perBatch);
  }, 120_000);
});
