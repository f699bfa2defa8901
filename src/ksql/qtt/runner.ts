/**
 * Runs QTT cases on the in-memory engine (in-memory topics and schema registry), the way ksqlDB's
 * QueryTranslationTest does: register the case's schemas, execute the statements, pipe the inputs,
 * compare every output topic named in the case, then check post-conditions.
 */
import { isKsqlError } from '../errors.ts';
import type { FunctionDef } from '../functions/registry.ts';
import { createFunctionRegistry } from '../functions/builtins.ts';
import { parseStatements, parseTableElements } from '../parser/parser.ts';
import { MetaStore } from '../analyzer/metastore.ts';
import { planCreateSource } from '../planner/planner.ts';
import { schemasFor } from '../execution/schemas.ts';
import type { SourceDefinition } from '../planner/steps.ts';
import { T, typesEqual, formatType } from '../schema/types.ts';
import { createEngine, type Engine } from '../execution/engine.ts';
import { InMemoryTopicIO, type ProducerRecord, type TopicRecord } from '../execution/topic-io.ts';
import { isKeyUnwrapped, isValueUnwrapped, parseFormatName, type FormatInfo } from '../serde/formats.ts';
import { isJsonObject, stringifyJson, type JsonValue } from '../serde/json-text.ts';
import {
  keySubject,
  valueSubject,
  InMemorySchemaRegistry,
  type SchemaReference,
  type SchemaType,
} from '../serde/registry.ts';
import { inAcceptanceSubset, isWindowed, type QttRecord, type QttRun, type QttTopic } from './cases.ts';
import { showSpec, specMatches } from './compare.ts';
import { bytesToSpec, specToBytes, type SideInfo } from './spec.ts';

export type RunStatus = 'passed' | 'failed' | 'unsupported';

export interface RunResult {
  readonly file: string;
  readonly name: string;
  readonly status: RunStatus;
  readonly reason: string;
  /** Counted in the acceptance metric (positive, non-windowed, no GROUP BY / JOIN / CREATE TABLE). */
  readonly inSubset: boolean;
  readonly negative: boolean;
}

class CaseFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CaseFailure';
  }
}

/** Test-only functions ksqlDB's QTT registers (ksqldb-functional-tests udfs). */
export function qttTestFunctions(): FunctionDef[] {
  // BadUdf keeps a counter per instance: its STRING overload returns null every other call.
  let calls = 0;
  return [
    {
      name: 'BAD_UDF',
      overloads: [
        {
          params: [T.INTEGER],
          returns: T.STRING,
          nullPropagating: false,
          invoke: () => {
            throw new Error('boom!');
          },
        },
        {
          params: [T.BOOLEAN],
          returns: T.INTEGER,
          nullPropagating: false,
          invoke: (a) => {
            if (a[0] === true) throw new Error('You asked me to throw...');
            return 0;
          },
        },
        {
          params: [T.STRING],
          returns: T.STRING,
          nullPropagating: false,
          invoke: (a) => (calls++ % 2 === 0 ? null : a[0]),
        },
      ],
    },
    {
      name: 'WHENCONDITION',
      overloads: [
        {
          params: [T.BOOLEAN, T.BOOLEAN],
          returns: T.BOOLEAN,
          invoke: (a) => {
            if (a[1] !== true) throw new Error('Should not be executed');
            return a[0];
          },
        },
      ],
    },
    {
      name: 'WHENRESULT',
      overloads: [
        {
          params: [T.INTEGER, T.BOOLEAN],
          returns: T.INTEGER,
          invoke: (a) => {
            if (a[1] !== true) throw new Error('Should not be executed');
            return a[0];
          },
        },
      ],
    },
  ];
}

function schemaTypeFor(format: string | undefined, schema: JsonValue): SchemaType {
  const f = format?.toUpperCase();
  if (f === 'PROTOBUF' || f === 'PROTOBUF_NOSR') return 'PROTOBUF';
  if (f === 'JSON' || f === 'JSON_SR') return 'JSON';
  if (typeof schema === 'string' && schema.trim().startsWith('syntax')) return 'PROTOBUF';
  return 'AVRO';
}

function schemaText(schema: JsonValue): string {
  return typeof schema === 'string' && (schema.trim().startsWith('syntax') || !schema.trim().startsWith('{'))
    ? schema.trim().startsWith('syntax')
      ? schema
      : JSON.stringify(schema)
    : stringifyJson(schema);
}

/** Registers schema references (e.g. imported .proto files) under their own names, version 1. */
function registerReferences(
  refs: JsonValue | undefined,
  registry: InMemorySchemaRegistry,
): SchemaReference[] {
  if (!Array.isArray(refs)) return [];
  const out: SchemaReference[] = [];
  for (const r of refs) {
    if (!isJsonObject(r) || typeof r.name !== 'string') continue;
    const schema = r.schema ?? null;
    const format = typeof r.format === 'string' ? r.format : undefined;
    registry.registerSync(r.name, { schemaType: schemaTypeFor(format, schema), schema: schemaText(schema) });
    const latest = registry.latestSync(r.name);
    out.push({ name: r.name, subject: r.name, version: latest?.version ?? 1 });
  }
  return out;
}

function registerTopicSchemas(t: QttTopic, registry: InMemorySchemaRegistry): void {
  if (t.keySchema !== undefined && t.keySchema !== null) {
    const references = registerReferences(t.keySchemaReferences, registry);
    registry.registerSync(
      keySubject(t.name),
      {
        schemaType: schemaTypeFor(t.keyFormat ?? t.format, t.keySchema),
        schema: schemaText(t.keySchema),
        ...(references.length === 0 ? {} : { references }),
      },
      t.keySchemaId,
    );
  }
  if (t.valueSchema !== undefined && t.valueSchema !== null) {
    const references = registerReferences(t.valueSchemaReferences, registry);
    registry.registerSync(
      valueSubject(t.name),
      {
        schemaType: schemaTypeFor(t.valueFormat ?? t.format, t.valueSchema),
        schema: schemaText(t.valueSchema),
        ...(references.length === 0 ? {} : { references }),
      },
      t.valueSchemaId,
    );
  }
}

/**
 * ksqlDB's QTT collects topics from the CREATE statements first and registers the schemas they
 * imply (key, then value) before the case's own topic schemas, which fixes the schema ids the cases
 * refer to. This replays that order.
 */
function preRegisterStatementSchemas(run: QttRun, registry: InMemorySchemaRegistry): void {
  const metastore = new MetaStore();
  for (const text of run.statements) {
    let parsed;
    try {
      parsed = parseStatements(text);
    } catch {
      continue;
    }
    for (const p of parsed) {
      if (p.statement.kind !== 'CreateSource' || p.statement.elements.length === 0) continue;
      try {
        const plan = planCreateSource(p.statement, p.text, {
          metastore,
          functions: createFunctionRegistry(),
          config: run.properties,
          topicPartitions: new Map(),
          createMissingSourceTopics: true,
          nextQueryId: (prefix) => prefix,
        });
        if (plan?.ddl?.command !== 'createSource') continue;
        const source = plan.ddl.source;
        const explicit = run.topics.find((t) => t.name === source.topic);
        for (const r of schemasFor(source)) {
          const given = r.isKey ? explicit?.keySchema : explicit?.valueSchema;
          if (given !== undefined && given !== null) continue;
          if (registry.latestSync(r.subject) === undefined) registry.registerSync(r.subject, r.schema);
        }
      } catch {
        // statements that do not plan here fail later, when the case runs them
      }
    }
  }
}

function sourceForTopic(engine: Engine, topic: string): SourceDefinition | undefined {
  return engine.metastore.allSources().find((s) => s.topic === topic);
}

function sides(source: SourceDefinition): { key: SideInfo; value: SideInfo } {
  return {
    key: {
      topic: source.topic,
      isKey: true,
      format: source.formats.key,
      columns: source.schema.key,
      unwrapped: isKeyUnwrapped(source.schema.key.length),
      sourceName: source.name,
    },
    value: {
      topic: source.topic,
      isKey: false,
      format: source.formats.value,
      columns: source.schema.value,
      unwrapped: isValueUnwrapped(source.formats.value, source.schema.value.length),
      sourceName: source.name,
    },
  };
}

function fallbackSides(run: QttRun, topic: string): { key: SideInfo; value: SideInfo } {
  const t = run.topics.find((x) => x.name === topic);
  const fmt = (name: string | undefined): FormatInfo => ({
    format: parseFormatName(name ?? 'KAFKA'),
    properties: {},
  });
  return {
    key: { topic, isKey: true, format: fmt(t?.keyFormat ?? t?.format ?? 'KAFKA'), unwrapped: true },
    value: { topic, isKey: false, format: fmt(t?.valueFormat ?? t?.format ?? 'JSON'), unwrapped: false },
  };
}

function headerBytes(h: { value: string | null }): Uint8Array | null {
  return h.value === null ? null : Buffer.from(h.value, 'base64');
}

async function pipeInputs(run: QttRun, engine: Engine, registry: InMemorySchemaRegistry): Promise<void> {
  for (const input of run.inputs) {
    const source = sourceForTopic(engine, input.topic);
    if (source === undefined) throw new CaseFailure(`no source found for input topic ${input.topic}`);
    const s = sides(source);
    const key = await specToBytes(input.key ?? null, s.key, registry);
    const value = await specToBytes(input.value, s.value, registry);
    await engine.produce(input.topic, {
      key,
      value,
      timestamp: input.timestamp ?? 0,
      headers: (input.headers ?? []).map((h) => ({ key: h.key, value: headerBytes(h) })),
    });
  }
}

async function checkOutputs(
  run: QttRun,
  engine: Engine,
  topics: InMemoryTopicIO,
  registry: InMemorySchemaRegistry,
): Promise<void> {
  const byTopic = new Map<string, QttRecord[]>();
  for (const o of run.outputs) byTopic.set(o.topic, [...(byTopic.get(o.topic) ?? []), o]);
  const ranWithInserts = run.inputs.length === 0;
  for (const [topic, expected] of byTopic) {
    const source = sourceForTopic(engine, topic);
    const s = source === undefined ? fallbackSides(run, topic) : sides(source);
    const actual = topics.records(topic);
    const shown = async (): Promise<string> => {
      const parts: string[] = [];
      for (const r of actual.slice(0, 8)) {
        try {
          parts.push(
            `<${showSpec(await bytesToSpec(r.key, s.key, registry))}, ${showSpec(await bytesToSpec(r.value, s.value, registry))}>@${r.timestamp}`,
          );
        } catch (error) {
          parts.push(`<undecodable: ${(error as Error).message}>`);
        }
      }
      return parts.join(' ');
    };
    if (actual.length !== expected.length) {
      throw new CaseFailure(
        `topic ${topic}: expected ${expected.length} records but got ${actual.length}: ${await shown()}`,
      );
    }
    for (let i = 0; i < expected.length; i++) {
      const e = expected[i] as QttRecord;
      const a = actual[i];
      if (a === undefined) continue;
      const key = await bytesToSpec(a.key, s.key, registry);
      const value = await bytesToSpec(a.value, s.value, registry);
      const expectedTs = e.timestamp ?? a.timestamp;
      const tsOk = a.timestamp === expectedTs || (ranWithInserts && expectedTs === 0);
      const eh = e.headers ?? [];
      const headersOk =
        eh.length === a.headers.length &&
        eh.every((h, j) => {
          const ah = a.headers[j];
          if (ah === undefined || ah.key !== h.key) return false;
          const ev = headerBytes(h);
          if (ev === null || ah.value === null) return ev === ah.value;
          return Buffer.compare(Buffer.from(ev), Buffer.from(ah.value)) === 0;
        });
      if (!specMatches(key, e.key ?? null) || !specMatches(value, e.value) || !tsOk || !headersOk) {
        throw new CaseFailure(
          `topic ${topic}, record ${i}: expected <${stringifyJson(e.key ?? null)}, ${stringifyJson(e.value)}>@${
            e.timestamp ?? '*'
          } but got <${showSpec(key)}, ${showSpec(value)}>@${a.timestamp}${headersOk ? '' : ' (headers differ)'}`,
        );
      }
    }
  }
}

function checkPostSources(run: QttRun, engine: Engine): void {
  const post = run.post;
  if (post === undefined || !Array.isArray(post.sources)) return;
  for (const ps of post.sources) {
    if (!isJsonObject(ps)) continue;
    const name = typeof ps.name === 'string' ? ps.name : '';
    const source = engine.metastore.getSource(name);
    if (source === undefined) throw new CaseFailure(`post: source ${name} does not exist`);
    if (typeof ps.type === 'string' && ps.type.toUpperCase() !== source.type) {
      throw new CaseFailure(`post: source ${name} is a ${source.type}, expected ${ps.type}`);
    }
    if (typeof ps.schema === 'string') {
      const elements = parseTableElements(ps.schema);
      const key = elements.filter((e) => e.constraint === 'KEY' || e.constraint === 'PRIMARY KEY');
      const value = elements.filter((e) => e.constraint === undefined);
      const same = (
        a: readonly { name: string; type: import('../schema/types.ts').SqlType }[],
        b: readonly { name: string; type: import('../schema/types.ts').SqlType }[],
      ): boolean =>
        a.length === b.length && a.every((c, i) => c.name === b[i]?.name && typesEqual(c.type, b[i].type));
      if (!same(source.schema.key, key) || !same(source.schema.value, value)) {
        const show = (
          cols: readonly { name: string; type: import('../schema/types.ts').SqlType }[],
          k: boolean,
        ): string[] => cols.map((c) => `${c.name} ${formatType(c.type)}${k ? ' KEY' : ''}`);
        throw new CaseFailure(
          `post: schema of ${name} is ${[...show(source.schema.key, true), ...show(source.schema.value, false)].join(', ')}; expected ${ps.schema}`,
        );
      }
    }
    const formatOf = (v: JsonValue | undefined): string | undefined =>
      typeof v === 'string' ? v : isJsonObject(v) && typeof v.format === 'string' ? v.format : undefined;
    const kf = formatOf(ps.keyFormat);
    if (kf !== undefined && kf.toUpperCase() !== source.formats.key.format) {
      throw new CaseFailure(`post: key format of ${name} is ${source.formats.key.format}, expected ${kf}`);
    }
    const vf = formatOf(ps.valueFormat);
    if (vf !== undefined && vf.toUpperCase() !== source.formats.value.format) {
      throw new CaseFailure(
        `post: value format of ${name} is ${source.formats.value.format}, expected ${vf}`,
      );
    }
  }
}

/**
 * Avro/JSON schemas compared the way a registry would: full names instead of namespaces, no Connect
 * metadata (`connect.*`), `{"type": "int"}` same as `"int"`.
 */
function normalizeSchema(v: unknown, namespace?: string): unknown {
  if (Array.isArray(v)) return v.map((x) => normalizeSchema(x, namespace));
  if (v === null || typeof v !== 'object') return v;
  const o = v as Record<string, unknown>;
  const ns = typeof o.namespace === 'string' ? o.namespace : namespace;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(o).sort()) {
    if (k.startsWith('connect.') || k === 'namespace' || k === 'doc') continue;
    if (k === 'name' && typeof o.name === 'string' && ['record', 'enum', 'fixed'].includes(String(o.type))) {
      out.name = o.name.includes('.') || ns === undefined ? o.name : `${ns}.${o.name}`;
      continue;
    }
    out[k] = normalizeSchema(o[k], ns);
  }
  const keys = Object.keys(out);
  if (keys.length === 1 && keys[0] === 'type' && typeof out.type === 'string') return out.type;
  return out;
}

function jsonValue(v: JsonValue): unknown {
  return JSON.parse(stringifyJson(v)) as unknown;
}

async function checkPostTopics(
  run: QttRun,
  topics: InMemoryTopicIO,
  registry: InMemorySchemaRegistry,
): Promise<void> {
  const post = run.post;
  if (post === undefined || !isJsonObject(post.topics) || !Array.isArray(post.topics.topics)) return;
  const partitions = new Map((await topics.listTopics()).map((t) => [t.name, t.partitions]));
  for (const pt of post.topics.topics) {
    if (!isJsonObject(pt) || typeof pt.name !== 'string') continue;
    const name = pt.name;
    if (name.startsWith('_confluent-ksql-')) continue; // internal topics: re-partitions are in memory here
    for (const side of ['key', 'value'] as const) {
      const expected = side === 'key' ? pt.keySchema : pt.valueSchema;
      if (expected === undefined || expected === null || typeof expected === 'string') continue;
      const subject = side === 'key' ? keySubject(name) : valueSubject(name);
      const actual = registry.latestSync(subject);
      if (actual === undefined) throw new CaseFailure(`post: no ${side} schema registered for ${name}`);
      if (actual.schema.schemaType === 'PROTOBUF') continue;
      const a = normalizeSchema(JSON.parse(actual.schema.schema));
      const e = normalizeSchema(jsonValue(expected));
      if (JSON.stringify(a) !== JSON.stringify(e)) {
        throw new CaseFailure(
          `post: ${side} schema of ${name} is ${actual.schema.schema}; expected ${stringifyJson(expected)}`,
        );
      }
    }
    if (pt.partitions !== undefined && partitions.get(name) !== Number(stringifyJson(pt.partitions))) {
      throw new CaseFailure(
        `post: topic ${name} has ${partitions.get(name) ?? 0} partitions; expected ${stringifyJson(pt.partitions)}`,
      );
    }
  }
}

/**
 * QTT's harness creates the topics its statements name before running them, with 4 partitions, and
 * runs every record through partition 0 (TopologyTestDriver): partition counts matter only for
 * validation (joins' co-partitioning, inherited sink partitions), never for processing.
 */
const QTT_DEFAULT_PARTITIONS = 4;

class QttTopicIO extends InMemoryTopicIO {
  override produce(topic: string, record: ProducerRecord): Promise<TopicRecord> {
    return super.produce(topic, { ...record, partition: 0 });
  }
}

/** Topics named by the KAFKA_TOPIC of CREATE STREAM/TABLE statements over existing topics. */
function statementTopics(run: QttRun): string[] {
  const out: string[] = [];
  for (const text of run.statements) {
    let parsed;
    try {
      parsed = parseStatements(text);
    } catch {
      continue;
    }
    for (const p of parsed) {
      if (p.statement.kind !== 'CreateSource') continue;
      for (const prop of p.statement.properties) {
        if (
          prop.name === 'KAFKA_TOPIC' &&
          prop.value.kind === 'Literal' &&
          typeof prop.value.value === 'string'
        ) {
          out.push(prop.value.value);
        }
      }
    }
  }
  return out;
}

/** Runs one case variant. Never throws: every outcome is a RunResult. */
export async function runCase(
  run: QttRun,
  extraFunctions: readonly FunctionDef[] = qttTestFunctions(),
): Promise<RunResult> {
  const base = {
    file: run.file,
    name: run.name,
    inSubset: inAcceptanceSubset(run),
    negative: run.expectedException !== undefined,
  };
  if (!run.enabled)
    return { ...base, status: 'unsupported', reason: 'disabled upstream (enabled: false)', inSubset: false };
  if (isWindowed(run))
    return {
      ...base,
      status: 'unsupported',
      reason: 'windowed (WINDOW, WITHIN, EMIT FINAL or windowed records)',
    };

  const topics = new QttTopicIO();
  const registry = new InMemorySchemaRegistry();
  const engine = createEngine({
    topics,
    registry,
    functions: createFunctionRegistry(extraFunctions),
    config: run.properties,
    clock: () => 0,
    uuid: () => '00000000-0000-0000-0000-000000000000',
    createMissingSourceTopics: true,
  });
  const expected = run.expectedException;
  let failedStatement: number | undefined;
  let error: unknown;
  try {
    preRegisterStatementSchemas(run, registry);
    for (const t of run.topics) {
      await topics.createTopic({
        name: t.name,
        partitions: t.partitions ?? QTT_DEFAULT_PARTITIONS,
        replicas: 1,
      });
      registerTopicSchemas(t, registry);
    }
    for (const name of statementTopics(run)) {
      await topics.createTopic({ name, partitions: QTT_DEFAULT_PARTITIONS, replicas: 1 });
    }
    const variables: Record<string, string> = {};
    const properties: Record<string, string> = {};
    let line = 0;
    for (let i = 0; i < run.statements.length; i++) {
      const text = run.statements[i] as string;
      try {
        // QTT parses the statements joined by newlines: keep their line numbers in messages.
        await engine.execute('\n'.repeat(line) + text, { variables, properties });
        line += text.split('\n').length;
      } catch (e) {
        failedStatement = i;
        throw e;
      }
    }
    if (engine.queries().length === 0 && expected === undefined && run.outputs.length > 0) {
      throw new CaseFailure('test did not generate any queries.');
    }
    await pipeInputs(run, engine, registry);
    if (expected === undefined) {
      await checkOutputs(run, engine, topics, registry);
      checkPostSources(run, engine);
      await checkPostTopics(run, topics, registry);
    }
  } catch (e) {
    error = e;
  } finally {
    await engine.close();
  }

  if (isKsqlError(error) && error.kind === 'unsupported') {
    return { ...base, status: 'unsupported', reason: error.message };
  }
  if (expected !== undefined) {
    if (error === undefined)
      return { ...base, status: 'failed', reason: 'expected an exception but the case ran without one' };
    if (error instanceof CaseFailure) return { ...base, status: 'failed', reason: error.message };
    const message = (error as Error).message;
    if (failedStatement !== undefined && failedStatement < run.statements.length - 1) {
      return {
        ...base,
        status: 'failed',
        reason: `statement ${failedStatement + 1} failed, not the last: ${message}`,
      };
    }
    const fidelity =
      expected.message === undefined || message.includes(expected.message)
        ? 'message matches'
        : `message differs: got "${message.split('\n')[0] ?? ''}"`;
    return { ...base, status: 'passed', reason: `failed as expected (${fidelity})` };
  }
  if (error !== undefined) {
    const where = failedStatement === undefined ? '' : `statement ${failedStatement + 1}: `;
    return { ...base, status: 'failed', reason: `${where}${(error as Error).message}` };
  }
  return { ...base, status: 'passed', reason: '' };
}

export interface Totals {
  passed: number;
  failed: number;
  unsupported: number;
}

export interface QttReport {
  readonly results: readonly RunResult[];
  readonly perFile: ReadonlyMap<string, Totals>;
  readonly total: Totals;
  /** Acceptance subset: passed / total. */
  readonly subset: { readonly passed: number; readonly total: number };
  readonly negatives: {
    readonly failingAsExpected: number;
    readonly total: number;
    readonly messageMatches: number;
  };
  readonly positiveNonWindowed: { readonly passed: number; readonly total: number };
}

export function summarize(results: readonly RunResult[]): QttReport {
  const perFile = new Map<string, Totals>();
  const total: Totals = { passed: 0, failed: 0, unsupported: 0 };
  let subsetPassed = 0;
  let subsetTotal = 0;
  let negPass = 0;
  let negTotal = 0;
  let negMsg = 0;
  let posPass = 0;
  let posTotal = 0;
  for (const r of results) {
    const t = perFile.get(r.file) ?? { passed: 0, failed: 0, unsupported: 0 };
    t[r.status]++;
    total[r.status]++;
    perFile.set(r.file, t);
    if (r.inSubset) {
      subsetTotal++;
      if (r.status === 'passed') subsetPassed++;
    }
    if (r.negative && r.reason !== 'disabled upstream (enabled: false)' && !r.reason.startsWith('windowed')) {
      negTotal++;
      if (r.status === 'passed') negPass++;
      if (r.reason.includes('message matches')) negMsg++;
    }
    if (
      !r.negative &&
      r.reason !== 'disabled upstream (enabled: false)' &&
      !r.reason.startsWith('windowed')
    ) {
      posTotal++;
      if (r.status === 'passed') posPass++;
    }
  }
  return {
    results,
    perFile,
    total,
    subset: { passed: subsetPassed, total: subsetTotal },
    negatives: { failingAsExpected: negPass, total: negTotal, messageMatches: negMsg },
    positiveNonWindowed: { passed: posPass, total: posTotal },
  };
}
