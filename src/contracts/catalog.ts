/**
 * The topic catalog (schemas/catalog.yaml): parsed, validated and expanded with the derived failure
 * topics. `parseCatalog` is pure; `loadCatalog` reads the file and the list of .avsc subjects.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { StreamdeskError } from '../errors.ts';

export const PROFILES = ['local', 'production'] as const;
export type Profile = (typeof PROFILES)[number];

export const COMPATIBILITY_MODES = [
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
  'NONE',
] as const;
export type CompatibilityMode = (typeof COMPATIBILITY_MODES)[number];

export type TopicRole = 'product' | 'retry' | 'dead-letter';

export interface TopicSpec {
  readonly name: string;
  readonly description: string;
  readonly role: TopicRole;
  /** For retry and dead-letter topics: the topic whose failures they hold. */
  readonly sourceTopic: string | undefined;
  readonly partitions: number;
  /** -1 means forever. */
  readonly retentionMs: number;
  readonly cleanupPolicy: 'delete' | 'compact' | 'compact,delete';
  /** Extra topic configs, exactly as Kafka names them. */
  readonly configs: Readonly<Record<string, string>>;
  /** What the record key is (documentation; every key is a plain string). */
  readonly key: string;
  /** The Schema Registry subject of the value; undefined for dead-letter topics (any bytes). */
  readonly valueSubject: string | undefined;
  readonly compatibility: CompatibilityMode;
  readonly coPartitionedWith: string | undefined;
  /** Principal names (keys of `principals`). */
  readonly producers: readonly string[];
  readonly consumers: readonly string[];
}

export interface ProfileSpec {
  readonly replicationFactor: number;
  readonly minInsyncReplicas: number;
}

export interface Catalog {
  readonly profiles: Readonly<Record<Profile, ProfileSpec>>;
  /** Principal name → Kafka principal (User:...). */
  readonly principals: Readonly<Record<string, string>>;
  readonly defaultCompatibility: CompatibilityMode;
  /** Product topics in catalog order, each followed by its derived failure topics. */
  readonly topics: readonly TopicSpec[];
}

function fail(message: string): never {
  throw new StreamdeskError('CATALOG_INVALID', `topic catalog: ${message}`);
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "7d" → 604800000; "forever" → -1. */
export function parseDuration(value: unknown, where: string): number {
  if (value === 'forever') return -1;
  const match = typeof value === 'string' ? /^(\d+)(ms|s|m|h|d)$/.exec(value) : null;
  if (!match?.[1] || !match[2])
    fail(`${where}: "${String(value)}" is not a duration like 30s, 12h, 7d or forever`);
  return Number(match[1]) * (UNITS[match[2]] ?? 1);
}

type Obj = Record<string, unknown>;

function object(value: unknown, where: string, allowed: readonly string[]): Obj {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(`${where} must be a mapping`);
  const unknown = Object.keys(value).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) fail(`${where}: unknown key(s) ${unknown.join(', ')}`);
  return value as Obj;
}

function positiveInt(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1)
    fail(`${where} must be a positive integer`);
  return value;
}

function text(value: unknown, where: string): string {
  if (typeof value !== 'string' || value.trim() === '') fail(`${where} must be a non-empty string`);
  return value;
}

function names(value: unknown, where: string, principals: Obj): string[] {
  if (!Array.isArray(value)) fail(`${where} must be a list of principal names`);
  return value.map((v, i) => {
    const name = text(v, `${where}[${i}]`);
    if (!(name in principals)) fail(`${where}: unknown principal "${name}" (declare it under principals)`);
    return name;
  });
}

function compatibility(value: unknown, where: string): CompatibilityMode {
  const found = COMPATIBILITY_MODES.find((m) => m === value);
  if (!found) fail(`${where} must be one of ${COMPATIBILITY_MODES.join(', ')}`);
  return found;
}

// Kafka's legal topic names: 1-249 of [a-zA-Z0-9._-].
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

/**
 * Parse and validate the catalog text. `subjects` is the set of subjects that have a schema file;
 * every value subject must be among them.
 */
export function parseCatalog(source: string, subjects: ReadonlySet<string>): Catalog {
  const root = object(parse(source) as unknown, 'the catalog', [
    'version',
    'profiles',
    'principals',
    'default_compatibility',
    'failure_topics',
    'topics',
  ]);
  if (root['version'] !== 1) fail('version must be 1');

  const profilesIn = object(root['profiles'], 'profiles', PROFILES);
  const profiles = Object.fromEntries(
    PROFILES.map((p) => {
      const spec = object(profilesIn[p], `profiles.${p}`, ['replication_factor', 'min_insync_replicas']);
      const rf = positiveInt(spec['replication_factor'], `profiles.${p}.replication_factor`);
      const isr = positiveInt(spec['min_insync_replicas'], `profiles.${p}.min_insync_replicas`);
      if (isr > rf) fail(`profiles.${p}: min_insync_replicas ${isr} exceeds replication_factor ${rf}`);
      return [p, { replicationFactor: rf, minInsyncReplicas: isr }];
    }),
  ) as Record<Profile, ProfileSpec>;

  const principalsIn = object(
    root['principals'],
    'principals',
    Object.keys((root['principals'] as Obj | null) ?? {}),
  );
  const principals = Object.fromEntries(
    Object.entries(principalsIn).map(([k, v]) => {
      const principal = text(v, `principals.${k}`);
      if (!principal.startsWith('User:')) fail(`principals.${k} must be a Kafka principal like User:name`);
      return [k, principal];
    }),
  );
  const defaultCompatibility = compatibility(root['default_compatibility'], 'default_compatibility');

  const failureIn = object(root['failure_topics'], 'failure_topics', ['retry', 'dead_letter']);
  const failure = (key: 'retry' | 'dead_letter') => {
    const spec = object(failureIn[key], `failure_topics.${key}`, ['suffix', 'partitions', 'retention']);
    return {
      suffix: text(spec['suffix'], `failure_topics.${key}.suffix`),
      partitions: positiveInt(spec['partitions'], `failure_topics.${key}.partitions`),
      retentionMs: parseDuration(spec['retention'], `failure_topics.${key}.retention`),
    };
  };
  const retry = failure('retry');
  const deadLetter = failure('dead_letter');

  const topicsIn = object(root['topics'], 'topics', Object.keys((root['topics'] as Obj | null) ?? {}));
  const topics: TopicSpec[] = [];
  for (const [name, raw] of Object.entries(topicsIn)) {
    const where = `topics.${name}`;
    if (!TOPIC_NAME.test(name)) fail(`${where}: not a legal Kafka topic name`);
    const t = object(raw, where, [
      'description',
      'partitions',
      'retention',
      'cleanup_policy',
      'configs',
      'key',
      'value_subject',
      'compatibility',
      'co_partitioned_with',
      'producers',
      'consumers',
    ]);
    const cleanup = t['cleanup_policy'];
    if (cleanup !== 'delete' && cleanup !== 'compact' && cleanup !== 'compact,delete') {
      fail(`${where}.cleanup_policy must be delete, compact or compact,delete`);
    }
    const configsIn =
      t['configs'] === undefined
        ? {}
        : object(t['configs'], `${where}.configs`, Object.keys(t['configs'] as Obj));
    const configs = Object.fromEntries(
      Object.entries(configsIn).map(([k, v]) => {
        if (['cleanup.policy', 'retention.ms', 'min.insync.replicas'].includes(k)) {
          fail(`${where}.configs.${k}: set it with the dedicated key (cleanup_policy, retention, profiles)`);
        }
        return [k, text(v, `${where}.configs.${k}`)];
      }),
    );
    const valueSubject = text(t['value_subject'], `${where}.value_subject`);
    if (!subjects.has(valueSubject))
      fail(`${where}.value_subject ${valueSubject} has no schemas/${valueSubject}.avsc`);
    const producers = names(t['producers'], `${where}.producers`, principals);
    const consumers = names(t['consumers'], `${where}.consumers`, principals);
    const spec: TopicSpec = {
      name,
      description: text(t['description'], `${where}.description`),
      role: 'product',
      sourceTopic: undefined,
      partitions: positiveInt(t['partitions'], `${where}.partitions`),
      retentionMs: parseDuration(t['retention'], `${where}.retention`),
      cleanupPolicy: cleanup,
      configs,
      key: text(t['key'], `${where}.key`),
      valueSubject,
      compatibility:
        t['compatibility'] === undefined
          ? defaultCompatibility
          : compatibility(t['compatibility'], `${where}.compatibility`),
      coPartitionedWith:
        t['co_partitioned_with'] === undefined
          ? undefined
          : text(t['co_partitioned_with'], `${where}.co_partitioned_with`),
      producers,
      consumers,
    };
    topics.push(spec);
    if (consumers.length > 0) {
      // The consumers of a topic write its failure topics and read its retry topic.
      topics.push({
        ...spec,
        name: `${name}${retry.suffix}`,
        description: `Retriable failures of ${name} consumers, re-consumed after a delay.`,
        role: 'retry',
        sourceTopic: name,
        partitions: retry.partitions,
        retentionMs: retry.retentionMs,
        cleanupPolicy: 'delete',
        configs: {},
        coPartitionedWith: undefined,
        producers: consumers,
        consumers,
      });
      topics.push({
        ...spec,
        name: `${name}${deadLetter.suffix}`,
        description: `Records ${name} consumers could not process, with the error in headers.`,
        role: 'dead-letter',
        sourceTopic: name,
        partitions: deadLetter.partitions,
        retentionMs: deadLetter.retentionMs,
        cleanupPolicy: 'delete',
        configs: {},
        valueSubject: undefined,
        coPartitionedWith: undefined,
        producers: consumers,
        consumers: [],
      });
    }
  }
  const byName = new Map(topics.map((t) => [t.name, t]));
  if (byName.size !== topics.length) fail('a derived failure topic collides with a declared topic');
  for (const t of topics) {
    if (t.coPartitionedWith === undefined) continue;
    const other = byName.get(t.coPartitionedWith);
    if (!other) fail(`topics.${t.name}.co_partitioned_with: no topic ${t.coPartitionedWith}`);
    if (other.partitions !== t.partitions) {
      fail(
        `topics.${t.name} has ${t.partitions} partitions but is joined with ${other.name} (${other.partitions}); ` +
          'co-partitioned topics need the same partition count',
      );
    }
  }
  return { profiles, principals, defaultCompatibility, topics };
}

/** The Kafka topic configs the catalog manages for `topic` under `profile`. */
export function topicConfigs(catalog: Catalog, topic: TopicSpec, profile: Profile): Record<string, string> {
  return {
    'cleanup.policy': topic.cleanupPolicy,
    'retention.ms': String(topic.retentionMs),
    'min.insync.replicas': String(catalog.profiles[profile].minInsyncReplicas),
    ...topic.configs,
  };
}

/** Subjects that have a schema file: schemas/<subject>.avsc. */
export function schemaSubjects(schemasDir: string): string[] {
  return readdirSync(schemasDir)
    .filter((f) => f.endsWith('.avsc'))
    .map((f) => f.slice(0, -'.avsc'.length))
    .sort();
}

export function loadCatalog(root: string): Catalog {
  const dir = `${root}/schemas`;
  return parseCatalog(readFileSync(`${dir}/catalog.yaml`, 'utf8'), new Set(schemaSubjects(dir)));
}

/** The catalog's topics with a value subject, one entry per subject. */
export function subjectsOf(catalog: Catalog): { subject: string; compatibility: CompatibilityMode }[] {
  const seen = new Map<string, CompatibilityMode>();
  for (const t of catalog.topics) {
    if (t.valueSubject !== undefined && t.role === 'product') seen.set(t.valueSubject, t.compatibility);
  }
  return [...seen].map(([subject, compatibility]) => ({ subject, compatibility }));
}

/** The catalog with every topic under STREAMDESK_TOPIC_PREFIX (subjects keep their catalog names). */
export function withTopicPrefix(catalog: Catalog, prefix: string): Catalog {
  if (prefix === '') return catalog;
  const rename = (name: string | undefined): string | undefined =>
    name === undefined ? undefined : `${prefix}${name}`;
  return {
    ...catalog,
    topics: catalog.topics.map((t) => ({
      ...t,
      name: `${prefix}${t.name}`,
      sourceTopic: rename(t.sourceTopic),
      coPartitionedWith: rename(t.coPartitionedWith),
    })),
  };
}
