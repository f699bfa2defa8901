/**
 * `streamdesk dlt` on the real broker: a consumer dead-letters the records it cannot process; list
 * and show report them without printing keys or values; a dry run sends nothing; replay sends them back
 * to their original topic exactly once (a second replay sends nothing, the consumer handles each once);
 * a selective replay leaves the position alone; a record without origin is refused.
 */
import type { Admin, IHeaders } from 'kafkajs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConsumerRunner, poison } from '../../../src/kafka/consumer-runner.ts';
import { createTopicsReady } from '../../../src/kafka/admin.ts';
import { readToEnd } from '../../../src/kafka/read-to-end.ts';
import { replayGroupId } from '../../../src/ops/dlt.ts';
import { testKafka, uniqueName } from '../../support/env.ts';
import { deleteTestTopics, trackTopic } from '../../support/kafka.ts';
import { eventually } from '../../support/tickets.ts';
import { runStreamdesk, type Ran } from '../../support/cli.ts';

let admin: Admin;
const prefix = `${uniqueName('dlt')}.`;
// The catalog's tickets input and its failure topics, under a prefix of this test's own.
const topic = trackTopic(`${prefix}processing.tickets.in`);
const retryTopic = trackTopic(`${topic}.retry`);
const dltTopic = trackTopic(`${topic}.dlt`);

function dlt(...args: string[]): Promise<Ran> {
  return runStreamdesk(['dlt', ...args], { STREAMDESK_TOPIC_PREFIX: prefix });
}

/** Committed data records in a topic (offsets would count transaction markers too). */
async function records(name: string): Promise<number> {
  return readToEnd({
    kafka: testKafka('dlt-count'),
    admin,
    topics: [name],
    readCommitted: true,
    groupPrefix: uniqueName('dlt-count'),
    onMessage: () => undefined,
  });
}

beforeAll(async () => {
  admin = testKafka('dlt-test').admin();
  await admin.connect();
  await createTopicsReady(admin, [
    { topic, numPartitions: 2, replicationFactor: 1 },
    { topic: retryTopic, numPartitions: 1, replicationFactor: 1 },
    { topic: dltTopic, numPartitions: 1, replicationFactor: 1 },
  ]);
});
afterAll(async () => {
  await admin.deleteGroups([replayGroupId(dltTopic)]).catch(() => undefined);
  await deleteTestTopics(admin);
  await admin.disconnect();
});

describe('streamdesk dlt', () => {
  it('lists, shows and replays dead letters exactly once', async () => {
    const kafka = testKafka('dlt-runner');
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    let broken = true;
    const handled: { value: string; headers: IHeaders }[] = [];
    const runner = createConsumerRunner<string>({
      kafka,
      producer,
      groupId: uniqueName('dlt-runner'),
      topic,
      retryTopic,
      deadLetterTopic: dltTopic,
      retryDelaysMs: [200],
      maxAttempts: 2,
      concurrency: 2,
      logger: pino({ level: 'silent' }),
      decode: async (value) => value?.toString() ?? '',
      async handle(value, meta) {
        if (broken && value.startsWith('bad')) throw poison('the record does not fit the contract');
        handled.push({ value, headers: meta.headers });
      },
    });
    try {
      await runner.start();
      // Keys stand for customer data: they must never show in the CLI's output.
      const key = (i: number): string => `email:customer-${i}@example.com`;
      await producer.send({
        topic,
        acks: -1,
        messages: ['ok-0', 'bad-1', 'ok-2', 'bad-3', 'ok-4', 'bad-5'].map((value, i) => ({
          key: key(i),
          value,
        })),
      });
      await eventually(
        async () => (await records(dltTopic)) === 3 && handled.length === 3,
        30_000,
        'dead letters',
      );

      const listed = await dlt('list', '--json');
      expect(listed.status, listed.stderr).toBe(0);
      const summaries = JSON.parse(listed.stdout) as {
        topic: string;
        records: number;
        pending: number;
        byErrorCode: Record<string, number>;
      }[];
      expect(summaries).toEqual([
        expect.objectContaining({
          topic: dltTopic,
          records: 3,
          pending: 3,
          byErrorCode: { SD_ERR_RECORD_INVALID: 3 },
        }),
      ]);
      const table = await dlt('list');
      expect(table.stdout).toMatch(
        new RegExp(`${dltTopic.replaceAll('.', '\\.')}\\s+3\\s+3\\s+SD_ERR_RECORD_INVALID×3`),
      );

      // By the product topic's name too; origins, attempts and errors, no keys or values.
      const shown = await dlt('show', topic, '--json');
      expect(shown.status, shown.stderr).toBe(0);
      const letters = JSON.parse(shown.stdout) as Record<string, unknown>[];
      expect(letters.map((l) => [l['offset'], l['originalTopic'], l['errorCode'], l['replayed']])).toEqual([
        ['0', topic, 'SD_ERR_RECORD_INVALID', false],
        ['1', topic, 'SD_ERR_RECORD_INVALID', false],
        ['2', topic, 'SD_ERR_RECORD_INVALID', false],
      ]);
      expect(letters.every((l) => l['bytes'] === 5 && !('key' in l) && !('value' in l))).toBe(true);
      const text = await dlt('show', dltTopic);
      expect(text.stdout).toContain('the record does not fit the contract');
      for (const out of [listed.stdout, table.stdout, shown.stdout, text.stdout]) {
        expect(out).not.toContain('example.com');
        expect(out).not.toContain('bad-');
      }

      // A dry run sends nothing.
      const before = await records(topic);
      const dry = await dlt('replay', dltTopic, '--dry-run');
      expect(dry.status, dry.stderr).toBe(0);
      expect(dry.stdout).toContain(`would replay 3 record(s) after the replay position: 3 → ${topic}`);
      expect(await records(topic)).toBe(before);

      // Fixed: replay sends the three back once; the consumer handles them.
      broken = false;
      const replayed = await dlt('replay', topic);
      expect(replayed.status, replayed.stderr).toBe(0);
      expect(replayed.stdout).toContain('replayed 3 record(s) after the replay position');
      expect(await records(topic)).toBe(before + 3);
      await eventually(async () => handled.length === 6, 30_000, 'replayed records handled');
      const again = handled.filter((h) => h.value.startsWith('bad'));
      expect(again.map((h) => h.value).sort()).toEqual(['bad-1', 'bad-3', 'bad-5']);
      expect(again.map((h) => h.headers['sd-replayed-from']?.toString()).sort()).toEqual([
        `${dltTopic}/0/0`,
        `${dltTopic}/0/1`,
        `${dltTopic}/0/2`,
      ]);
      expect(again.every((h) => h.headers['sd-error-code'] === undefined)).toBe(true);

      // A second replay has nothing after the position.
      const second = await dlt('replay', dltTopic);
      expect(second.status, second.stderr).toBe(0);
      expect(second.stdout).toContain('nothing to replay');
      expect(await records(topic)).toBe(before + 3);

      // A selective replay sends just that record and leaves the position where it was.
      const one = await dlt('replay', dltTopic, '--offsets', '1');
      expect(one.status, one.stderr).toBe(0);
      expect(await records(topic)).toBe(before + 4);
      const after = JSON.parse((await dlt('list', '--json')).stdout) as { pending: number }[];
      expect(after[0]?.pending).toBe(0);

      // Two replays at once send new dead letters once between them (the second fences the first).
      broken = true;
      await producer.send({
        topic,
        acks: -1,
        messages: ['bad-6', 'bad-7'].map((value, i) => ({ key: key(6 + i), value })),
      });
      await eventually(async () => (await records(dltTopic)) === 5, 30_000, 'two more dead letters');
      broken = false;
      const racing = await Promise.all([dlt('replay', dltTopic), dlt('replay', dltTopic)]);
      // The one that lost, if it got as far as sending, says so and that nothing was replayed. A
      // fenced producer usually hears PRODUCER_FENCED (REFUSED); CI once saw the broker answer its
      // commit with UNKNOWN_SERVER_ERROR instead, reported as Kafka unavailable.
      for (const r of racing.filter((x) => x.status !== 0))
        expect(r.stderr).toMatch(
          /SD_ERR_DLT_REPLAY_REFUSED|SD_ERR_KAFKA_UNAVAILABLE: replay failed, nothing was replayed/,
        );
      expect(
        racing.some((r) => r.status === 0),
        racing.map((r) => r.stderr).join('\n'),
      ).toBe(true);
      expect(await records(topic), JSON.stringify(racing)).toBe(before + 8);

      // A record without its origin is refused, and nothing is sent.
      await producer.send({ topic: dltTopic, acks: -1, messages: [{ key: 'x', value: 'orphan' }] });
      const refused = await dlt('replay', dltTopic);
      expect(refused.status).toBe(1);
      expect(refused.stderr).toContain('SD_ERR_DLT_REPLAY_REFUSED');
      expect(refused.stderr).toContain('0/5');
      expect(await records(topic)).toBe(before + 8);

      // Usage mistakes exit 2; unknown topics 1 with their code.
      expect((await dlt('replay', dltTopic, '--offsets', 'x')).status).toBe(2);
      const unknown = await dlt('show', `${prefix}nope`);
      expect(unknown.status).toBe(1);
      expect(unknown.stderr).toContain('SD_ERR_DLT_UNKNOWN_TOPIC');
    } finally {
      await runner.stop();
      await producer.disconnect();
    }
  }, 180_000);
});
