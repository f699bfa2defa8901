/**
 * A produce request the broker wrote but never answered (it crashed, or the connection dropped after
 * the write) is an ambiguous failure. Injected here between the real broker and the client: the
 * broker writes batch A, its answer is lost and connections are refused until the client gives up.
 */
import type { Admin, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../../src/kafka/client.ts';
import { createRenewingProducer, type SendingProducer } from '../../../src/kafka/renewing-producer.ts';
import { INTAKE_PRODUCER } from '../../../src/services/intake/main.ts';
import { testConfig, testKafka } from '../../support/env.ts';
import { createFaultProxy, type FaultProxy } from '../../support/fault-proxy.ts';
import { createTestTopic, deleteTestTopics, readTopic } from '../../support/kafka.ts';

let admin: Admin;
let proxy: FaultProxy;
beforeAll(async () => {
  admin = testKafka('ambiguous-test').admin();
  await admin.connect();
  proxy = await createFaultProxy(testConfig.kafka.brokers[0] as string);
});
afterAll(async () => {
  await proxy.close();
  await deleteTestTopics(admin);
  await admin.disconnect();
});

const newProducer = (): Producer =>
  createKafka({
    brokers: testConfig.kafka.brokers,
    clientId: 'ambiguous-send',
    socketFactory: proxy.socketFactory,
  }).producer(INTAKE_PRODUCER);

/** warm-0, then A (5 records, written, answer lost, send fails), then B (5 records). */
async function scenario(producer: SendingProducer) {
  const topic = await createTestTopic(admin, 'ambiguous', 1);
  const send = (tag: string, n: number) =>
    producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: n }, (_, i) => ({ key: 'k', value: `${tag}-${i}` })),
    });
  await producer.connect();
  await send('warm', 1);
  const lost = proxy.loseNextProduceResponse();
  const a = send('a', 5).then(
    () => 'acknowledged',
    () => 'failed',
  );
  await lost;
  const outcomeA = await a;
  proxy.heal();
  const [ackB] = await send('b', 5);
  await producer.disconnect();
  const values = (await readTopic(testKafka(), topic, 11, 5000)).map((r) => r.value?.toString() ?? '');
  return {
    outcomeA,
    ackB,
    values,
    count: (tag: string) => values.filter((v) => v.startsWith(`${tag}-`)).length,
  };
}

describe('a send after an ambiguous failure', () => {
  it('kafkajs alone: acknowledged as a duplicate of the lost batch and not written (why the wrapper exists)', async () => {
    const { outcomeA, ackB, count } = await scenario(newProducer());
    expect(outcomeA).toBe('failed');
    expect(count('a')).toBe(5); // the broker did write A
    expect(ackB?.baseOffset).toBe('1'); // B "acknowledged" at A's offset...
    expect(count('b')).toBe(0); // ...and not in the topic
  }, 60_000);

  it('renewing producer: the failed send retires the producer and the next batch is written', async () => {
    const producer = createRenewingProducer(newProducer);
    const { outcomeA, ackB, values, count } = await scenario(producer);
    expect(outcomeA).toBe('failed');
    expect(producer.renewals()).toBe(1);
    expect(count('a')).toBe(5);
    expect(count('b')).toBe(5);
    expect(ackB?.baseOffset).toBe('6');
    expect(values).toEqual(['warm-0', 'a-0', 'a-1', 'a-2', 'a-3', 'a-4', 'b-0', 'b-1', 'b-2', 'b-3', 'b-4']);
  }, 60_000);

  it('sends go one at a time, and a disconnected renewing producer refuses to send', async () => {
    const topic = await createTestTopic(admin, 'serial', 1);
    const producer = createRenewingProducer(() => testKafka('serial').producer(INTAKE_PRODUCER));
    await producer.connect();
    const acks = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        producer.send({ topic, acks: -1, messages: [{ value: `m-${i}` }] }),
      ),
    );
    // In call order: the i-th send got offset i.
    expect(acks.map(([m]) => m?.baseOffset)).toEqual(Array.from({ length: 10 }, (_, i) => String(i)));
    await producer.disconnect();
    await expect(producer.send({ topic, messages: [{ value: 'late' }] })).rejects.toThrow('disconnected');
    expect(producer.renewals()).toBe(0);
  }, 60_000);
});
