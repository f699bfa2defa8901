/**
 * QTT case files: parsing (comments allowed, numbers exact), expansion into runs (format × config),
 * and classification (windowed, negative, part of the acceptance subset).
 */
import {
  isJsonObject,
  JsonNumber,
  parseJson,
  stripJsonComments,
  type JsonObject,
  type JsonValue,
} from '../serde/json-text.ts';

export interface QttRecord {
  readonly topic: string;
  readonly key?: JsonValue;
  readonly value: JsonValue;
  readonly timestamp?: number;
  readonly headers?: readonly { readonly key: string; readonly value: string | null }[];
  readonly window?: JsonValue;
}

export interface QttTopic {
  readonly name: string;
  readonly keyFormat?: string;
  readonly valueFormat?: string;
  readonly format?: string;
  readonly keySchema?: JsonValue;
  readonly valueSchema?: JsonValue;
  readonly keySchemaId?: number;
  readonly valueSchemaId?: number;
  readonly keySchemaReferences?: JsonValue;
  readonly valueSchemaReferences?: JsonValue;
  readonly partitions?: number;
}

export interface QttRun {
  readonly file: string;
  /** `<case name>[ - <FORMAT>][ - <CONFIG>]` */
  readonly name: string;
  readonly enabled: boolean;
  readonly statements: readonly string[];
  readonly properties: Readonly<Record<string, string>>;
  readonly topics: readonly QttTopic[];
  readonly inputs: readonly QttRecord[];
  readonly outputs: readonly QttRecord[];
  readonly expectedException?: { readonly type?: string; readonly message?: string };
  readonly post?: JsonObject;
}

function str(v: JsonValue | undefined): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (v instanceof JsonNumber) return v.text;
  if (typeof v === 'boolean') return String(v);
  return undefined;
}

function num(v: JsonValue | undefined): number | undefined {
  if (v instanceof JsonNumber) return v.toNumber();
  if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) return Number(v);
  return undefined;
}

function record(v: JsonValue): QttRecord {
  if (!isJsonObject(v)) throw new Error('record must be an object');
  const headers = Array.isArray(v.headers)
    ? v.headers.map((h) => {
        const o = isJsonObject(h) ? h : {};
        return { key: str(o.KEY ?? o.key) ?? '', value: str(o.VALUE ?? o.value) ?? null };
      })
    : undefined;
  const ts = num(v.timestamp);
  return {
    topic: str(v.topic) ?? '',
    ...(Object.hasOwn(v, 'key') ? { key: v.key ?? null } : {}),
    value: v.value ?? null,
    ...(ts === undefined ? {} : { timestamp: ts }),
    ...(headers === undefined ? {} : { headers }),
    ...(v.window === undefined ? {} : { window: v.window }),
  };
}

function topic(v: JsonValue): QttTopic {
  if (!isJsonObject(v)) throw new Error('topic must be an object');
  const partitions = num(v.partitions);
  const keySchemaId = num(v.keySchemaId);
  const valueSchemaId = num(v.valueSchemaId);
  const keyFormat = str(v.keyFormat);
  const valueFormat = str(v.valueFormat);
  const format = str(v.format);
  return {
    name: str(v.name) ?? '',
    ...(keyFormat === undefined ? {} : { keyFormat }),
    ...(valueFormat === undefined ? {} : { valueFormat }),
    ...(format === undefined ? {} : { format }),
    ...(v.keySchema === undefined ? {} : { keySchema: v.keySchema }),
    ...(v.valueSchema === undefined ? {} : { valueSchema: v.valueSchema }),
    ...(keySchemaId === undefined ? {} : { keySchemaId }),
    ...(valueSchemaId === undefined ? {} : { valueSchemaId }),
    ...(v.keySchemaReferences === undefined ? {} : { keySchemaReferences: v.keySchemaReferences }),
    ...(v.valueSchemaReferences === undefined ? {} : { valueSchemaReferences: v.valueSchemaReferences }),
    ...(partitions === undefined ? {} : { partitions }),
  };
}

/**
 * streamdesk's extensions of the case format, for case files that test the product's own topology
 * (test/ksql/*.qtt.json) without copying it: a case's `"migrations": {"dir", "variables"}` takes its
 * statements from a ksql-migrations folder (variables substituted, SET/UNSET as properties), and a
 * topic's `"valueSchemaFile"` names an .avsc file instead of an inline `valueSchema`. Paths are
 * relative to the case file.
 */
export interface CaseFileResolver {
  migrations(
    dir: string,
    variables: Readonly<Record<string, string>>,
  ): { statements: string[]; properties: Record<string, string> };
  schemaFile(path: string): JsonValue;
}

/** Parses one case file's text into runs (one per format × config). */
export function parseCaseFile(file: string, text: string, resolver?: CaseFileResolver): QttRun[] {
  const root = parseJson(stripJsonComments(text));
  if (!isJsonObject(root) || !Array.isArray(root.tests)) throw new Error(`${file}: no "tests" array`);
  const runs: QttRun[] = [];
  for (const t of root.tests) {
    if (!isJsonObject(t)) continue;
    const name = str(t.name) ?? '(unnamed)';
    const formats = Array.isArray(t.format) ? t.format.map((f) => str(f) ?? '') : [undefined];
    const configs = Array.isArray(t.config) ? t.config.map((c) => str(c) ?? '') : [undefined];
    let statements = Array.isArray(t.statements) ? t.statements.map((s) => str(s) ?? '') : [];
    let props: JsonObject = isJsonObject(t.properties) ? t.properties : {};
    if (isJsonObject(t.migrations)) {
      if (resolver === undefined)
        throw new Error(`${file}: "migrations" needs a resolver (load the file with loadRuns)`);
      const vars = isJsonObject(t.migrations.variables) ? t.migrations.variables : {};
      const resolved = resolver.migrations(
        str(t.migrations.dir) ?? '',
        Object.fromEntries(Object.keys(vars).map((k) => [k, str(vars[k]) ?? ''])),
      );
      statements = [...resolved.statements, ...statements];
      props = { ...resolved.properties, ...props };
    }
    for (const format of formats) {
      for (const config of configs) {
        const subst = (s: string): string => {
          let out = s;
          if (format !== undefined) out = out.replaceAll('{FORMAT}', format);
          if (config !== undefined) out = out.replaceAll('{CONFIG}', config);
          return out;
        };
        const properties: Record<string, string> = {};
        for (const k of Object.keys(props)) properties[k] = subst(str(props[k]) ?? '');
        const ee = isJsonObject(t.expectedException) ? t.expectedException : undefined;
        const eeType = str(ee?.type);
        const eeMessage = str(ee?.message);
        runs.push({
          file,
          name: `${name}${format === undefined ? '' : ` - ${format}`}${config === undefined ? '' : ` - ${config}`}`,
          enabled: t.enabled !== false,
          statements: statements.map(subst),
          properties,
          topics: Array.isArray(t.topics)
            ? t.topics.map((v) => {
                const schemaFile = isJsonObject(v) ? str(v.valueSchemaFile) : undefined;
                if (schemaFile === undefined || !isJsonObject(v)) return topic(v);
                if (resolver === undefined) throw new Error(`${file}: "valueSchemaFile" needs a resolver`);
                return topic({ ...v, valueSchema: resolver.schemaFile(schemaFile) });
              })
            : [],
          inputs: Array.isArray(t.inputs) ? t.inputs.map(record) : [],
          outputs: Array.isArray(t.outputs) ? t.outputs.map(record) : [],
          ...(ee === undefined
            ? {}
            : {
                expectedException: {
                  ...(eeType === undefined ? {} : { type: eeType }),
                  ...(eeMessage === undefined ? {} : { message: eeMessage }),
                },
              }),
          ...(isJsonObject(t.post) ? { post: t.post } : {}),
        });
      }
    }
  }
  return runs;
}

const WINDOWED = /\bWINDOW\b|\bWITHIN\b|EMIT\s+FINAL/i;

export function isWindowed(run: QttRun): boolean {
  return (
    run.statements.some((s) => WINDOWED.test(s)) ||
    [...run.inputs, ...run.outputs].some((r) => r.window !== undefined && r.window !== null)
  );
}

/** The acceptance subset: positive, non-windowed, no GROUP BY, no JOIN, no CREATE TABLE. */
export function inAcceptanceSubset(run: QttRun): boolean {
  if (!run.enabled || run.expectedException !== undefined || isWindowed(run)) return false;
  const text = run.statements.join('\n');
  return (
    !/GROUP\s+BY/i.test(text) && !/\bJOIN\b/i.test(text) && !/CREATE\s+(OR\s+REPLACE\s+)?TABLE/i.test(text)
  );
}
