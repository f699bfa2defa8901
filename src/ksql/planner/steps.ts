/**
 * Physical plans as plain, versioned, JSON-serializable data (ksqlDB's ExecutionStep / KsqlPlan), so a
 * plan can be written to the command topic and replayed after a restart without re-analysis.
 *
 * Expressions inside steps are AST (parser/ast.ts) with unqualified column names; the executor
 * compiles them against the input schema of their step. Every step records its output schema.
 */
import type { Expr } from '../parser/ast.ts';
import type { LogicalSchema } from '../schema/logical.ts';
import type { FormatInfo, ValueFormatInfo } from '../serde/formats.ts';

/**
 * Version 2 adds tables, aggregation and joins (new step kinds and `tableSink`). Every version-1 step
 * kept its meaning, so version-1 plans load and run unchanged.
 */
export const PLAN_VERSION = 2;

export type PlanVersion = 1 | 2;

export interface Formats {
  readonly key: FormatInfo;
  readonly value: ValueFormatInfo;
}

export interface TimestampColumn {
  readonly column: string;
  /** Java DateTimeFormatter pattern when the column is a STRING. */
  readonly format?: string;
}

export interface SourceStep {
  readonly step: 'streamSource';
  readonly sourceName: string;
  readonly alias: string;
  readonly topic: string;
  readonly formats: Formats;
  readonly timestamp?: TimestampColumn;
  readonly schema: LogicalSchema;
}

export interface FilterStep {
  readonly step: 'streamFilter';
  readonly source: ExecutionStep;
  readonly predicate: Expr;
  readonly schema: LogicalSchema;
}

/** PARTITION BY: computes new key columns; the old key columns move into the value. */
export interface SelectKeyStep {
  readonly step: 'streamSelectKey';
  readonly source: ExecutionStep;
  readonly keyExpressions: readonly Expr[];
  readonly schema: LogicalSchema;
}

export interface SelectExpression {
  readonly alias: string;
  readonly expression: Expr;
}

/** Projection: key columns are computed by `keyExpressions`, value columns by `valueExpressions`. */
export interface SelectStep {
  readonly step: 'streamSelect';
  readonly source: ExecutionStep;
  readonly keyExpressions: readonly SelectExpression[];
  readonly valueExpressions: readonly SelectExpression[];
  readonly schema: LogicalSchema;
}

/**
 * A table read from its topic: every record is an upsert of its key, a null value deletes it, a null
 * key is dropped. With `stateStore` the latest row per key is kept (needed when a downstream operator
 * must know the previous row: table aggregations and foreign-key joins retract it).
 */
export interface TableSourceStep {
  readonly step: 'tableSource';
  readonly sourceName: string;
  readonly alias: string;
  readonly topic: string;
  readonly formats: Formats;
  readonly timestamp?: TimestampColumn;
  readonly schema: LogicalSchema;
  readonly stateStore?: string;
}

/** A table filter: a row that does not match becomes a tombstone for its key. */
export interface TableFilterStep {
  readonly step: 'tableFilter';
  readonly source: ExecutionStep;
  readonly predicate: Expr;
  readonly schema: LogicalSchema;
}

/** A table projection (same shape as `streamSelect`); deletes pass through as deletes. */
export interface TableSelectStep {
  readonly step: 'tableSelect';
  readonly source: ExecutionStep;
  readonly keyExpressions: readonly SelectExpression[];
  readonly valueExpressions: readonly SelectExpression[];
  readonly schema: LogicalSchema;
}

/**
 * GROUP BY: the new key is computed from the grouping expressions; the value keeps every source
 * value column plus the source key columns (`schema.value`). A row whose key has a NULL (or fails to
 * evaluate) is dropped. Over a table (`table: true`) an update is regrouped as a retraction of the old
 * row and an addition of the new one.
 */
export interface GroupByStep {
  readonly step: 'groupBy';
  readonly source: ExecutionStep;
  readonly keyExpressions: readonly Expr[];
  readonly table: boolean;
  readonly schema: LogicalSchema;
}

/** One aggregate function call: name, the argument expression (over the grouped row) and literals. */
export interface AggregateCall {
  readonly name: string;
  /** The column argument, over the group-by step's schema; absent for COUNT(*). */
  readonly argument?: Expr;
  /** Literal parameters after the first argument (e.g. LATEST_BY_OFFSET(x, 3, false)). */
  readonly literals: readonly Expr[];
}

/**
 * The aggregation: per key, one state per call. The output value is the non-aggregate columns (the
 * latest row's values) followed by the results, named `KSQL_AGG_VARIABLE_<i>`. Over a table the old
 * row is undone first. Every update is emitted.
 */
export interface AggregateStep {
  readonly step: 'aggregate';
  readonly source: GroupByStep;
  readonly nonAggregateColumns: readonly string[];
  readonly aggregations: readonly AggregateCall[];
  readonly stateStore: string;
  /** Settings the functions read (ksql.functions.collect_list.limit, ...), captured at planning. */
  readonly functionConfig: Readonly<Record<string, string>>;
  readonly schema: LogicalSchema;
}

/**
 * A primary-key join. `streamTable`: only stream records emit, with the stream record's timestamp;
 * table records update the join's view of the table. `tableTable`: an update on either side emits
 * the joined row (or a tombstone), with the larger timestamp of the two rows. The key is the join
 * key (named `keyName`); when no source column equals it (`syntheticKey`) it is also appended to the
 * value.
 */
export interface JoinStep {
  readonly step: 'join';
  readonly kind: 'streamTable' | 'tableTable';
  readonly joinType: 'INNER' | 'LEFT' | 'RIGHT' | 'OUTER';
  readonly left: ExecutionStep;
  readonly right: ExecutionStep;
  readonly keyName: string;
  readonly syntheticKey: boolean;
  readonly leftStore?: string;
  readonly rightStore: string;
  readonly schema: LogicalSchema;
}

/**
 * A foreign-key table-table join: `foreignKey` (over the left table's columns) selects the right row
 * by its primary key. The result keeps the left key. Updates on either side emit.
 */
export interface ForeignKeyJoinStep {
  readonly step: 'fkJoin';
  readonly joinType: 'INNER' | 'LEFT';
  readonly left: ExecutionStep;
  readonly right: ExecutionStep;
  readonly foreignKey: Expr;
  readonly leftStore: string;
  readonly rightStore: string;
  readonly schema: LogicalSchema;
}

export interface SinkStep {
  readonly step: 'streamSink';
  readonly source: ExecutionStep;
  readonly sinkName: string;
  readonly topic: string;
  readonly formats: Formats;
  readonly timestamp?: TimestampColumn;
  readonly schema: LogicalSchema;
}

/**
 * Writes a table's changes to its topic (a delete is a tombstone). With `stateStore` the sink's rows
 * are also kept by key, which pull queries read.
 */
export interface TableSinkStep {
  readonly step: 'tableSink';
  readonly source: ExecutionStep;
  readonly sinkName: string;
  readonly topic: string;
  readonly formats: Formats;
  readonly timestamp?: TimestampColumn;
  readonly schema: LogicalSchema;
  readonly stateStore?: string;
}

export type ExecutionStep =
  | SourceStep
  | FilterStep
  | SelectKeyStep
  | SelectStep
  | SinkStep
  | TableSourceStep
  | TableFilterStep
  | TableSelectStep
  | GroupByStep
  | AggregateStep
  | JoinStep
  | ForeignKeyJoinStep
  | TableSinkStep;

export type AnySinkStep = SinkStep | TableSinkStep;

export interface QueryPlan {
  readonly queryId: string;
  /** Names of the sources read (for TERMINATE/DROP bookkeeping). */
  readonly sources: readonly string[];
  readonly sink: string;
  readonly physicalPlan: AnySinkStep;
}

export interface TopicSpec {
  readonly name: string;
  readonly partitions: number;
  readonly replicas: number;
}

export interface SourceDefinition {
  readonly name: string;
  readonly type: 'STREAM' | 'TABLE';
  readonly schema: LogicalSchema;
  readonly topic: string;
  readonly formats: Formats;
  readonly timestamp?: TimestampColumn;
  /** A windowed source (WINDOW_TYPE): declared and described, not yet queryable. */
  readonly window?: { readonly type: string; readonly size?: string };
  /** CREATE SOURCE STREAM/TABLE: read-only. */
  readonly isSource: boolean;
  /** The statement that created it (for DESCRIBE). */
  readonly sql: string;
}

export type DdlCommand =
  | {
      readonly command: 'createSource';
      readonly source: SourceDefinition;
      readonly orReplace: boolean;
      /** The topic to create when it does not exist (CREATE ... WITH (PARTITIONS=...), CSAS sinks). */
      readonly topic?: TopicSpec;
    }
  | {
      readonly command: 'dropSource';
      readonly name: string;
      readonly sourceType: 'STREAM' | 'TABLE';
      readonly deleteTopic: boolean;
    };

/** One statement's effect: an optional metastore change plus an optional persistent query. */
export interface KsqlPlan {
  /** PLAN_VERSION when planned by this engine; version-1 plans (part 1) are still accepted. */
  readonly version: PlanVersion;
  readonly statementText: string;
  readonly ddl?: DdlCommand;
  readonly query?: QueryPlan;
}

/** Walks from a sink back to its source steps. */
export function sourceSteps(step: ExecutionStep): (SourceStep | TableSourceStep)[] {
  switch (step.step) {
    case 'streamSource':
    case 'tableSource':
      return [step];
    case 'join':
    case 'fkJoin':
      return [...sourceSteps(step.left), ...sourceSteps(step.right)];
    default:
      return sourceSteps(step.source);
  }
}
