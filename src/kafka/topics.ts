/**
 * Reconcile the cluster with the topic catalog: create missing topics, add partitions, correct config
 * drift. Never deletes a topic, never shrinks partitions, never changes replication (that needs a
 * reassignment): those are refused, and a plan with a refusal applies nothing.
 */
import kafkajs, { type Admin } from 'kafkajs';
import { topicConfigs, type Catalog, type Profile, type TopicSpec } from '../contracts/catalog.ts';
import { StreamdeskError } from '../errors.ts';
import { createTopicsReady } from './admin.ts';

export interface ConfigChange {
  readonly name: string;
  /** undefined: not set on the topic. */
  readonly from: string | undefined;
  /** undefined: a hand-made override the catalog does not have (apply removes it). */
  readonly to: string | undefined;
}

export type TopicAction =
  | {
      readonly kind: 'create';
      readonly topic: string;
      readonly partitions: number;
      readonly replicationFactor: number;
      readonly configs: Readonly<Record<string, string>>;
    }
  | { readonly kind: 'add-partitions'; readonly topic: string; readonly from: number; readonly to: number }
  | {
      readonly kind: 'alter-configs';
      readonly topic: string;
      readonly changes: readonly ConfigChange[];
      /** The complete desired set (AlterConfigs replaces a topic's overrides as a whole). */
      readonly configs: Readonly<Record<string, string>>;
    }
  | { readonly kind: 'refuse'; readonly topic: string; readonly reason: string };

export interface TopicPlan {
  readonly profile: Profile;
  readonly actions: readonly TopicAction[];
  /** Catalog topics already as declared. */
  readonly unchanged: readonly string[];
  /** Topics on the cluster that the catalog does not declare (left alone). */
  readonly unmanaged: readonly string[];
}

// kafkajs is CommonJS and Node's ESM loader cannot see this enum as a named export.
const { ConfigResourceTypes } = kafkajs;

// DescribeConfigs `configSource` of a per-topic override (DYNAMIC_TOPIC_CONFIG).
const TOPIC_OVERRIDE = 1;

function normalizeValue(name: string, value: string): string {
  return name === 'cleanup.policy'
    ? value
        .split(',')
        .map((s) => s.trim())
        .sort()
        .join(',')
    : value;
}

/** Compute what `apply` would do, from the cluster's current state. */
export async function planTopics(admin: Admin, catalog: Catalog, profile: Profile): Promise<TopicPlan> {
  const { replicationFactor } = catalog.profiles[profile];
  const cluster = await admin.describeCluster();
  const existing = new Set(await admin.listTopics());
  const declared = catalog.topics;
  const present = declared.filter((t) => existing.has(t.name));
  const metadata =
    present.length === 0
      ? []
      : (await admin.fetchTopicMetadata({ topics: present.map((t) => t.name) })).topics;
  const described =
    present.length === 0
      ? []
      : (
          await admin.describeConfigs({
            includeSynonyms: false,
            resources: present.map((t) => ({ type: ConfigResourceTypes.TOPIC, name: t.name })),
          })
        ).resources;

  const actions: TopicAction[] = [];
  const unchanged: string[] = [];
  for (const topic of declared) {
    const desired = topicConfigs(catalog, topic, profile);
    if (!existing.has(topic.name)) {
      if (cluster.brokers.length < replicationFactor) {
        actions.push({
          kind: 'refuse',
          topic: topic.name,
          reason: `profile ${profile} needs replication factor ${replicationFactor} but the cluster has ${cluster.brokers.length} broker(s)`,
        });
      } else {
        actions.push({
          kind: 'create',
          topic: topic.name,
          partitions: topic.partitions,
          replicationFactor,
          configs: desired,
        });
      }
      continue;
    }
    const before = actions.length;
    const meta = metadata.find((m) => m.name === topic.name);
    const partitions = meta?.partitions.length ?? 0;
    const replicas = meta?.partitions[0]?.replicas.length ?? 0;
    if (partitions > topic.partitions) {
      actions.push({
        kind: 'refuse',
        topic: topic.name,
        reason:
          `has ${partitions} partitions, the catalog says ${topic.partitions}: Kafka cannot remove partitions ` +
          '(and fewer would move keys to other partitions); raise the catalog to match, or recreate the topic by hand',
      });
    } else if (partitions < topic.partitions) {
      actions.push({ kind: 'add-partitions', topic: topic.name, from: partitions, to: topic.partitions });
    }
    if (replicas !== replicationFactor) {
      actions.push({
        kind: 'refuse',
        topic: topic.name,
        reason:
          `has replication factor ${replicas}, profile ${profile} says ${replicationFactor}: changing it needs a ` +
          'partition reassignment (kafka-reassign-partitions), which streamdesk does not do',
      });
    }
    const entries = described.find((r) => r.resourceName === topic.name)?.configEntries ?? [];
    const changes: ConfigChange[] = [];
    for (const [name, value] of Object.entries(desired)) {
      const actual = entries.find((e) => e.configName === name);
      if (
        actual?.configValue === undefined ||
        normalizeValue(name, actual.configValue) !== normalizeValue(name, value)
      ) {
        changes.push({ name, from: actual?.configValue ?? undefined, to: value });
      }
    }
    for (const entry of entries) {
      const source = (entry as { configSource?: number }).configSource;
      if (source === TOPIC_OVERRIDE && !(entry.configName in desired)) {
        changes.push({ name: entry.configName, from: entry.configValue, to: undefined });
      }
    }
    if (changes.length > 0)
      actions.push({ kind: 'alter-configs', topic: topic.name, changes, configs: desired });
    if (actions.length === before) unchanged.push(topic.name);
  }
  const names = new Set(declared.map((t: TopicSpec) => t.name));
  const unmanaged = [...existing].filter((t) => !names.has(t) && !t.startsWith('__')).sort();
  return { profile, actions, unchanged, unmanaged };
}

export function refusals(plan: TopicPlan): TopicAction[] {
  return plan.actions.filter((a) => a.kind === 'refuse');
}

/** Apply a plan. Refuses as a whole if any action is a refusal. */
export async function applyTopicPlan(
  admin: Admin,
  plan: TopicPlan,
  progress: (line: string) => void,
): Promise<void> {
  const refused = refusals(plan);
  if (refused.length > 0) {
    throw new StreamdeskError(
      'TOPICS_REFUSED',
      `nothing applied; the plan has changes streamdesk will not make:\n${refused
        .map((r) => `  ${r.topic}: ${r.kind === 'refuse' ? r.reason : ''}`)
        .join('\n')}`,
    );
  }
  const creates = plan.actions.filter((a) => a.kind === 'create');
  if (creates.length > 0) {
    await createTopicsReady(
      admin,
      creates.map((c) => ({
        topic: c.topic,
        numPartitions: c.partitions,
        replicationFactor: c.replicationFactor,
        configEntries: Object.entries(c.configs).map(([name, value]) => ({ name, value })),
      })),
    );
    for (const c of creates)
      progress(`created ${c.topic} (${c.partitions} partitions, replication ${c.replicationFactor})`);
  }
  const grows = plan.actions.filter((a) => a.kind === 'add-partitions');
  if (grows.length > 0) {
    await admin.createPartitions({ topicPartitions: grows.map((g) => ({ topic: g.topic, count: g.to })) });
    for (const g of grows) progress(`${g.topic}: partitions ${g.from} → ${g.to}`);
  }
  for (const a of plan.actions) {
    if (a.kind !== 'alter-configs') continue;
    // AlterConfigs replaces the topic's overrides with exactly this set.
    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: ConfigResourceTypes.TOPIC,
          name: a.topic,
          configEntries: Object.entries(a.configs).map(([name, value]) => ({ name, value })),
        },
      ],
    });
    progress(`${a.topic}: configs ${a.changes.map((c) => c.name).join(', ')} set`);
  }
}

/**
 * Plan again until the cluster shows no difference: KRaft applies config and partition changes
 * through the metadata log, so a broker answers with the old state for a moment after an apply.
 * Returns the last plan (empty when converged within `timeoutMs`).
 */
export async function waitForConvergence(
  admin: Admin,
  catalog: Catalog,
  profile: Profile,
  timeoutMs = 15_000,
): Promise<TopicPlan> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const plan = await planTopics(admin, catalog, profile);
    if (plan.actions.length === 0 || Date.now() > deadline) return plan;
    await new Promise((r) => setTimeout(r, 200));
  }
}

function formatConfigs(configs: Readonly<Record<string, string>>): string {
  return Object.entries(configs)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

export function formatTopicPlan(plan: TopicPlan): string {
  const lines: string[] = [];
  for (const a of plan.actions) {
    switch (a.kind) {
      case 'create':
        lines.push(
          `+ create  ${a.topic}  partitions=${a.partitions} replication=${a.replicationFactor} ${formatConfigs(a.configs)}`,
        );
        break;
      case 'add-partitions':
        lines.push(`~ grow    ${a.topic}  partitions ${a.from} → ${a.to}`);
        break;
      case 'alter-configs':
        for (const c of a.changes) {
          const what =
            c.to === undefined
              ? `${c.name}=${c.from ?? ''} is set on the cluster but not in the catalog: apply removes it`
              : `${c.name} ${c.from ?? '(unset)'} → ${c.to}`;
          lines.push(`~ config  ${a.topic}  ${what}`);
        }
        break;
      case 'refuse':
        lines.push(`! refuse  ${a.topic}  ${a.reason}`);
        break;
    }
  }
  const count = (kind: TopicAction['kind']): number =>
    new Set(plan.actions.filter((a) => a.kind === kind).map((a) => a.topic)).size;
  if (plan.actions.length === 0)
    lines.push(
      `no changes: all ${plan.unchanged.length} catalog topics are as declared (profile ${plan.profile})`,
    );
  else {
    lines.push(
      `plan (profile ${plan.profile}): ${count('create')} to create, ${count('add-partitions')} to grow, ` +
        `${count('alter-configs')} with config drift, ${count('refuse')} refused, ${plan.unchanged.length} unchanged`,
    );
  }
  if (plan.unmanaged.length > 0)
    lines.push(
      `${plan.unmanaged.length} other topic(s) on the cluster are not in the catalog and are left alone`,
    );
  return lines.join('\n');
}
