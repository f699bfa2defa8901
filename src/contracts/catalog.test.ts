import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../paths.ts';
import {
  loadCatalog,
  parseCatalog,
  parseDuration,
  schemaSubjects,
  subjectsOf,
  topicConfigs,
} from './catalog.ts';
import { TOPICS, valueSubject } from './topics.ts';

const source = readFileSync(`${PROJECT_ROOT}/schemas/catalog.yaml`, 'utf8');
const subjects = new Set(schemaSubjects(`${PROJECT_ROOT}/schemas`));

describe('the topic catalog', () => {
  const catalog = loadCatalog(PROJECT_ROOT);

  it('declares the seven product topics, named as the code names them', () => {
    const product = catalog.topics.filter((t) => t.role === 'product').map((t) => t.name);
    expect(product.sort()).toEqual(Object.values(TOPICS).sort());
    for (const t of catalog.topics.filter((x) => x.role === 'product'))
      expect(t.valueSubject).toBe(valueSubject(t.name));
  });

  it('derives a retry and a dead-letter topic for every consumed topic, and none for the others', () => {
    for (const t of catalog.topics.filter((x) => x.role === 'product')) {
      const failure = catalog.topics.filter((x) => x.sourceTopic === t.name).map((x) => x.name);
      expect(failure).toEqual(t.consumers.length > 0 ? [`${t.name}.retry`, `${t.name}.dlt`] : []);
    }
    const dlt = catalog.topics.find((t) => t.name === 'processing.tickets.in.dlt');
    expect(dlt).toMatchObject({
      role: 'dead-letter',
      partitions: 1,
      valueSubject: undefined,
      producers: ['tickets'],
    });
  });

  it('compacts identities, keeps audit two years, and co-partitions the enrichment join', () => {
    const byName = new Map(catalog.topics.map((t) => [t.name, t]));
    expect(byName.get(TOPICS.customerIdentities)?.cleanupPolicy).toBe('compact');
    expect(byName.get(TOPICS.audit)?.retentionMs).toBe(730 * 86_400_000);
    expect(byName.get(TOPICS.normalizedMessages)?.partitions).toBe(
      byName.get(TOPICS.customerIdentities)?.partitions,
    );
  });

  it('profiles set replication and min.insync.replicas (local 1/1, production 3/2)', () => {
    expect(catalog.profiles).toEqual({
      local: { replicationFactor: 1, minInsyncReplicas: 1 },
      production: { replicationFactor: 3, minInsyncReplicas: 2 },
    });
    const raw = catalog.topics.find((t) => t.name === TOPICS.rawMessages);
    if (!raw) throw new Error('no raw topic');
    expect(topicConfigs(catalog, raw, 'production')).toEqual({
      'cleanup.policy': 'delete',
      'retention.ms': '604800000',
      'min.insync.replicas': '2',
    });
  });

  it('every subject has a mode; the externally read ones are FULL_TRANSITIVE', () => {
    const modes = Object.fromEntries(subjectsOf(catalog).map((s) => [s.subject, s.compatibility]));
    expect(modes['notifications.audit-value']).toBe('FULL_TRANSITIVE');
    expect(modes['ingestion.raw.messages-value']).toBe('BACKWARD_TRANSITIVE');
    expect(Object.keys(modes).sort()).toEqual([...subjects].sort());
  });

  it('every setting of every topic carries a one-line comment explaining it', () => {
    const topicLines = source.slice(source.indexOf('\ntopics:')).split('\n');
    const settings = topicLines.filter((l) =>
      /^ {4}(partitions|retention|cleanup_policy|key|compatibility):/.test(l),
    );
    expect(settings.length).toBeGreaterThan(25);
    for (const line of settings) expect(line).toMatch(/ # \S/);
  });
});

describe('catalog validation', () => {
  const broken = (edit: (s: string) => string) => () => parseCatalog(edit(source), subjects);

  it('names the offending key', () => {
    expect(broken((s) => s.replace('partitions: 3 # low volume\n', 'partitions: 0 # low volume\n'))).toThrow(
      /topics\.notifications\.alerts\.partitions must be a positive integer/,
    );
    expect(broken((s) => s.replace('producers: [intake]', 'producers: [nobody]'))).toThrow(
      /unknown principal "nobody"/,
    );
    expect(
      broken((s) =>
        s.replace('    cleanup_policy: delete # an event log, not state', '    cleanup_policy: remove'),
      ),
    ).toThrow(/cleanup_policy must be delete, compact or compact,delete/);
    expect(
      broken((s) => s.replace('retention: 7d # replay window', 'retention: 7 weeks # replay window')),
    ).toThrow(/not a duration/);
    expect(broken((s) => s.replace('version: 1', 'version: 1\nsurprise: true'))).toThrow(
      /unknown key\(s\) surprise/,
    );
    expect(
      broken((s) => s.replace('value_subject: notifications.alerts-value', 'value_subject: nope-value')),
    ).toThrow(/has no schemas\/nope-value\.avsc/);
  });

  it('refuses co-partitioned topics with different partition counts', () => {
    expect(
      broken((s) =>
        s.replace(
          'partitions: 6 # the table side of the enrichment join',
          'partitions: 12 # the table side of the enrichment join',
        ),
      ),
    ).toThrow(/co-partitioned topics need the same partition count/);
  });

  it('parses durations', () => {
    expect(parseDuration('30s', 'x')).toBe(30_000);
    expect(parseDuration('12h', 'x')).toBe(43_200_000);
    expect(parseDuration('forever', 'x')).toBe(-1);
    expect(() => parseDuration(7, 'x')).toThrow(/not a duration/);
  });
});
