/**
 * The consumer runner's failure paths on the real broker: a retriable failure goes to the retry
 * topic and is processed again after its delay (without blocking the partition); a record that keeps
 * failing lands in the dead-letter topic after the last attempt, with its attempts in the headers.
 */
import type { Admin } from 'kafkajs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamdeskError } from '../../../src/errors.ts';
import { createConsumerRunner, HEADERS } from '../../../src/kafka/consumer-runner.ts';
import { testKafka, uniqueName } from '../../support/env.ts';
import { createTestTopic, deleteTestTopics, trackTopic } from '../../support/kafka.ts';
import { eventually } from '../../support/tickets.ts';

let admin: Admin;
beforeAll(async () => {
  admin = testKafka('retries-test').admin();
  await admin.connect();
});
afterAll(async () => {
  await deleteTestTopics(admin);
  await admin.disconnect();
});

describe('consumer runner retries', () => {
  it('retries a retriable failure after its delay, and dead-letters one that never succeeds', async () => {
    const topic = await createTestTopic(admin, 'runner-in', 2);
    const retryTopic = await createTestTopic(admin, 'runner-retry', 1);
    const deadLetterTopic = await createTestTopic(admin, 'runner-dlt', 1);
    const kafka = testKafka('runner');
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const attempts = new Map<string, number[]>();
    const handled: string[] = [];
    const runner = createConsumerRunner<string>({
      kafka,
      producer,
      groupId: uniqueName('runner'),
      topic,
      retryTopic,
      deadLetterTopic,
      retryDelaysMs: [500, 1000],
      maxAttempts: 3,
      concurrency: 2,
      logger: pino({ level: 'silent' }),
      decode: async (value) => value?.toString() ?? '',
      async handle(value, meta) {
        attempts.set(value, [...(attempts.get(value) ?? []), meta.attempt]);
        if (value === 'flaky' && meta.attempt < 2)
          throw new StreamdeskError('TICKETS_UNAVAILABLE', 'database unavailable');
        if (value === 'broken') throw new StreamdeskError('TICKETS_UNAVAILABLE', 'database unavailable');
        handled.push(value);
      },
    });
    await runner.start();
    const started = Date.now();
    await producer.send({
      topic,
      messages: [
        { key: 'k', value: 'flaky' },
        { key: 'k', value: 'after-flaky' },
        { key: 'b', value: 'broken' },
      ],
    });

    // The record behind the flaky one is not held up by the retry delay.
    await eventually(async () => handled.includes('after-flaky'));
    expect(handled).not.toContain('flaky');
    await eventually(async () => handled.includes('flaky'));
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
    expect(attempts.get('flaky')).toEqual([1, 2]);

    const dead: { value: string; headers: Record<string, string> }[] = [];
    const consumer = kafka.consumer({ groupId: uniqueName('dlt-reader'), maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic: deadLetterTopic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) =>
        void dead.push({
          value: message.value?.toString() ?? '',
          headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
        }),
    });
    await eventually(async () => dead.length >= 1, 30_000);
    await consumer.disconnect();
    await runner.stop();
    await producer.disconnect();
    trackTopic(retryTopic);

    expect(attempts.get('broken')).toEqual([1, 2, 3]);
    expect(dead).toHaveLength(1);
    expect(dead[0]?.value).toBe('broken');
    expect(dead[0]?.headers).toMatchObject({
      [HEADERS.attempts]: '3',
      [HEADERS.originalTopic]: topic,
      [HEADERS.errorCode]: 'SD_ERR_TICKETS_UNAVAILABLE',
      [HEADERS.errorMessage]: 'database unavailable',
    });
  }, 90_000);

  it('group commit: runs are handled together; a run with a failing record falls back to one by one', async () => {
    const topic = await createTestTopic(admin, 'batch-in', 1);
    const retryTopic = await createTestTopic(admin, 'batch-retry', 1);
    const deadLetterTopic = await createTestTopic(admin, 'batch-dlt', 1);
    const kafka = testKafka('batch-runner');
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const committed: string[] = []; // what took effect, in order
    const batches: number[] = [];
    const runner = createConsumerRunner<string>({
      kafka,
      producer,
      groupId: uniqueName('batch-runner'),
      topic,
      retryTopic,
      deadLetterTopic,
      retryDelaysMs: [60_000],
      maxAttempts: 1,
      concurrency: 1,
      maxBatch: 50,
      logger: pino({ level: 'silent' }),
      decode: async (value) => {
        const text = value?.toString() ?? '';
        if (text === 'undecodable') throw new StreamdeskError('RECORD_UNDECODABLE', 'not a record');
        return text;
      },
      async handle(value) {
        if (value === 'poison') throw new StreamdeskError('RECORD_INVALID', 'poison');
        committed.push(value);
      },
      // All or nothing, like a database transaction.
      async handleBatch(items) {
        if (items.some((i) => i.value === 'poison')) throw new StreamdeskError('RECORD_INVALID', 'poison');
        batches.push(items.length);
        committed.push(...items.map((i) => i.value));
      },
    });
    await runner.start();
    const values = [
      ...Array.from({ length: 20 }, (_, i) => `a${i}`),
      'poison',
      ...Array.from({ length: 5 }, (_, i) => `b${i}`),
      'undecodable',
      ...Array.from({ length: 5 }, (_, i) => `c${i}`),
    ];
    await producer.send({ topic, acks: -1, messages: values.map((value) => ({ key: 'k', value })) });
    const expected = values.filter((v) => v !== 'poison' && v !== 'undecodable');
    await eventually(async () => committed.length >= expected.length, 30_000);
    await new Promise((r) => setTimeout(r, 500));
    await runner.stop();
    await producer.disconnect();
    trackTopic(retryTopic);
    // Every good record took effect exactly once, in order; some went through in batches.
    expect(committed).toEqual(expected);
    expect(batches.length).toBeGreaterThan(0);
    expect(Math.max(...batches)).toBeGreaterThan(1);
  }, 60_000);
});
