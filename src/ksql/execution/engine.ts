/**
 * The ksql engine: executes statements (parse → variable substitution → schema inference → analyze →
 * plan → apply), keeps the metastore and the running persistent queries, and pushes records through
 * queries.
 *
 * Wiring for the rest of streamdesk:
 * - `createEngine({ topics, registry, ... })` with a TopicIO (in-memory now, Kafka later) and a
 *   SchemaRegistryPort.
 * - `engine.execute(sql)` runs statements and returns ksqlDB-like entities (for POST /ksql).
 * - Every metastore/query change is a `KsqlPlan` (JSON-serializable): `engine.plan(sql)` produces the
 *   plans without applying them, `engine.executePlan(plan)` applies one (what command-topic replay
 *   calls), `engine.executedPlans()` lists what was applied, in order.
 * - With `drive: 'inline'` (default) every record produced through the engine is pushed through the
 *   queries reading its topic at once (outputs feeding downstream queries), like ksqlDB's
 *   TopologyTestDriver. With `drive: 'external'` a consumer loop calls `engine.processRecord(record)`
 *   and produces the returned outputs itself.
 */
import { randomUUID } from 'node:crypto';
import { ExpressionCompiler } from '../analyzer/expressions.ts';
import { implicitConverter } from '../analyzer/coerce.ts';
import { MetaStore } from '../analyzer/metastore.ts';
import { parseWithProperties } from '../analyzer/properties.ts';
import { KsqlError, statementError, unsupported } from '../errors.ts';
import { createFunctionRegistry } from '../functions/builtins.ts';
import type { FunctionContext, FunctionRegistry } from '../functions/registry.ts';
import type { Statement } from '../parser/ast.ts';
import { parseStatements, splitStatements } from '../parser/parser.ts';
import {
  planCreateAsSelect,
  planCreateSource,
  planDrop,
  planInsertInto,
  type PlannerContext,
} from '../planner/planner.ts';
import { PLAN_VERSION, type KsqlPlan, type QueryPlan, type SourceDefinition } from '../planner/steps.ts';
import { schemaText, type Column } from '../schema/logical.ts';
import { formatType, type SqlType } from '../schema/types.ts';
import { isKeyUnwrapped, isValueUnwrapped, parseFormatName } from '../serde/formats.ts';
import { createSerde } from '../serde/index.ts';
import type { SchemaRegistryPort } from '../serde/registry.ts';
import { injectSchemas, registeredValueColumns } from './inference.ts';
import { schemasFor } from './schemas.ts';
import { InMemoryProcessingLog, type ProcessingLog } from './processing-log.ts';
import { buildProcessor, type OutputRecord, type QueryProcessor } from './processor.ts';
import { runPullQuery, type PullQueryResult } from './pull.ts';
import { DEFAULT_MAX_STORE_ENTRIES, type ChangelogRecord } from './state.ts';
import type { ProducerRecord, TopicIO, TopicRecord } from './topic-io.ts';

export interface EngineOptions {
  readonly topics: TopicIO;
  readonly registry: SchemaRegistryPort;
  readonly functions?: FunctionRegistry;
  /** ksqlDB server config (ksql.* keys), e.g. ksql.persistence.default.format.value. */
  readonly config?: Readonly<Record<string, string>>;
  readonly processingLog?: ProcessingLog;
  readonly clock?: () => number;
  readonly uuid?: () => string;
  /** 'inline': push produced records through queries synchronously (in-memory); 'external': a consumer loop does. */
  readonly drive?: 'inline' | 'external';
  /** Create topics named by CREATE STREAM when missing (what QTT's stub Kafka does). */
  readonly createMissingSourceTopics?: boolean;
  /** Notified when persistent queries start and stop (a Kafka runner attaches consumers here). */
  readonly events?: EngineEvents;
}

export interface EngineEvents {
  queryStarted?(query: RunningQuery): void;
  queryStopped?(queryId: string): void;
  /**
   * Every change of a query's state stores, as a changelog record (forward it to the query's
   * compacted changelog topic, see `changelogTopicName`). Also available per query through
   * `query.processor.onChange(listener)`.
   */
  stateChanged?(queryId: string, record: ChangelogRecord): void;
}

export interface RunningQuery {
  readonly plan: QueryPlan;
  readonly statementText: string;
  readonly processor: QueryProcessor;
}

/** Results, shaped after ksqlDB's REST entities (`@type`). */
export type StatementResult =
  | {
      readonly type: 'currentStatus';
      readonly statementText: string;
      readonly commandId: string;
      readonly status: 'SUCCESS';
      readonly message: string;
      readonly queryId?: string;
    }
  | {
      readonly type: 'streams' | 'tables';
      readonly statementText: string;
      readonly sources: readonly SourceSummary[];
    }
  | { readonly type: 'queries'; readonly statementText: string; readonly queries: readonly QuerySummary[] }
  | {
      readonly type: 'kafka_topics';
      readonly statementText: string;
      readonly topics: readonly { name: string; partitions: number; replicas: number }[];
    }
  | { readonly type: 'sourceDescription'; readonly statementText: string; readonly source: SourceDescription }
  | {
      readonly type: 'properties';
      readonly statementText: string;
      readonly properties: Readonly<Record<string, string>>;
    }
  | {
      readonly type: 'variables';
      readonly statementText: string;
      readonly variables: Readonly<Record<string, string>>;
    }
  | { readonly type: 'function_names'; readonly statementText: string; readonly functions: readonly string[] }
  | { readonly type: 'warning_entity'; readonly statementText: string; readonly message: string };

export interface SourceSummary {
  readonly name: string;
  readonly type: 'STREAM' | 'TABLE';
  readonly topic: string;
  readonly keyFormat: string;
  readonly valueFormat: string;
  readonly isWindowed: boolean;
}

export interface QuerySummary {
  readonly id: string;
  readonly queryString: string;
  readonly sinks: readonly string[];
  readonly sinkKafkaTopics: readonly string[];
  readonly state: 'RUNNING';
}

export interface SourceDescription extends SourceSummary {
  readonly fields: readonly { name: string; type: string; key: boolean }[];
  readonly schema: string;
  readonly statement: string;
  readonly readQueries: readonly string[];
  readonly writeQueries: readonly string[];
  readonly timestamp?: string;
}

export interface ExecuteOptions {
  /** Session variables (DEFINE); updated in place by DEFINE/UNDEFINE statements. */
  readonly variables?: Record<string, string>;
  /** Session properties (SET); updated in place by SET/UNSET statements. */
  readonly properties?: Record<string, string>;
}

export interface Engine {
  readonly metastore: MetaStore;
  readonly functions: FunctionRegistry;
  readonly processingLog: ProcessingLog;
  execute(sql: string, options?: ExecuteOptions): Promise<StatementResult[]>;
  /**
   * Plans statements against the current metastore without applying them (DDL and queries; other
   * statements are skipped). A statement that depends on an earlier one must be planned after the
   * earlier plan is applied: the REST layer plans, stores and applies one statement at a time.
   */
  plan(sql: string, options?: ExecuteOptions): Promise<KsqlPlan[]>;
  executePlan(plan: KsqlPlan): Promise<StatementResult>;
  executedPlans(): readonly KsqlPlan[];
  queries(): readonly RunningQuery[];
  /** Runs one record through every query reading its topic; returns what they produce. */
  processRecord(record: TopicRecord): Promise<OutputRecord[]>;
  /** Writes a record to a topic (and, inline, through the queries reading it). */
  produce(topic: string, record: ProducerRecord): Promise<TopicRecord>;
  /**
   * Runs a pull query (`SELECT ... FROM table [WHERE ...] [LIMIT n];`, what /query-stream answers)
   * against the rows the table's persistent query materialized.
   */
  pullQuery(sql: string, options?: ExecuteOptions): Promise<PullQueryResult>;
  close(): Promise<void>;
}

function substituteVariables(text: string, variables: Readonly<Record<string, string>>): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_@]*)\}/g, (m, name: string) => variables[name] ?? m);
}

/** The query a CREATE ... AS SELECT started (it dies with its sink), as opposed to INSERT INTO. */
function isCreateAsQuery(queryId: string): boolean {
  return queryId.startsWith('CSAS_') || queryId.startsWith('CTAS_');
}

function commandId(kind: string, name: string, action: string): string {
  return `${kind}/${name.toLowerCase()}/${action}`;
}

export function createEngine(options: EngineOptions): Engine {
  const { topics, registry } = options;
  const functions = options.functions ?? createFunctionRegistry();
  const processingLog = options.processingLog ?? new InMemoryProcessingLog();
  const clock = options.clock ?? Date.now;
  const drive = options.drive ?? 'inline';
  const baseConfig: Record<string, string> = { ...(options.config ?? {}) };
  const metastore = new MetaStore();
  const running = new Map<string, RunningQuery>();
  const applied: KsqlPlan[] = [];
  let queryCounter = 0;
  let pullCounter = 0;
  const functionContext: FunctionContext = { now: clock, uuid: options.uuid ?? randomUUID };

  const topicPartitions = async (): Promise<Map<string, number>> =>
    new Map((await topics.listTopics()).map((t) => [t.name, t.partitions]));

  const plannerContext = async (
    config: Record<string, string>,
    extra: Partial<PlannerContext> = {},
  ): Promise<PlannerContext> => ({
    metastore,
    functions,
    config,
    topicPartitions: await topicPartitions(),
    createMissingSourceTopics: options.createMissingSourceTopics ?? false,
    nextQueryId: (prefix) => `${prefix}_${queryCounter++}`,
    ...extra,
  });

  /** Registers the schemas ksqlDB would register for an SR-format source (key and value). */
  const registerSchemas = async (source: SourceDefinition, always: boolean): Promise<void> => {
    for (const r of schemasFor(source)) {
      if (!always && (await registry.latest(r.subject)) !== undefined) continue;
      await registry.register(r.subject, r.schema);
    }
  };

  const maxStoreEntries = Number(baseConfig['ksql.local.state.max.entries'] ?? DEFAULT_MAX_STORE_ENTRIES);
  const startQuery = (plan: QueryPlan, statementText: string): void => {
    const processor = buildProcessor(plan, {
      registry,
      functions,
      functionContext,
      processingLog,
      maxStoreEntries:
        Number.isInteger(maxStoreEntries) && maxStoreEntries > 0
          ? maxStoreEntries
          : DEFAULT_MAX_STORE_ENTRIES,
    });
    const events = options.events;
    if (events?.stateChanged !== undefined) {
      processor.onChange((record) => events.stateChanged?.(plan.queryId, record));
    }
    const query: RunningQuery = { plan, statementText, processor };
    running.set(plan.queryId, query);
    options.events?.queryStarted?.(query);
  };

  const stopQuery = (queryId: string): boolean => {
    if (!running.delete(queryId)) return false;
    options.events?.queryStopped?.(queryId);
    return true;
  };

  // Statements run one at a time (metastore changes must not interleave); records keep flowing.
  let queue: Promise<unknown> = Promise.resolve();
  const serialized = <R>(work: () => Promise<R>): Promise<R> => {
    const result = queue.then(work, work);
    queue = result.catch(() => undefined);
    return result;
  };

  const executePlan = async (plan: KsqlPlan): Promise<StatementResult> => {
    if ((plan.version as number) < 1 || (plan.version as number) > PLAN_VERSION) {
      throw new KsqlError(
        'statement',
        `Unsupported plan version ${String(plan.version)}: this engine runs plans up to version ${PLAN_VERSION}`,
      );
    }
    const ddl = plan.ddl;
    let message = '';
    let id = '';
    if (ddl !== undefined) {
      if (ddl.command === 'createSource') {
        const s = ddl.source;
        if (ddl.topic !== undefined) await topics.createTopic(ddl.topic);
        await registerSchemas(s, plan.query !== undefined);
        const existed = metastore.getSource(s.name) !== undefined;
        if (existed && plan.query !== undefined) {
          // CREATE OR REPLACE of a query's sink: the old query stops.
          for (const [qid, q] of [...running]) {
            if (q.plan.sink === s.name && isCreateAsQuery(qid)) stopQuery(qid);
          }
        }
        metastore.put(s);
        const kind = s.type === 'STREAM' ? 'stream' : 'table';
        id = commandId(kind, s.name, 'create');
        message = plan.query === undefined ? `${s.type === 'STREAM' ? 'Stream' : 'Table'} created` : '';
      } else {
        const s = metastore.getSource(ddl.name);
        if (s !== undefined) {
          const readers = [...running.values()].filter(
            (q) => q.plan.sources.includes(s.name) && q.plan.sink !== s.name,
          );
          const writers = [...running.values()].filter((q) => q.plan.sink === s.name);
          if (readers.length > 0 || writers.some((q) => !isCreateAsQuery(q.plan.queryId))) {
            const lines = [`Cannot drop ${s.name}.`];
            if (readers.length > 0)
              lines.push(
                `The following queries read from this source: [${readers.map((q) => q.plan.queryId).join(', ')}].`,
              );
            const inserts = writers.filter((q) => !isCreateAsQuery(q.plan.queryId));
            if (inserts.length > 0)
              lines.push(
                `The following queries write into this source: [${inserts.map((q) => q.plan.queryId).join(', ')}].`,
              );
            lines.push('You need to terminate them before dropping ' + s.name + '.');
            throw statementError(lines.join('\n'));
          }
          for (const q of writers) stopQuery(q.plan.queryId);
          metastore.delete(s.name);
          if (ddl.deleteTopic) {
            await topics.deleteTopic(s.topic);
            await registry.deleteSubject?.(`${s.topic}-key`);
            await registry.deleteSubject?.(`${s.topic}-value`);
          }
        }
        id = commandId(ddl.sourceType === 'STREAM' ? 'stream' : 'table', ddl.name, 'drop');
        message = `Source \`${ddl.name}\` (topic: ${s?.topic ?? '?'}) was dropped.`;
      }
    }
    if (plan.query !== undefined) {
      // Replayed plans carry their query ids: new ids must not collide with them.
      const n = /_(\d+)$/.exec(plan.query.queryId);
      if (n !== null) queryCounter = Math.max(queryCounter, Number(n[1]) + 1);
      startQuery(plan.query, plan.statementText);
      message = `Created query with ID ${plan.query.queryId}`;
      if (id === '') id = commandId('stream', plan.query.sink, 'create');
    }
    applied.push(plan);
    return {
      type: 'currentStatus',
      statementText: plan.statementText,
      commandId: id,
      status: 'SUCCESS',
      message,
      ...(plan.query === undefined ? {} : { queryId: plan.query.queryId }),
    };
  };

  const planStatement = async (
    statement: Statement,
    text: string,
    config: Record<string, string>,
  ): Promise<KsqlPlan | undefined> => {
    switch (statement.kind) {
      case 'CreateSource': {
        const injected = await injectSchemas(statement, registry, config);
        return planCreateSource(injected, text, await plannerContext(config));
      }
      case 'CreateAsSelect': {
        const w = parseWithProperties(statement.properties);
        let sinkValueSchemaColumns: Column[] | undefined;
        if (w.valueSchemaId !== undefined) {
          const fmt = w.format ?? w.valueFormat;
          const source = metastore.getSource(statement.query.from.name);
          const format = fmt === undefined ? source?.formats.value.format : parseFormatName(fmt);
          if (format !== undefined) {
            sinkValueSchemaColumns = await registeredValueColumns(
              format,
              w.valueSchemaId,
              registry,
              w.valueSchemaFullName,
            );
          }
        }
        return planCreateAsSelect(
          statement,
          text,
          await plannerContext(
            config,
            sinkValueSchemaColumns === undefined ? {} : { sinkValueSchemaColumns },
          ),
        );
      }
      case 'InsertInto':
        return planInsertInto(statement, text, await plannerContext(config));
      case 'DropSource':
        return planDrop(statement, text, await plannerContext(config));
      default:
        return undefined;
    }
  };

  const deliver = async (record: TopicRecord): Promise<void> => {
    for (const q of [...running.values()]) {
      if (!q.processor.sourceTopics.includes(record.topic)) continue;
      if (!running.has(q.plan.queryId)) continue;
      const outputs = await q.processor.process(record);
      for (const out of outputs) await produce(out.topic, out);
    }
  };

  const produce = async (topic: string, record: ProducerRecord): Promise<TopicRecord> => {
    const stored = await topics.produce(topic, record);
    if (drive === 'inline') await deliver(stored);
    return stored;
  };

  const insertValues = async (
    stmt: Extract<Statement, { kind: 'InsertValues' }>,
    text: string,
  ): Promise<StatementResult> => {
    const target = metastore.getSource(stmt.target);
    if (target === undefined) {
      const other = metastore.findCaseInsensitive(stmt.target);
      let hint = '';
      if (other !== undefined) {
        hint =
          other.name === other.name.toUpperCase()
            ? `\nDid you mean ${other.name}? Hint: try removing double quotes from the source name.`
            : `\nDid you mean "${other.name}"? Hint: wrap the source name in double quotes to make it case-sensitive.`;
      }
      throw statementError(`Cannot insert values into an unknown stream/table: \`${stmt.target}\`${hint}`);
    }
    if (target.isSource) {
      throw statementError(
        `Cannot insert values into read-only ${target.type === 'STREAM' ? 'stream' : 'table'}: ${target.name}`,
      );
    }
    const all: { name: string; type: SqlType }[] = [...target.schema.key, ...target.schema.value];
    const names = stmt.columns.length > 0 ? stmt.columns : all.map((c) => c.name);
    if (names.length !== stmt.values.length) {
      throw statementError(
        `Expected a value for each column. Expected Columns: [${names.join(', ')}]. Got [${stmt.values.length} values]`,
      );
    }
    const compiler = new ExpressionCompiler(
      {
        column: (_s, name) => {
          throw statementError(`Column '${name}' cannot be referenced in INSERT VALUES`);
        },
      },
      functions,
    );
    const byName = new Map<string, unknown>();
    let timestamp = clock();
    for (let i = 0; i < names.length; i++) {
      const name = names[i] as string;
      const expr = stmt.values[i];
      if (expr === undefined) continue;
      const compiled = compiler.compile(expr);
      let v = compiled.evaluate([], {
        functions: functionContext,
        onError: (error) => {
          throw error;
        },
      });
      if (name === 'ROWTIME') {
        timestamp = Number(v);
        continue;
      }
      const col = all.find((c) => c.name === name);
      if (col === undefined) throw statementError(`Column name ${name} does not exist.`);
      if (v !== null) v = implicitConverter(compiled.type, col.type)(v);
      byName.set(name, v);
    }
    const key = target.schema.key.map((c) => byName.get(c.name) ?? null);
    if (target.window !== undefined) throw unsupported('INSERT VALUES into windowed sources');
    if (target.type === 'TABLE') {
      const missing = target.schema.key
        .filter((c) => (byName.get(c.name) ?? null) === null)
        .map((c) => c.name);
      if (missing.length > 0) {
        throw statementError(
          `Failed to insert values into '${target.name}'. Value for primary key column(s) ${missing.join(', ')} is required for tables`,
        );
      }
    }
    const value = target.schema.value.map((c) => byName.get(c.name) ?? null);
    const keySerde = createSerde({
      format: target.formats.key,
      columns: target.schema.key,
      isKey: true,
      unwrapped: isKeyUnwrapped(target.schema.key.length),
      topic: target.topic,
      registry,
      sourceName: target.name,
    });
    const valueSerde = createSerde({
      format: target.formats.value,
      columns: target.schema.value,
      isKey: false,
      unwrapped: isValueUnwrapped(target.formats.value, target.schema.value.length),
      topic: target.topic,
      registry,
      sourceName: target.name,
    });
    await produce(target.topic, {
      key: await keySerde.serialize(key),
      value: await valueSerde.serialize(value),
      timestamp,
      headers: [],
    });
    return {
      type: 'currentStatus',
      statementText: text,
      commandId: commandId(target.type === 'TABLE' ? 'table' : 'stream', target.name, 'insert'),
      status: 'SUCCESS',
      message: '',
    };
  };

  const summary = (s: SourceDefinition): SourceSummary => ({
    name: s.name,
    type: s.type,
    topic: s.topic,
    keyFormat: s.formats.key.format,
    valueFormat: s.formats.value.format,
    isWindowed: s.window !== undefined,
  });

  const describe = (name: string): SourceDescription => {
    const s = metastore.getSource(name);
    if (s === undefined) throw statementError(`Could not find STREAM/TABLE '${name}' in the Metastore`);
    const qs = [...running.values()];
    return {
      ...summary(s),
      fields: [
        ...s.schema.key.map((c) => ({ name: c.name, type: formatType(c.type), key: true })),
        ...s.schema.value.map((c) => ({ name: c.name, type: formatType(c.type), key: false })),
      ],
      schema: schemaText(s.schema),
      statement: s.sql,
      readQueries: qs.filter((q) => q.plan.sources.includes(s.name)).map((q) => q.plan.queryId),
      writeQueries: qs.filter((q) => q.plan.sink === s.name).map((q) => q.plan.queryId),
      ...(s.timestamp === undefined ? {} : { timestamp: s.timestamp.column }),
    };
  };

  const executeOne = async (
    statement: Statement,
    text: string,
    variables: Record<string, string>,
    properties: Record<string, string>,
  ): Promise<StatementResult> => {
    const config = { ...baseConfig, ...properties };
    switch (statement.kind) {
      case 'DefineVariable':
        variables[statement.name] = statement.value;
        return { type: 'currentStatus', statementText: text, commandId: '', status: 'SUCCESS', message: '' };
      case 'UndefineVariable':
        if (!(statement.name in variables)) {
          return {
            type: 'warning_entity',
            statementText: text,
            message: `Cannot undefine variable '${statement.name}' which was never defined`,
          };
        }
        Reflect.deleteProperty(variables, statement.name);
        return { type: 'currentStatus', statementText: text, commandId: '', status: 'SUCCESS', message: '' };
      case 'SetProperty':
        properties[statement.name] = statement.value;
        return { type: 'currentStatus', statementText: text, commandId: '', status: 'SUCCESS', message: '' };
      case 'UnsetProperty':
        Reflect.deleteProperty(properties, statement.name);
        return { type: 'currentStatus', statementText: text, commandId: '', status: 'SUCCESS', message: '' };
      case 'Show':
        switch (statement.what) {
          case 'STREAMS':
          case 'TABLES': {
            const type = statement.what === 'STREAMS' ? 'STREAM' : 'TABLE';
            return {
              type: statement.what === 'STREAMS' ? 'streams' : 'tables',
              statementText: text,
              sources: metastore
                .allSources()
                .filter((s) => s.type === type)
                .map(summary),
            };
          }
          case 'QUERIES':
            return {
              type: 'queries',
              statementText: text,
              queries: [...running.values()].map((q) => ({
                id: q.plan.queryId,
                queryString: q.statementText,
                sinks: [q.plan.sink],
                sinkKafkaTopics: [q.plan.physicalPlan.topic],
                state: 'RUNNING' as const,
              })),
            };
          case 'TOPICS':
            return { type: 'kafka_topics', statementText: text, topics: await topics.listTopics() };
          case 'PROPERTIES':
            return { type: 'properties', statementText: text, properties: config };
          case 'VARIABLES':
            return { type: 'variables', statementText: text, variables: { ...variables } };
          case 'FUNCTIONS':
            return { type: 'function_names', statementText: text, functions: functions.names() };
        }
        break;
      case 'Describe':
        return { type: 'sourceDescription', statementText: text, source: describe(statement.name) };
      case 'Terminate': {
        if (statement.all) {
          for (const id of [...running.keys()]) stopQuery(id);
          return {
            type: 'currentStatus',
            statementText: text,
            commandId: 'terminate/all/execute',
            status: 'SUCCESS',
            message: 'Query terminated.',
          };
        }
        const id = statement.queryId ?? '';
        if (!stopQuery(id)) throw statementError(`Unknown queryId: ${id}`);
        return {
          type: 'currentStatus',
          statementText: text,
          commandId: `terminate/${id}/execute`,
          status: 'SUCCESS',
          message: 'Query terminated.',
        };
      }
      case 'InsertValues':
        return insertValues(statement, text);
      case 'AlterSource': {
        const s = metastore.getSource(statement.name);
        const what = statement.sourceType === 'STREAM' ? 'stream' : 'table';
        if (s?.isSource === true) {
          throw statementError(
            `Cannot alter ${what} '${statement.name}': ALTER operations are not supported on source ${what}s.`,
          );
        }
        throw unsupported('ALTER STREAM/TABLE');
      }
      case 'Select':
        throw unsupported('push and pull queries (SELECT) on the statement endpoint');
      default: {
        const plan = await planStatement(statement, text, config);
        if (plan === undefined) {
          return {
            type: 'warning_entity',
            statementText: text,
            message: 'Statement had no effect (already exists / does not exist).',
          };
        }
        return executePlan(plan);
      }
    }
    throw new KsqlError('statement', `Unhandled statement: ${text}`);
  };

  const executeAll = async (sql: string, opts: ExecuteOptions): Promise<StatementResult[]> => {
    const variables = opts.variables ?? {};
    const properties = opts.properties ?? {};
    const results: StatementResult[] = [];
    let lines = 0;
    for (const piece of splitStatements(sql)) {
      // Each piece is parsed alone; leading newlines keep error positions relative to the whole text.
      const text = '\n'.repeat(lines) + substituteVariables(piece, variables);
      lines += piece.split('\n').length - 1;
      for (const parsed of parseStatements(text)) {
        results.push(await executeOne(parsed.statement, parsed.text, variables, properties));
      }
    }
    return results;
  };

  return {
    metastore,
    functions,
    processingLog,
    execute(sql, opts = {}) {
      return serialized(() => executeAll(sql, opts));
    },
    async plan(sql, opts = {}) {
      const variables = opts.variables ?? {};
      const properties = opts.properties ?? {};
      const plans: KsqlPlan[] = [];
      for (const piece of splitStatements(sql)) {
        const text = substituteVariables(piece, variables);
        for (const parsed of parseStatements(text)) {
          const p = await planStatement(parsed.statement, parsed.text, { ...baseConfig, ...properties });
          if (p !== undefined) plans.push(p);
        }
      }
      return plans;
    },
    executePlan: (plan) => serialized(() => executePlan(plan)),
    executedPlans: () => [...applied],
    queries: () => [...running.values()],
    async processRecord(record) {
      const outputs: OutputRecord[] = [];
      for (const q of running.values()) {
        if (q.processor.sourceTopics.includes(record.topic))
          outputs.push(...(await q.processor.process(record)));
      }
      return outputs;
    },
    produce,
    pullQuery: (sql, opts = {}) =>
      serialized(async () => {
        const variables = opts.variables ?? {};
        const parsed = parseStatements(substituteVariables(sql, variables));
        const first = parsed[0];
        if (parsed.length !== 1 || first === undefined || first.statement.kind !== 'Select') {
          throw statementError('A pull query must be exactly one SELECT statement.');
        }
        const query = first.statement.query;
        const source = metastore.getSource(query.from.name);
        if (source === undefined) {
          const loc = query.from.loc;
          throw statementError(
            `${loc === undefined ? '' : `Line: ${loc.line}, Col: ${loc.column}: `}${query.from.name} does not exist.`,
          );
        }
        const writer = [...running.values()].find(
          (q) => q.plan.sink === source.name && isCreateAsQuery(q.plan.queryId),
        );
        return runPullQuery(query, {
          source,
          processor: writer?.processor,
          functions,
          functionContext,
          queryId: `query_${clock()}_${pullCounter++}`,
        });
      }),
    close() {
      for (const id of [...running.keys()]) stopQuery(id);
      return Promise.resolve();
    },
  };
}
