/**
 * Schema evolution against the real registry: for each change, the registry's own yes/no verdict and
 * streamdesk's explained verdict must agree; plus `schemas register` on the real catalog and
 * `schemas check` against a git base.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCatalog, type CompatibilityMode } from '../../../src/contracts/catalog.ts';
import {
  checkSchemas,
  loadLocalSchemas,
  registerSchemas,
  schemasAtRef,
} from '../../../src/contracts/schemas.ts';
import { PROJECT_ROOT } from '../../../src/paths.ts';
import { createRegistryClient } from '../../../src/registry/client.ts';
import { checkCompatibility, resolveSchema } from '../../../src/registry/compatibility.ts';
import { testConfig, uniqueName } from '../../support/env.ts';

const registry = createRegistryClient(testConfig.registry.url);

type Field = Record<string, unknown>;
const ticket = (fields: Field[]): string =>
  JSON.stringify({ type: 'record', name: 'Ticket', namespace: 'dev.streamdesk.test', fields });
const v1Fields: Field[] = [
  { name: 'ticket_id', type: 'string' },
  { name: 'priority', type: 'int' },
  { name: 'channel', type: { type: 'enum', name: 'Channel', symbols: ['EMAIL', 'WHATSAPP'] } },
];
const withField = (name: string, replacement: Field | undefined): Field[] =>
  v1Fields.flatMap((f) => (f['name'] === name ? (replacement ? [replacement] : []) : [f]));

/** Register v1 under a fresh subject with `mode`, then judge v2 both ways. */
async function judge(
  mode: CompatibilityMode,
  v2: string,
): Promise<{ registry: boolean; explanations: string[] }> {
  const subject = `${uniqueName('evolution')}-value`;
  await registry.register(subject, ticket(v1Fields));
  await registry.setSubjectCompatibility(subject, mode);
  const previous = [];
  for (const v of await registry.versions(subject)) {
    previous.push({
      label: `registry version ${v}`,
      schema: resolveSchema((await registry.schema(subject, v)).schema),
    });
  }
  const findings = checkCompatibility(resolveSchema(v2), previous, mode);
  return {
    registry: await registry.isCompatible(subject, v2),
    explanations: findings.map((f) => f.explanation),
  };
}

describe('schema evolution, judged by the registry and explained by streamdesk', () => {
  it.each([
    [
      'add a field with a default',
      'BACKWARD_TRANSITIVE',
      [...v1Fields, { name: 'tag', type: 'string', default: '' }],
    ],
    ['int → long', 'BACKWARD', withField('priority', { name: 'priority', type: 'long' })],
    [
      'add an enum symbol (BACKWARD allows it)',
      'BACKWARD',
      withField('channel', {
        name: 'channel',
        type: { type: 'enum', name: 'Channel', symbols: ['EMAIL', 'WHATSAPP', 'WEB_FORM'] },
      }),
    ],
    [
      'add a field without default (FORWARD allows it: old readers skip it)',
      'FORWARD',
      [...v1Fields, { name: 'tag', type: 'string' }],
    ],
  ] as const)('compatible: %s (%s)', async (_name, mode, fields) => {
    const verdict = await judge(mode, ticket([...fields]));
    expect(verdict).toEqual({ registry: true, explanations: [] });
  });

  it.each([
    [
      'remove a required field',
      'FULL_TRANSITIVE',
      withField('priority', undefined),
      /field `priority` was removed and has no default: consumers still on registry version 1 cannot read/,
    ],
    [
      'change a type',
      'BACKWARD',
      withField('priority', { name: 'priority', type: 'string' }),
      /field `priority` changed type from int to string/,
    ],
    [
      'rename without alias',
      'BACKWARD',
      withField('priority', { name: 'urgency', type: 'int' }),
      /field `urgency` was added without a default \(if `priority` was renamed, add "aliases": \["priority"\] to it\): consumers on the new schema cannot read records written with registry version 1/,
    ],
    [
      'add a field without default',
      'BACKWARD',
      [...v1Fields, { name: 'tag', type: 'string' }],
      /field `tag` was added without a default/,
    ],
    [
      'add an enum symbol under FORWARD (old enum has no default)',
      'FORWARD',
      withField('channel', {
        name: 'channel',
        type: { type: 'enum', name: 'Channel', symbols: ['EMAIL', 'WHATSAPP', 'WEB_FORM'] },
      }),
      /enum Channel gained symbol\(s\) WEB_FORM/,
    ],
  ] as const)('incompatible: %s (%s)', async (_name, mode, fields, explanation) => {
    const verdict = await judge(mode, ticket([...fields]));
    expect(verdict.registry).toBe(false);
    expect(verdict.explanations.length).toBeGreaterThan(0);
    expect(verdict.explanations.join('\n')).toMatch(explanation);
  });
});

describe('schemas register', () => {
  it('registers a value subject for every catalog topic, with the catalog compatibility, idempotently', async () => {
    const catalog = loadCatalog(PROJECT_ROOT);
    const local = loadLocalSchemas(PROJECT_ROOT);
    const first = await registerSchemas(catalog, local, registry, () => undefined);
    const second = await registerSchemas(catalog, local, registry, () => undefined);
    expect(second).toEqual(first);
    const subjects = new Set(await registry.subjects());
    for (const topic of catalog.topics.filter((t) => t.role === 'product')) {
      expect(topic.valueSubject).toBeDefined();
      expect(subjects.has(topic.valueSubject ?? '')).toBe(true);
      expect(await registry.subjectCompatibility(topic.valueSubject ?? '')).toBe(topic.compatibility);
    }
    // And the checked-in schemas are compatible with what is registered.
    const report = await checkSchemas({ catalog, local, registry });
    expect(report.ok).toBe(true);
    expect(report.subjects.every((s) => s.comparedWith.some((c) => c.startsWith('registry version')))).toBe(
      true,
    );
  });
});

describe('schemas check against a git base', () => {
  const dir = mkdtempSync(`${tmpdir()}/streamdesk-schemas-`);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const git = (...args: string[]): string =>
    execFileSync('git', ['-c', 'user.email=t@example.invalid', '-c', 'user.name=t', ...args], {
      cwd: dir,
      encoding: 'utf8',
    });

  it('explains an incompatible change to a contract compared with the previous commit', async () => {
    cpSync(`${PROJECT_ROOT}/schemas`, `${dir}/schemas`, { recursive: true });
    git('init', '-q', '-b', 'main');
    git('add', '.');
    git('commit', '-q', '-m', 'contracts');
    // An incompatible edit in the working tree: the audit contract (FULL_TRANSITIVE) loses `action`.
    const file = `${dir}/schemas/notifications.audit-value.avsc`;
    const audit = JSON.parse(execFileSync('cat', [file], { encoding: 'utf8' })) as {
      fields: { name: string }[];
    };
    audit.fields = audit.fields.filter((f) => f.name !== 'action');
    writeFileSync(file, JSON.stringify(audit, null, 2));

    const report = await checkSchemas({
      catalog: loadCatalog(dir),
      local: loadLocalSchemas(dir),
      base: { label: 'HEAD', schemas: await schemasAtRef(dir, 'HEAD') },
    });
    expect(report.ok).toBe(false);
    const failing = report.subjects.filter((s) => s.findings.length > 0);
    expect(failing.map((s) => s.subject)).toEqual(['notifications.audit-value']);
    expect(failing[0]?.findings.map((f) => f.explanation)).toEqual([
      'field `action` was removed and has no default: consumers still on HEAD cannot read records written with the new schema',
    ]);
    await expect(schemasAtRef(dir, 'no-such-ref')).rejects.toMatchObject({ code: 'SD_ERR_GIT_REF_UNKNOWN' });
  });
});
