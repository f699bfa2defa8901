/** `topics plan|apply` against the real broker, on a copy of the catalog with this test's own topic names. */
import type { Admin } from 'kafkajs';
import kafkajs from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog, type Catalog } from '../../../src/contracts/catalog.ts';
import {
  applyTopicPlan,
  formatTopicPlan,
  planTopics,
  waitForConvergence,
  type TopicPlan,
} from '../../../src/kafka/topics.ts';
import { PROJECT_ROOT } from '../../../src/paths.ts';
import { isolatedCatalog } from '../../support/catalog.ts';
import { testKafka } from '../../support/env.ts';
import { deleteTestTopics, trackTopic } from '../../support/kafka.ts';

const { ConfigResourceTypes } = kafkajs;
let admin: Admin;

beforeAll(async () => {
  admin = testKafka('topics-test').admin();
  await admin.connect();
});
afterAll(async () => {
  await deleteTestTopics(admin);
  await admin.disconnect();
});

const noop = (): void => undefined;

/** KRaft shows a change made by hand after a moment: plan until the plan shows something. */
async function planShowingChanges(catalog: Catalog): Promise<TopicPlan> {
  for (let i = 0; i < 75; i++) {
    const plan = await planTopics(admin, catalog, 'local');
    if (plan.actions.length > 0) return plan;
    await new Promise((r) => setTimeout(r, 200));
  }
  return planTopics(admin, catalog, 'local');
}

describe('topics plan|apply', () => {
  let catalog: Catalog;
  let prefix: string;

  beforeAll(() => {
    ({ catalog, prefix } = isolatedCatalog(loadCatalog(PROJECT_ROOT), 'topics'));
    catalog.topics.forEach((t) => trackTopic(t.name));
  });

  it('plans every catalog topic for creation, applies, and a second apply changes nothing', async () => {
    const first = await planTopics(admin, catalog, 'local');
    expect(first.actions.filter((a) => a.kind === 'create')).toHaveLength(catalog.topics.length);
    await applyTopicPlan(admin, first, noop);

    const second = await waitForConvergence(admin, catalog, 'local');
    expect(second.actions).toEqual([]);
    expect(second.unchanged).toHaveLength(catalog.topics.length);
    expect(formatTopicPlan(second)).toContain(
      `no changes: all ${catalog.topics.length} catalog topics are as declared`,
    );

    // What was created is what the catalog says.
    const identities = `${prefix}processing.customer.identities`;
    const metadata = await admin.fetchTopicMetadata({ topics: [identities] });
    expect(metadata.topics[0]?.partitions).toHaveLength(6);
    const configs = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: identities }],
    });
    const entries = Object.fromEntries(
      (configs.resources[0]?.configEntries ?? []).map((e) => [e.configName, e.configValue]),
    );
    expect(entries['cleanup.policy']).toBe('compact');
    expect(entries['min.compaction.lag.ms']).toBe('60000');
    expect(entries['min.insync.replicas']).toBe('1');
  });

  it('shows config drift made by hand, and apply puts it back', async () => {
    const audit = `${prefix}notifications.audit`;
    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: ConfigResourceTypes.TOPIC,
          name: audit,
          configEntries: [
            { name: 'retention.ms', value: '3600000' },
            { name: 'cleanup.policy', value: 'delete' },
            { name: 'min.insync.replicas', value: '1' },
            { name: 'max.message.bytes', value: '12345' },
          ],
        },
      ],
    });
    const plan = await planShowingChanges(catalog);
    expect(plan.actions).toEqual([
      {
        kind: 'alter-configs',
        topic: audit,
        changes: [
          { name: 'retention.ms', from: '3600000', to: String(730 * 86_400_000) },
          { name: 'max.message.bytes', from: '12345', to: undefined },
        ],
        configs: {
          'cleanup.policy': 'delete',
          'retention.ms': String(730 * 86_400_000),
          'min.insync.replicas': '1',
        },
      },
    ]);
    const text = formatTopicPlan(plan);
    expect(text).toContain(`~ config  ${audit}  retention.ms 3600000 → 63072000000`);
    expect(text).toContain(
      'max.message.bytes=12345 is set on the cluster but not in the catalog: apply removes it',
    );

    await applyTopicPlan(admin, plan, noop);
    expect((await waitForConvergence(admin, catalog, 'local')).actions).toEqual([]);
  });

  it('grows partitions when the catalog asks for more', async () => {
    const alerts = `${prefix}notifications.alerts`;
    const grown: Catalog = {
      ...catalog,
      topics: catalog.topics.map((t) => (t.name === alerts ? { ...t, partitions: 4 } : t)),
    };
    const plan = await planTopics(admin, grown, 'local');
    expect(plan.actions).toEqual([{ kind: 'add-partitions', topic: alerts, from: 3, to: 4 }]);
    await applyTopicPlan(admin, plan, noop);
    expect((await waitForConvergence(admin, grown, 'local')).actions).toEqual([]);
    const metadata = await admin.fetchTopicMetadata({ topics: [alerts] });
    expect(metadata.topics[0]?.partitions).toHaveLength(4);
    catalog = grown; // the cluster now matches the grown catalog
  });

  it('refuses to shrink partitions, with a clear message, and applies nothing else from that plan', async () => {
    const raw = `${prefix}ingestion.raw.messages`;
    const extra = trackTopic(`${prefix}extra.topic`);
    const template = catalog.topics.find((t) => t.name === raw);
    if (!template) throw new Error('no raw topic');
    const shrunk: Catalog = {
      ...catalog,
      topics: [
        ...catalog.topics.map((t) => (t.name === raw ? { ...t, partitions: 2 } : t)),
        { ...template, name: extra },
      ],
    };
    const plan = await planTopics(admin, shrunk, 'local');
    expect(plan.actions.map((a) => a.kind).sort()).toEqual(['create', 'refuse']);
    expect(formatTopicPlan(plan)).toMatch(
      /! refuse .*has 6 partitions, the catalog says 2: Kafka cannot remove partitions/,
    );
    await expect(applyTopicPlan(admin, plan, noop)).rejects.toMatchObject({ code: 'SD_ERR_TOPICS_REFUSED' });
    expect(await admin.listTopics()).not.toContain(extra);
  });

  it('refuses the production profile on a single broker instead of failing half-way', async () => {
    const fresh = isolatedCatalog(loadCatalog(PROJECT_ROOT), 'prod').catalog;
    const plan = await planTopics(admin, fresh, 'production');
    expect(plan.actions.every((a) => a.kind === 'refuse')).toBe(true);
    expect(formatTopicPlan(plan)).toContain(
      'profile production needs replication factor 3 but the cluster has 1 broker(s)',
    );
  });
});
