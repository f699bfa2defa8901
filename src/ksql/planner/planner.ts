/**
 * Turns analyzed statements into KsqlPlans: DDL commands for the metastore and physical steps for
 * persistent queries. Pure: everything it needs from the outside world (topic partitions, schemas
 * from the registry) is passed in by the engine beforehand.
 */
import { castConverter } from '../analyzer/coerce.ts';
import type { MetaStoreView } from '../analyzer/metastore.ts';
import {
  engineSettings,
  parseWithProperties,
  type EngineSettings,
  type WithProperties,
} from '../analyzer/properties.ts';
import { statementError, unsupported } from '../errors.ts';
import type { FunctionRegistry } from '../functions/registry.ts';
import type { Statement, TableElement } from '../parser/ast.ts';
import { SYSTEM_COLUMN_NAMES, type Column, type LogicalSchema } from '../schema/logical.ts';
import { formatType, typesEqual, type SqlType } from '../schema/types.ts';
import {
  defaultKeySchemaName,
  parseFormatName,
  validateFormatProperties,
  validateKeyFormat,
  validateValueFormat,
  type FormatInfo,
  type FormatProperties,
  type ValueFormatInfo,
} from '../serde/formats.ts';
import { planQuery, projectionStep, type PlannedQuery, type PlanQueryContext } from './query.ts';
import {
  PLAN_VERSION,
  type AnySinkStep,
  type Formats,
  type KsqlPlan,
  type SelectExpression,
  type SourceDefinition,
  type TimestampColumn,
  type TopicSpec,
} from './steps.ts';

export interface PlannerContext {
  readonly metastore: MetaStoreView;
  readonly functions: FunctionRegistry;
  readonly config: Readonly<Record<string, string>>;
  /** Partition counts of existing topics. */
  readonly topicPartitions: ReadonlyMap<string, number>;
  /** Creates missing source topics (one partition) instead of failing: QTT's stub Kafka does this. */
  readonly createMissingSourceTopics?: boolean;
  /** Allocates the next query id with the given prefix (CSAS_<SINK>, INSERTQUERY). */
  nextQueryId(prefix: string): string;
  /** Value columns of a pre-registered schema given by VALUE_SCHEMA_ID on a CSAS, fetched beforehand. */
  readonly sinkValueSchemaColumns?: readonly Column[];
}

function formatProps(
  delimiter: string | undefined,
  fullSchemaName: string | undefined,
  schemaId: number | undefined,
): FormatProperties {
  return {
    ...(delimiter === undefined ? {} : { delimiter }),
    ...(fullSchemaName === undefined ? {} : { fullSchemaName }),
    ...(schemaId === undefined ? {} : { schemaId }),
  };
}

function checkColumnNames(columns: readonly Column[]): void {
  const seen = new Set<string>();
  for (const c of columns) {
    if (SYSTEM_COLUMN_NAMES.has(c.name)) {
      throw statementError(
        `'${c.name}' is a reserved column name. You cannot use it as a name for a column.`,
      );
    }
    if (seen.has(c.name)) throw statementError(`Duplicate column names: ${c.name}`);
    seen.add(c.name);
  }
}

function timestampColumn(w: WithProperties, schema: LogicalSchema): TimestampColumn | undefined {
  if (w.timestamp === undefined) {
    if (w.timestampFormat !== undefined)
      throw statementError('TIMESTAMP_FORMAT requires the TIMESTAMP property to be set.');
    return undefined;
  }
  const name = w.timestamp.toUpperCase() === w.timestamp ? w.timestamp : w.timestamp.toUpperCase();
  const col =
    schema.value.find((c) => c.name === w.timestamp) ??
    schema.value.find((c) => c.name === name) ??
    schema.key.find((c) => c.name === w.timestamp || c.name === name);
  if (col === undefined) {
    throw statementError(
      `The TIMESTAMP column set in the WITH clause does not exist in the schema: '${name}'`,
    );
  }
  const ok =
    col.type.type === 'BIGINT' ||
    col.type.type === 'TIMESTAMP' ||
    (col.type.type === 'STRING' && w.timestampFormat !== undefined);
  if (!ok) {
    throw statementError(
      `Timestamp column, \`${col.name}\`, should be LONG(INT64), TIMESTAMP, or a String with a timestamp_format specified.`,
    );
  }
  return w.timestampFormat === undefined
    ? { column: col.name }
    : { column: col.name, format: w.timestampFormat };
}

function existingSourceError(kind: 'STREAM' | 'TABLE', name: string, existing: SourceDefinition): never {
  const what = kind === 'STREAM' ? 'stream' : 'table';
  const other = existing.type === 'STREAM' ? 'stream' : 'table';
  throw statementError(`Cannot add ${what} '${name}': A ${other} with the same name already exists`);
}

/** ksqlDB's sink-side settings derived from WITH properties and the engine config. */
function valueWrap(w: WithProperties, settings: EngineSettings): boolean | undefined {
  return w.wrapSingleValue ?? settings.wrapSingleValues;
}

export function planCreateSource(
  stmt: Extract<Statement, { kind: 'CreateSource' }>,
  text: string,
  ctx: PlannerContext,
): KsqlPlan | undefined {
  const settings = engineSettings(ctx.config);
  const existing = ctx.metastore.getSource(stmt.name);
  const what = stmt.sourceType === 'STREAM' ? 'stream' : 'table';
  if (stmt.orReplace && stmt.isSource) {
    throw statementError(
      `Cannot add ${what} '${stmt.name}': CREATE OR REPLACE is not supported on source ${what}s.`,
    );
  }
  if (existing !== undefined) {
    if (stmt.ifNotExists) return undefined;
    if (existing.isSource && stmt.orReplace) {
      throw statementError(
        `Cannot add ${what} '${stmt.name}': CREATE OR REPLACE is not supported on source ${what}s.`,
      );
    }
    if (!stmt.orReplace || existing.type !== stmt.sourceType)
      existingSourceError(stmt.sourceType, stmt.name, existing);
  }
  const w = parseWithProperties(stmt.properties);
  let window: SourceDefinition['window'];
  if (w.windowType !== undefined) {
    const type = w.windowType.toUpperCase();
    if (type !== 'SESSION' && type !== 'HOPPING' && type !== 'TUMBLING') {
      throw statementError(
        `Invalid value ${w.windowType} for property WINDOW_TYPE: String must be one of: SESSION, HOPPING, TUMBLING`,
      );
    }
    window = { type, ...(w.windowSize === undefined ? {} : { size: w.windowSize }) };
  }
  const elements: readonly TableElement[] = stmt.elements;
  if (elements.some((e) => e.constraint === 'HEADERS' || typeof e.constraint === 'object')) {
    throw unsupported('HEADER/HEADERS columns');
  }
  const key = elements
    .filter((e) => e.constraint === 'KEY' || e.constraint === 'PRIMARY KEY')
    .map((e) => ({ name: e.name, type: e.type }));
  const value = elements
    .filter((e) => e.constraint === undefined)
    .map((e) => ({ name: e.name, type: e.type }));
  checkColumnNames([...key, ...value]);
  if (window !== undefined && key.length === 0)
    throw statementError('Windowed sources require a key column.');
  if (stmt.sourceType === 'TABLE' && key.length === 0) {
    throw statementError('Tables require a PRIMARY KEY. Please define the PRIMARY KEY.');
  }
  if (w.kafkaTopic === undefined) {
    throw statementError('Missing required property "KAFKA_TOPIC" which has no default value.');
  }
  const valueFormatName = w.format ?? w.valueFormat ?? settings.defaultValueFormat;
  if (valueFormatName === undefined) {
    throw statementError(
      "Statement is missing the 'VALUE_FORMAT' property from the WITH clause. Either provide one or set a default via the 'ksql.persistence.default.format.value' config.",
    );
  }
  const valueFormat = parseFormatName(valueFormatName);
  const explicitKey = w.format ?? w.keyFormat;
  let keyFormat = parseFormatName(explicitKey ?? settings.defaultKeyFormat);
  if (key.length === 0 && explicitKey === undefined) keyFormat = 'NONE';
  const keyInfo: FormatInfo = {
    format: keyFormat,
    properties: formatProps(w.keyDelimiter, w.keySchemaFullName, w.keySchemaId),
  };
  const wrap = valueWrap(w, settings);
  const valueInfo: ValueFormatInfo = {
    format: valueFormat,
    properties: formatProps(w.valueDelimiter, w.valueSchemaFullName, w.valueSchemaId),
    ...(wrap === undefined || (w.wrapSingleValue === undefined && value.length !== 1)
      ? {}
      : { wrapSingleValue: wrap }),
  };
  validateFormatProperties(keyInfo);
  validateFormatProperties(valueInfo);
  if (elements.length === 0) throw statementError('No columns supplied.');
  validateKeyFormat(keyInfo, key);
  validateValueFormat(valueInfo, value);
  const schema: LogicalSchema = { key, value };
  const timestamp = timestampColumn(w, schema);

  let topic: TopicSpec | undefined;
  if (!ctx.topicPartitions.has(w.kafkaTopic)) {
    if (w.partitions !== undefined || ctx.createMissingSourceTopics === true) {
      topic = { name: w.kafkaTopic, partitions: w.partitions ?? 1, replicas: w.replicas ?? 1 };
    } else {
      throw statementError(
        `Topic '${w.kafkaTopic}' does not exist. If you want to create a new topic for the ${what} please re-run the statement providing the required 'PARTITIONS' configuration in the WITH clause (and optionally 'REPLICAS'). For example: CREATE ${stmt.sourceType} ${stmt.name} (...) WITH (KAFKA_TOPIC='${w.kafkaTopic}', PARTITIONS=2, REPLICAS=1, ...);`,
      );
    }
  }
  const source: SourceDefinition = {
    name: stmt.name,
    type: stmt.sourceType,
    schema,
    topic: w.kafkaTopic,
    formats: { key: keyInfo, value: valueInfo },
    ...(timestamp === undefined ? {} : { timestamp }),
    ...(window === undefined ? {} : { window }),
    isSource: stmt.isSource,
    sql: text,
  };
  return {
    version: PLAN_VERSION,
    statementText: text,
    ddl: {
      command: 'createSource',
      source,
      orReplace: stmt.orReplace,
      ...(topic === undefined ? {} : { topic }),
    },
  };
}

/** Adds the final projection (with optional casts to a sink's types) and the sink. */
function buildSteps(
  planned: PlannedQuery,
  sink: { name: string; topic: string; formats: Formats; timestamp?: TimestampColumn },
  casts?: readonly (SqlType | undefined)[],
): AnySinkStep {
  const valueExpressions: SelectExpression[] = planned.valueSelects.map((s, i) => {
    const cast = casts?.[i];
    return cast === undefined
      ? s
      : { alias: s.alias, expression: { kind: 'Cast', operand: s.expression, type: cast } };
  });
  const outputSchema: LogicalSchema =
    casts === undefined
      ? planned.outputSchema
      : {
          key: planned.outputSchema.key,
          value: planned.outputSchema.value.map((c, i) => ({ name: c.name, type: casts[i] ?? c.type })),
        };
  const source = projectionStep(planned, valueExpressions, outputSchema);
  const common = {
    source,
    sinkName: sink.name,
    topic: sink.topic,
    formats: sink.formats,
    ...(sink.timestamp === undefined ? {} : { timestamp: sink.timestamp }),
    schema: outputSchema,
  };
  if (planned.resultType === 'TABLE') {
    // The sink's rows are kept by key for pull queries.
    return { step: 'tableSink', ...common, stateStore: SINK_STORE };
  }
  return { step: 'streamSink', ...common };
}

/** The state store a table sink materializes its rows in (what pull queries read). */
const SINK_STORE = 'Project-Materialize';

function queryContext(ctx: PlannerContext, extra: Partial<PlanQueryContext> = {}): PlanQueryContext {
  return { ...ctx, ...extra };
}

/** Windowed sources can be declared (and their statements validated) but not yet queried. */
function checkNotWindowed(planned: PlannedQuery): void {
  if (planned.sources.some((s) => s.window !== undefined)) throw unsupported('queries over windowed sources');
}

function checkCopartitioning(planned: PlannedQuery, ctx: PlannerContext): void {
  for (const c of planned.copartitioned) {
    const l = ctx.topicPartitions.get(c.left.topic);
    const r = ctx.topicPartitions.get(c.right.topic);
    if (l === undefined || r === undefined || l === r) continue;
    throw statementError(
      `Can't join ${c.left.name} with ${c.right.name} since the number of partitions don't match. ${c.left.name} partitions = ${l}; ${c.right.name} partitions = ${r}. Please repartition either one so that the number of partitions match.`,
    );
  }
}

export function planCreateAsSelect(
  stmt: Extract<Statement, { kind: 'CreateAsSelect' }>,
  text: string,
  ctx: PlannerContext,
): KsqlPlan | undefined {
  const settings = engineSettings(ctx.config);
  const existing = ctx.metastore.getSource(stmt.name);
  const what = stmt.sourceType === 'STREAM' ? 'stream' : 'table';
  if (existing !== undefined) {
    if (stmt.ifNotExists) return undefined;
    if (!stmt.orReplace || existing.type !== stmt.sourceType)
      existingSourceError(stmt.sourceType, stmt.name, existing);
    if (existing.isSource) {
      throw statementError(
        `Cannot add ${what} '${stmt.name}': CREATE OR REPLACE is not supported on source ${what}s.`,
      );
    }
  }
  const w = parseWithProperties(stmt.properties);
  const planned = planQuery(
    stmt.query,
    queryContext(ctx, {
      checkProjection: (columns) => {
        if (w.timestamp !== undefined) timestampColumn(w, { key: [], value: columns });
      },
    }),
    stmt.name,
  );
  checkNotWindowed(planned);
  if (planned.resultType !== stmt.sourceType) {
    const produced = planned.resultType;
    throw statementError(
      `Invalid result type. Your SELECT query produces a ${produced}. Please use CREATE ${produced} AS SELECT statement instead.`,
    );
  }
  checkCopartitioning(planned, ctx);
  const src = planned.from;
  const out = planned.outputSchema;

  const explicitKey = w.format ?? w.keyFormat;
  let keyFormat = explicitKey === undefined ? src.formats.key.format : parseFormatName(explicitKey);
  if (out.key.length === 0) {
    if (explicitKey !== undefined)
      throw statementError('Key format specified for stream without key columns.');
    keyFormat = 'NONE';
  } else if (keyFormat === 'NONE') {
    keyFormat = parseFormatName(settings.defaultKeyFormat);
  }
  const explicitValue = w.format ?? w.valueFormat;
  const valueFormat = explicitValue === undefined ? src.formats.value.format : parseFormatName(explicitValue);
  const inheritsValue = explicitValue === undefined || valueFormat === src.formats.value.format;
  const inheritsKey = explicitKey === undefined || keyFormat === src.formats.key.format;
  const keyDelimiter = w.keyDelimiter ?? (inheritsKey ? src.formats.key.properties.delimiter : undefined);
  const valueDelimiter =
    w.valueDelimiter ?? (inheritsValue ? src.formats.value.properties.delimiter : undefined);
  const keyFullName =
    w.keySchemaFullName ?? (keyFormat === 'AVRO' ? defaultKeySchemaName(stmt.name) : undefined);
  const keyInfo: FormatInfo = {
    format: keyFormat,
    properties: formatProps(keyFormat === 'DELIMITED' ? keyDelimiter : undefined, keyFullName, w.keySchemaId),
  };
  const wrap = valueWrap(w, settings);
  const valueInfo: ValueFormatInfo = {
    format: valueFormat,
    properties: formatProps(
      valueFormat === 'DELIMITED' ? valueDelimiter : undefined,
      w.valueSchemaFullName,
      w.valueSchemaId,
    ),
    ...(wrap === undefined || (w.wrapSingleValue === undefined && out.value.length !== 1)
      ? {}
      : { wrapSingleValue: wrap }),
  };
  validateFormatProperties(keyInfo);
  validateFormatProperties(valueInfo);
  validateKeyFormat(keyInfo, out.key);
  validateValueFormat(valueInfo, out.value);
  if (w.valueSchemaId !== undefined && ctx.sinkValueSchemaColumns !== undefined) {
    checkSchemaIdColumns(out.value, ctx.sinkValueSchemaColumns);
  }
  const timestamp = timestampColumn(w, out);
  const topicName = w.kafkaTopic ?? `${settings.outputTopicPrefix}${stmt.name}`;
  const partitions = w.partitions ?? ctx.topicPartitions.get(src.topic) ?? 1;
  const sink: SourceDefinition = {
    name: stmt.name,
    type: stmt.sourceType,
    schema: out,
    topic: topicName,
    formats: { key: keyInfo, value: valueInfo },
    ...(timestamp === undefined ? {} : { timestamp }),
    isSource: false,
    sql: text,
  };
  const queryId = ctx.nextQueryId(`${stmt.sourceType === 'STREAM' ? 'CSAS' : 'CTAS'}_${stmt.name}`);
  return {
    version: PLAN_VERSION,
    statementText: text,
    ddl: {
      command: 'createSource',
      source: sink,
      orReplace: stmt.orReplace,
      topic: { name: topicName, partitions, replicas: w.replicas ?? 1 },
    },
    query: {
      queryId,
      sources: [...new Set(planned.sources.map((s) => s.name))],
      sink: stmt.name,
      physicalPlan: buildSteps(planned, {
        name: stmt.name,
        topic: topicName,
        formats: sink.formats,
        ...(timestamp === undefined ? {} : { timestamp }),
      }),
    },
  };
}

function checkSchemaIdColumns(result: readonly Column[], registered: readonly Column[]): void {
  const bad = result.filter((c, i) => {
    const r = registered[i];
    return r === undefined || r.name !== c.name || !typesEqual(r.type, c.type);
  });
  if (bad.length > 0) {
    const show = (cols: readonly Column[]): string =>
      `[${cols.map((c) => `\`${c.name}\` ${formatType(c.type)}`).join(', ')}]`;
    throw statementError(
      `The following value columns are changed, missing or reordered: ${show(bad)}. Schema from schema registry is ${show(registered)}`,
    );
  }
}

export function planInsertInto(
  stmt: Extract<Statement, { kind: 'InsertInto' }>,
  text: string,
  ctx: PlannerContext,
): KsqlPlan {
  const target = ctx.metastore.getSource(stmt.target);
  if (target === undefined) {
    const loc = stmt.loc;
    throw statementError(
      `${loc === undefined ? '' : `Line: ${loc.line}, Col: ${loc.column}: `}Source \`${stmt.target}\` does not exist.`,
    );
  }
  if (target.type === 'TABLE') {
    throw statementError(`INSERT INTO can only be used to insert into a stream. ${target.name} is a table.`);
  }
  if (target.isSource) throw statementError(`Cannot insert into read-only stream: ${target.name}`);
  const planned = planQuery(stmt.query, queryContext(ctx), target.name);
  if (planned.resultType !== 'STREAM') {
    throw statementError(
      `Invalid result type. Your SELECT query produces a TABLE. Please use CREATE TABLE AS SELECT statement instead.`,
    );
  }
  checkNotWindowed(planned);
  checkCopartitioning(planned, ctx);
  const result = planned.outputSchema;
  const sinkSchema = target.schema;
  const compatible =
    result.key.length === sinkSchema.key.length &&
    result.value.length === sinkSchema.value.length &&
    result.key.every((c, i) => {
      const s = sinkSchema.key[i];
      return s !== undefined && s.name === c.name && typesEqual(s.type, c.type);
    }) &&
    result.value.every((c, i) => {
      const s = sinkSchema.value[i];
      return (
        s !== undefined &&
        s.name === c.name &&
        (typesEqual(s.type, c.type) || implicitlyCastable(c.type, s.type))
      );
    });
  if (!compatible) {
    const quoted = (schema: LogicalSchema): string =>
      [
        ...schema.key.map((c) => `\`${c.name}\` ${formatType(c.type)} KEY`),
        ...schema.value.map((c) => `\`${c.name}\` ${formatType(c.type)}`),
      ].join(', ');
    throw statementError(
      `Incompatible schema between results and sink.\nResult schema is ${quoted(result)}\nSink schema is ${quoted(sinkSchema)}`,
    );
  }
  const casts = result.value.map((c, i) => {
    const s = sinkSchema.value[i];
    return s !== undefined && !typesEqual(s.type, c.type) ? s.type : undefined;
  });
  const queryId = ctx.nextQueryId('INSERTQUERY');
  return {
    version: PLAN_VERSION,
    statementText: text,
    query: {
      queryId,
      sources: [...new Set(planned.sources.map((s) => s.name))],
      sink: target.name,
      physicalPlan: buildSteps(
        planned,
        {
          name: target.name,
          topic: target.topic,
          formats: target.formats,
          ...(target.timestamp === undefined ? {} : { timestamp: target.timestamp }),
        },
        casts.some((c) => c !== undefined) ? casts : undefined,
      ),
    },
  };
}

function implicitlyCastable(from: SqlType, to: SqlType): boolean {
  const numeric = ['INTEGER', 'BIGINT', 'DECIMAL', 'DOUBLE'];
  if (!numeric.includes(from.type) || !numeric.includes(to.type)) return false;
  try {
    castConverter(from, to);
    return true;
  } catch {
    return false;
  }
}

export function planDrop(
  stmt: Extract<Statement, { kind: 'DropSource' }>,
  text: string,
  ctx: PlannerContext,
): KsqlPlan | undefined {
  const source = ctx.metastore.getSource(stmt.name);
  if (source === undefined) {
    if (stmt.ifExists) return undefined;
    throw statementError(`${stmt.sourceType === 'STREAM' ? 'Stream' : 'Table'} ${stmt.name} does not exist.`);
  }
  if (source.type !== stmt.sourceType) {
    throw statementError(
      `Incompatible data source type is ${source.type}, but statement was DROP ${stmt.sourceType}`,
    );
  }
  if (source.isSource && stmt.deleteTopic) {
    throw statementError(`Cannot delete topic for read-only source: ${source.name}`);
  }
  return {
    version: PLAN_VERSION,
    statementText: text,
    ddl: { command: 'dropSource', name: source.name, sourceType: source.type, deleteTopic: stmt.deleteTopic },
  };
}
