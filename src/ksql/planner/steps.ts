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

export const PLAN_VERSION = 1;

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

export interface SinkStep {
  readonly step: 'streamSink';
  readonly source: ExecutionStep;
  readonly sinkName: string;
  readonly topic: string;
  readonly formats: Formats;
  readonly timestamp?: TimestampColumn;
  readonly schema: LogicalSchema;
}

export type ExecutionStep = SourceStep | FilterStep | SelectKeyStep | SelectStep | SinkStep;

export interface QueryPlan {
  readonly queryId: string;
  /** Names of the sources read (for TERMINATE/DROP bookkeeping). */
  readonly sources: readonly string[];
  readonly sink: string;
  readonly physicalPlan: SinkStep;
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
  readonly version: typeof PLAN_VERSION;
  readonly statementText: string;
  readonly ddl?: DdlCommand;
  readonly query?: QueryPlan;
}

/** Walks from a sink back to its source steps. */
export function sourceSteps(step: ExecutionStep): SourceStep[] {
  if (step.step === 'streamSource') return [step];
  return sourceSteps(step.source);
}
