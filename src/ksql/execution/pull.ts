/**
 * Pull queries (ksqlDB's `SELECT ... FROM table [WHERE ...] [LIMIT n]` on /query-stream): evaluated
 * once against the rows a persistent query materialized for its table sink.
 *
 * `WHERE key = literal` and `WHERE key IN (literals)` (possibly ANDed with more conditions) look the
 * keys up; any other WHERE (or none) scans the table. The result is shaped like ksqlDB's
 * /query-stream answer: a header (column names and types) and rows.
 */
import { ExpressionCompiler, type EvalContext } from '../analyzer/expressions.ts';
import { implicitConverter } from '../analyzer/coerce.ts';
import { SourceScope, unqualify } from '../analyzer/scope.ts';
import { AliasGenerator, allNames } from '../analyzer/query.ts';
import { statementError, unsupported } from '../errors.ts';
import { isAggregateFunction } from '../functions/aggregates.ts';
import type { FunctionContext, FunctionRegistry } from '../functions/registry.ts';
import type { Expr, Query } from '../parser/ast.ts';
import type { SourceDefinition } from '../planner/steps.ts';
import { processingColumns } from '../analyzer/scope.ts';
import { PSEUDO_COLUMNS, type LogicalSchema } from '../schema/logical.ts';
import { formatType, type SqlType } from '../schema/types.ts';
import { formatDate, formatTime, formatTimestamp } from '../schema/values.ts';
import { toJson } from '../serde/json.ts';
import { stringifyJson, type JsonValue } from '../serde/json-text.ts';
import type { MaterializedRow, QueryProcessor } from './processor.ts';

/** The header of a /query-stream answer. */
export interface PullQueryHeader {
  readonly queryId: string;
  readonly columnNames: readonly string[];
  /** ksqlDB's type names, e.g. `BIGINT`, `DECIMAL(4, 2)`, `STRUCT<\`A\` INTEGER>`. */
  readonly columnTypes: readonly string[];
}

export interface PullQueryResult {
  readonly header: PullQueryHeader;
  /** Rows in runtime values (bigint, Decimal, Map, ...), in column order. */
  readonly rows: readonly (readonly unknown[])[];
  /** The same rows as JSON array texts, encoded the way ksqlDB's REST API writes them. */
  readonly jsonRows: readonly string[];
}

export interface PullQueryContext {
  readonly source: SourceDefinition;
  readonly processor: QueryProcessor | undefined;
  readonly functions: FunctionRegistry;
  readonly functionContext: FunctionContext;
  readonly queryId: string;
}

/** A value as ksqlDB's REST API writes it in JSON (temporal types as ISO text). */
export function restJson(v: unknown, t: SqlType): JsonValue {
  if (v === null || v === undefined) return null;
  switch (t.type) {
    case 'TIMESTAMP':
      return formatTimestamp(v as number);
    case 'DATE':
      return formatDate(v as number);
    case 'TIME':
      return formatTime(v as number);
    case 'ARRAY':
      return (v as unknown[]).map((x) => restJson(x, t.item));
    case 'MAP': {
      const o: Record<string, JsonValue> = {};
      for (const [k, x] of v as Map<unknown, unknown>) {
        Object.defineProperty(o, String(k), { value: restJson(x, t.value), enumerable: true });
      }
      return o;
    }
    case 'STRUCT': {
      const o: Record<string, JsonValue> = {};
      for (const f of t.fields) {
        Object.defineProperty(o, f.name, {
          value: restJson((v as Record<string, unknown>)[f.name], f.type),
          enumerable: true,
        });
      }
      return o;
    }
    default:
      return toJson(v, t);
  }
}

/** The keys a WHERE clause pins (`k = lit`, `k IN (lits)`, under ANDs), or undefined (scan). */
function pinnedKeys(
  where: Expr | undefined,
  schema: LogicalSchema,
  compiler: ExpressionCompiler,
): unknown[] | undefined {
  const key = schema.key[0];
  if (where === undefined || key === undefined || schema.key.length !== 1) return undefined;
  const literal = (e: Expr): unknown => {
    if (e.kind !== 'Literal' && !(e.kind === 'Negate' && e.operand.kind === 'Literal'))
      throw new Error('not literal');
    const c = compiler.compile(e);
    const v = c.evaluate([], NO_ERRORS);
    if (v === null) return null;
    return implicitConverter(c.type, key.type)(v);
  };
  const isKey = (e: Expr): boolean => e.kind === 'Column' && e.name === key.name;
  const visit = (e: Expr): unknown[] | undefined => {
    if (e.kind === 'Compare' && e.op === '=') {
      if (isKey(e.left)) return [literal(e.right)];
      if (isKey(e.right)) return [literal(e.left)];
    }
    if (e.kind === 'In' && !e.negated && isKey(e.value)) return e.list.map(literal);
    if (e.kind === 'Logical' && e.op === 'AND') return visit(e.left) ?? visit(e.right);
    return undefined;
  };
  try {
    return visit(where);
  } catch {
    return undefined;
  }
}

const NO_ERRORS: EvalContext = {
  functions: { now: () => 0, uuid: () => '' },
  onError: () => undefined,
};

export function runPullQuery(query: Query, ctx: PullQueryContext): PullQueryResult {
  const { source } = ctx;
  if (query.joins.length > 0) throw unsupported('pull queries with joins');
  if (query.groupBy !== undefined || query.window !== undefined || query.partitionBy !== undefined) {
    throw statementError("Pull queries don't support GROUP BY, WINDOW or PARTITION BY clauses.");
  }
  if (query.emit === 'CHANGES') throw unsupported('push queries (EMIT CHANGES)');
  if (source.type === 'STREAM') throw unsupported('pull queries on streams');
  const materialized = ctx.processor?.materialized();
  if (ctx.processor === undefined || materialized === undefined) {
    throw statementError(
      `The \`${source.name}\` table isn't queryable. To derive a queryable table, you can do 'CREATE TABLE QUERYABLE_${source.name} AS SELECT * FROM ${source.name}'. See https://cnfl.io/queries for more info.`,
    );
  }
  const schema = source.schema;
  const alias = query.from.alias ?? source.name;
  const qualifiers = [...new Set([alias, source.name])];
  const scope = new SourceScope(schema, qualifiers);
  const compiler = new ExpressionCompiler(scope, ctx.functions);
  const evalContext: EvalContext = { functions: ctx.functionContext, onError: () => undefined };

  // Projection: `*` is the key columns then the value columns.
  const generator = new AliasGenerator(allNames(schema));
  const columns: { name: string; type: SqlType; evaluate: (row: unknown[]) => unknown }[] = [];
  for (const item of query.select) {
    if (item.kind === 'Star') {
      if (item.source !== undefined && !qualifiers.includes(item.source)) {
        throw statementError(`'${item.source}' is not a valid stream/table name or alias.`);
      }
      processingColumns(schema)
        .filter((c) => !PSEUDO_COLUMNS.includes(c))
        .forEach((c, i) => columns.push({ name: c.name, type: c.type, evaluate: (row) => row[i] ?? null }));
      continue;
    }
    const expr = unqualify(item.expr);
    if (expr.kind === 'Call' && isAggregateFunction(expr.name)) {
      throw statementError("Pull queries don't support aggregate functions.");
    }
    const compiled = compiler.compile(item.expr);
    if (compiled.type.type === 'NULL') {
      throw statementError(
        "Can't infer a type of null. Please explicitly cast it to a required type, e.g. CAST(null AS VARCHAR).",
      );
    }
    const name = item.alias ?? (expr.kind === 'Column' ? expr.name : generator.forExpression(expr));
    columns.push({ name, type: compiled.type, evaluate: (row) => compiled.evaluate(row, evalContext) });
  }
  const where = query.where === undefined ? undefined : compiler.predicate(query.where, 'WHERE').evaluate;

  const flat = (r: MaterializedRow): unknown[] => [...r.key, ...r.value, BigInt(r.timestamp), 0, 0n];
  const keys = pinnedKeys(query.where === undefined ? undefined : unqualify(query.where), schema, compiler);
  const candidates: MaterializedRow[] = [];
  if (keys !== undefined) {
    for (const k of keys) {
      if (k === null) continue;
      const row = ctx.processor.lookup([k]);
      if (row !== undefined) candidates.push(row);
    }
  } else {
    candidates.push(...materialized);
  }
  const rows: unknown[][] = [];
  for (const r of candidates) {
    if (query.limit !== undefined && rows.length >= query.limit) break;
    const f = flat(r);
    if (where !== undefined && where(f, evalContext) !== true) continue;
    rows.push(columns.map((c) => c.evaluate(f)));
  }
  return {
    header: {
      queryId: ctx.queryId,
      columnNames: columns.map((c) => c.name),
      columnTypes: columns.map((c) => formatType(c.type)),
    },
    rows,
    jsonRows: rows.map((row) =>
      stringifyJson(row.map((v, i) => restJson(v, (columns[i] as { type: SqlType }).type))),
    ),
  };
}
