/**
 * `streamdesk lag` on the real broker: a group that committed part of a topic shows the rest as lag,
 * per partition with --verbose; --max-lag turns it into an exit code.
 */
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testKafka, uniqueName } from '../../support/env.ts';
import { createTestTopic, deleteTestTopics } from '../../support/kafka.ts';
import { runStreamdesk, type Ran } from '../../support/cli.ts';

function lag(...args: string[]): Promise<Ran> {
  return runStreamdesk(['lag', ...args], {}, 60_000);
}

let admin: Admin;
const groupId = uniqueName('lag-group');

beforeAll(async () => {
  admin = testKafka('lag-test').admin();
  await admin.connect();
});
afterAll(async () => {
  await admin.deleteGroups([groupId]).catch(() => undefined);
  await deleteTestTopics(admin);
  await admin.disconnect();
});

describe('streamdesk lag', () => {
  it('reports what a group has not committed yet, and fails a threshold', async () => {
    const topic = await createTestTopic(admin, 'lag-in', 2);
    const producer = testKafka('lag-producer').producer();
    await producer.connect();
    // 6 records on partition 0, 4 on partition 1.
    await producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: 10 }, (_, i) => ({ partition: i < 6 ? 0 : 1, value: `m${i}` })),
    });
    await producer.disconnect();
    // The group has read 5 of partition 0 and nothing of partition 1 yet.
    await admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: '5' }] });

    const json = await lag('--group', groupId, '--json');
    expect(json.status, json.stderr).toBe(0);
    const groups = JSON.parse(json.stdout) as {
      groupId: string;
      lag: string;
      state: string;
      topics: {
        topic: string;
        lag: string;
        partitions: { partition: number; committed?: string; end: string; lag: string }[];
      }[];
    }[];
    expect(groups).toHaveLength(1);
    expect(groups[0]).toMatchObject({ groupId, lag: '5', state: 'Empty' });
    expect(groups[0]?.topics).toEqual([
      {
        topic,
        lag: '5',
        partitions: [
          { partition: 0, committed: '5', end: '6', lag: '1' },
          { partition: 1, end: '4', lag: '4' },
        ],
      },
    ]);

    const table = await lag('--group', groupId, '--verbose');
    expect(table.stdout).toMatch(
      new RegExp(`${groupId.replaceAll('.', '\\.')}\\s+Empty\\s+0\\s+\\S+\\s+2\\s+5`),
    );
    expect(table.stdout).toMatch(/partition 1\s+-\/4\s+4/);

    expect((await lag('--group', groupId, '--max-lag', '5')).status).toBe(0);
    const over = await lag('--group', groupId, '--max-lag', '4');
    expect(over.status).toBe(1);
    expect(over.stderr).toContain(`lag above 4: ${groupId} (5)`);
    expect((await lag('--max-lag', 'lots')).status).toBe(2);
    expect((await lag('--group', `${groupId}-none`)).stdout).toContain('no consumer group matches');
  }, 120_000);
});
