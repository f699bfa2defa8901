/**
 * `streamdesk schemas check|register`: every .avsc parses and documents its fields; each subject is
 * checked under its catalog compatibility mode against the versions in the registry and against the
 * schemas at a git ref (computed locally, so it works before anything is registered).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import avro from 'avsc';
import { StreamdeskError } from '../errors.ts';
import type { RegistryClient } from '../registry/client.ts';
import {
  checkCompatibility,
  resolveSchema,
  type AvroNode,
  type Finding,
  type PreviousSchema,
} from '../registry/compatibility.ts';
import { schemaSubjects, subjectsOf, type Catalog, type CompatibilityMode } from './catalog.ts';

const execFileAsync = promisify(execFile);

export interface LocalSchema {
  readonly subject: string;
  readonly text: string;
  /** Undefined when the file does not parse (see problems). */
  readonly node: AvroNode | undefined;
  /** Parse errors and missing docs. */
  readonly problems: readonly string[];
}

/** Fields (at any depth) without a `doc`, as paths. */
function undocumented(schema: unknown, path: string[] = []): string[] {
  if (Array.isArray(schema)) return schema.flatMap((s) => undocumented(s, path));
  if (schema === null || typeof schema !== 'object') return [];
  const s = schema as Record<string, unknown>;
  const missing: string[] = [];
  if (s['type'] === 'record' && Array.isArray(s['fields'])) {
    for (const f of s['fields'] as Record<string, unknown>[]) {
      const here = [...path, String(f['name'])];
      if (typeof f['doc'] !== 'string' || f['doc'].trim() === '') missing.push(here.join('.'));
      missing.push(...undocumented(f['type'], here));
    }
  }
  for (const key of ['items', 'values', 'type'] as const) {
    if (typeof s[key] === 'object') missing.push(...undocumented(s[key], path));
  }
  return missing;
}

/** Parse and lint one schema text. */
export function inspectSchema(subject: string, text: string): LocalSchema {
  const problems: string[] = [];
  let node: AvroNode | undefined;
  try {
    const json = JSON.parse(text) as unknown;
    // avsc validates what our resolver does not: defaults matching their types, legal names...
    avro.Type.forSchema(json as avro.Schema);
    node = resolveSchema(json as string);
    for (const path of undocumented(json)) problems.push(`field \`${path}\` has no doc`);
  } catch (error) {
    problems.push(`does not parse as Avro: ${(error as Error).message}`);
    node = undefined;
  }
  return { subject, text, node, problems };
}

export function loadLocalSchemas(root: string): LocalSchema[] {
  return schemaSubjects(`${root}/schemas`).map((subject) =>
    inspectSchema(subject, readFileSync(`${root}/schemas/${subject}.avsc`, 'utf8')),
  );
}

async function git(root: string, args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('git', args, { cwd: root, maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

async function refExists(root: string, ref: string): Promise<boolean> {
  try {
    await git(root, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
    return true;
  } catch {
    return false;
  }
}

/**
 * The default base: the merge-base with main (what a branch started from); on main itself, the
 * previous commit. Undefined when there is nothing to compare with (a single commit, no git).
 */
export async function defaultBase(root: string): Promise<string | undefined> {
  for (const main of ['main', 'origin/main']) {
    if (!(await refExists(root, main))) continue;
    const mergeBase = (await git(root, ['merge-base', 'HEAD', main]).catch(() => '')).trim();
    const head = (await git(root, ['rev-parse', 'HEAD'])).trim();
    if (mergeBase !== '' && mergeBase !== head) return mergeBase;
    break;
  }
  return (await refExists(root, 'HEAD~1')) ? 'HEAD~1' : undefined;
}

/** The .avsc files at a git ref, subject → text. */
export async function schemasAtRef(root: string, ref: string): Promise<Map<string, string>> {
  if (!(await refExists(root, ref))) {
    throw new StreamdeskError(
      'GIT_REF_UNKNOWN',
      `git ref "${ref}" does not exist here (try a branch, tag or commit)`,
    );
  }
  const names = (await git(root, ['ls-tree', '--name-only', ref, '--', 'schemas/']))
    .split('\n')
    .filter((n) => n.endsWith('.avsc'));
  const result = new Map<string, string>();
  for (const name of names) {
    result.set(name.slice('schemas/'.length, -'.avsc'.length), await git(root, ['show', `${ref}:${name}`]));
  }
  return result;
}

export interface SubjectReport {
  readonly subject: string;
  readonly compatibility: CompatibilityMode;
  readonly problems: readonly string[];
  /** What it was compared with: "registry versions 1-3", "HEAD~1 (abc1234)". */
  readonly comparedWith: readonly string[];
  readonly findings: readonly Finding[];
}

export interface CheckReport {
  readonly subjects: readonly SubjectReport[];
  /** Notes that are not failures (no base, registry skipped...). */
  readonly notes: readonly string[];
  readonly ok: boolean;
}

export interface CheckOptions {
  readonly catalog: Catalog;
  readonly local: readonly LocalSchema[];
  /** Compare with the registry's versions (undefined: skip). */
  readonly registry?: RegistryClient | undefined;
  /** Compare with schemas at this git ref: label and subject → text (undefined: skip). */
  readonly base?: { readonly label: string; readonly schemas: ReadonlyMap<string, string> } | undefined;
}

export async function checkSchemas(options: CheckOptions): Promise<CheckReport> {
  const { catalog, local, registry, base } = options;
  const notes: string[] = [];
  const modes = new Map(subjectsOf(catalog).map((s) => [s.subject, s.compatibility]));
  const reports: SubjectReport[] = [];
  for (const schema of local) {
    const compatibility = modes.get(schema.subject) ?? catalog.defaultCompatibility;
    const problems = [...schema.problems];
    if (!modes.has(schema.subject)) problems.push('no topic in schemas/catalog.yaml uses this subject');
    const comparedWith: string[] = [];
    const findings: Finding[] = [];
    if (schema.node) {
      if (registry) {
        const versions = await registry.versions(schema.subject);
        if (versions.length > 0) {
          const previous: PreviousSchema[] = [];
          for (const v of versions) {
            const { schema: text } = await registry.schema(schema.subject, v);
            previous.push({ label: `registry version ${v}`, schema: resolveSchema(text) });
          }
          comparedWith.push(
            versions.length === 1
              ? `registry version ${versions[0]}`
              : `registry versions ${versions[0]}-${versions.at(-1)}`,
          );
          findings.push(...checkCompatibility(schema.node, previous, compatibility));
        }
      }
      const baseText = base?.schemas.get(schema.subject);
      if (base && baseText !== undefined) {
        const previous = inspectSchema(schema.subject, baseText);
        if (previous.node) {
          comparedWith.push(base.label);
          findings.push(
            ...checkCompatibility(schema.node, [{ label: base.label, schema: previous.node }], compatibility),
          );
        }
      }
    }
    reports.push({ subject: schema.subject, compatibility, problems, comparedWith, findings });
  }
  if (base) {
    for (const subject of base.schemas.keys()) {
      if (!local.some((l) => l.subject === subject)) {
        reports.push({
          subject,
          compatibility: catalog.defaultCompatibility,
          problems: [
            `schemas/${subject}.avsc exists at ${base.label} but was deleted: records written with it still exist`,
          ],
          comparedWith: [base.label],
          findings: [],
        });
      }
    }
  }
  if (!registry) notes.push('registry not consulted (--no-registry)');
  if (!base) notes.push('no git base to compare with');
  else notes.push(`git base ${base.label}: ${base.schemas.size} schema(s) there`);
  return {
    subjects: reports,
    notes,
    ok: reports.every((r) => r.problems.length === 0 && r.findings.length === 0),
  };
}

export function formatCheckReport(report: CheckReport): string {
  const lines: string[] = [];
  for (const r of report.subjects) {
    const failed = r.problems.length > 0 || r.findings.length > 0;
    const against =
      r.comparedWith.length === 0
        ? 'nothing to compare with yet'
        : `compared with ${r.comparedWith.join(' and ')}`;
    lines.push(`${failed ? 'FAIL' : 'ok  '} ${r.subject} (${r.compatibility}): ${against}`);
    for (const p of r.problems) lines.push(`       - ${p}`);
    for (const f of r.findings) lines.push(`       - ${f.explanation}`);
  }
  for (const note of report.notes) lines.push(`note: ${note}`);
  const failures = report.subjects.filter((r) => r.problems.length > 0 || r.findings.length > 0).length;
  lines.push(
    failures === 0
      ? `${report.subjects.length} subject(s) ok`
      : `${failures} of ${report.subjects.length} subject(s) fail`,
  );
  return lines.join('\n');
}

export interface RegisterResult {
  readonly subject: string;
  readonly id: number;
  readonly version: number;
  readonly compatibility: CompatibilityMode;
}

/**
 * Register every subject of the catalog and set its compatibility mode. The mode is set before the
 * schema when the subject exists (so the new version is judged under it), after when it is new
 * (Apicurio refuses a config for a subject that does not exist yet).
 */
export async function registerSchemas(
  catalog: Catalog,
  local: readonly LocalSchema[],
  registry: RegistryClient,
  progress: (line: string) => void,
): Promise<RegisterResult[]> {
  const broken = local.filter((l) => l.node === undefined);
  if (broken.length > 0) {
    throw new StreamdeskError(
      'SCHEMA_INVALID',
      `cannot register: ${broken.map((b) => `${b.subject}: ${b.problems.join('; ')}`).join(', ')}`,
    );
  }
  const results: RegisterResult[] = [];
  for (const { subject, compatibility } of subjectsOf(catalog)) {
    const schema = local.find((l) => l.subject === subject);
    if (!schema)
      throw new StreamdeskError(
        'CATALOG_INVALID',
        `catalog subject ${subject} has no schemas/${subject}.avsc`,
      );
    const existed = (await registry.versions(subject)).length > 0;
    if (existed) await registry.setSubjectCompatibility(subject, compatibility);
    const id = await registry.register(subject, schema.text);
    if (!existed) await registry.setSubjectCompatibility(subject, compatibility);
    const found = await registry.lookup(subject, schema.text);
    const version = found?.version ?? (await registry.versions(subject)).at(-1) ?? 1;
    results.push({ subject, id, version, compatibility });
    progress(`${subject}: id ${id}, version ${version}, ${compatibility}`);
  }
  return results;
}
