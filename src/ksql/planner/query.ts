/**
 * Plans the query of a persistent statement (CSAS, CTAS, INSERT INTO ... SELECT) into execution steps
 * up to its final projection: single-source stream and table queries, joins (stream-table,
 * table-table on primary keys, foreign-key table-table, n-way), and aggregations (GROUP BY, HAVING).
 *
 * Naming follows ksqlDB: a column `c` of source (or alias) `a` is `A_C` inside a join; a selected
 * qualified column keeps its name unless several sources have that name (then `A_C`); other unaliased
 * expressions get `KSQL_COL_<n>` (struct fields their field name); unaliased aggregates likewise.
 */
import {
  AliasGenerator,
  allNames,
  analyzeQuery,
  type QueryAnalysis,
  type QueryContext,
} from '../analyzer/query.ts';
import { ExpressionCompiler, type Compiled } from '../analyzer/expressions.ts';
import { columnsIn, mapExpression, qualify, SourceScope, unqualify } from '../analyzer/scope.ts';
import { statementError, unsupported } from '../errors.ts';
import { isAggregateFunction, resolveAggregate, supportsTables } from '../functions/aggregates.ts';
import type { Expr, JoinClause, Loc, Query, SelectItem } from '../parser/ast.ts';
import { formatExpression, sameExpression } from '../parser/format.ts';
import {
  PSEUDO_COLUMNS,
  SYSTEM_COLUMN_NAMES,
  WINDOW_BOUNDS,
  type Column,
  type LogicalSchema,
} from '../schema/logical.ts';
import { formatType, typesEqual, type SqlType } from '../schema/types.ts';
import type {
  AggregateCall,
  ExecutionStep,
  GroupByStep,
  SelectExpression,
  SourceDefinition,
} from './steps.ts';

export interface PlannedQuery {
  readonly resultType: 'STREAM' | 'TABLE';
  /** The FROM source (its formats and topic are inherited by a new sink). */
  readonly from: SourceDefinition;
  readonly sources: readonly SourceDefinition[];
  /** Steps before the final projection. */
  readonly input: ExecutionStep;
  readonly keySelects: readonly SelectExpression[];
  readonly valueSelects: readonly SelectExpression[];
  readonly outputSchema: LogicalSchema;
  /** Join inputs that must have the same number of partitions (names are the aliases). */
  readonly copartitioned: readonly Copartitioned[];
}

export interface Copartitioned {
  readonly left: { readonly name: string; readonly topic: string };
  readonly right: { readonly name: string; readonly topic: string };
}

export interface PlanQueryContext extends QueryContext {
  /** Settings captured into aggregation steps (ksql.functions.*). */
  readonly config: Readonly<Record<string, string>>;
}

function at(loc: Loc | undefined): string {
  return loc === undefined ? '' : `Line: ${loc.line}, Col: ${loc.column}: `;
}

function joinWords(items: readonly string[], word: 'and' | 'or'): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} ${word} ${items[items.length - 1] ?? ''}`;
}

/** The final projection step over `input`, of the query's type. */
export function projectionStep(
  planned: PlannedQuery,
  valueSelects = planned.valueSelects,
  schema = planned.outputSchema,
): ExecutionStep {
  return {
    step: planned.resultType === 'TABLE' ? 'tableSelect' : 'streamSelect',
    source: planned.input,
    keyExpressions: planned.keySelects,
    valueExpressions: valueSelects,
    schema,
  };
}

function sourceStep(source: SourceDefinition, alias: string, stateStore?: string): ExecutionStep {
  const base = {
    sourceName: source.name,
    alias,
    topic: source.topic,
    formats: source.formats,
    ...(source.timestamp === undefined ? {} : { timestamp: source.timestamp }),
    schema: source.schema,
  };
  if (source.type === 'STREAM') return { step: 'streamSource', ...base };
  return { step: 'tableSource', ...base, ...(stateStore === undefined ? {} : { stateStore }) };
}

function filterStep(input: ExecutionStep, predicate: Expr, table: boolean): ExecutionStep {
  return { step: table ? 'tableFilter' : 'streamFilter', source: input, predicate, schema: input.schema };
}

function containsAggregate(e: Expr): boolean {
  let found = false;
  mapExpression(e, (x) => {
    if (x.kind === 'Call' && isAggregateFunction(x.name)) found = true;
    return x;
  });
  return found;
}

function resolveSource(ctx: QueryContext, name: string, loc: Loc | undefined): SourceDefinition {
  const source = ctx.metastore.getSource(name);
  if (source === undefined) throw statementError(`${at(loc)}${name} does not exist.`);
  return source;
}

export function planQuery(query: Query, ctx: PlanQueryContext, sinkName: string): PlannedQuery {
  if (query.window !== undefined) throw unsupported('windowed aggregation (WINDOW)');
  if (query.emit === 'FINAL') throw unsupported('EMIT FINAL');
  if (query.limit !== undefined) throw statementError('LIMIT is not supported for persistent queries.');
  const aggregated =
    query.groupBy !== undefined ||
    query.select.some((s) => s.kind === 'Expr' && containsAggregate(s.expr)) ||
    (query.having !== undefined && containsAggregate(query.having));
  if (query.joins.length > 0) return planJoinQuery(query, ctx, sinkName, aggregated);
  if (aggregated) {
    const source = resolveSource(ctx, query.from.name, query.from.loc);
    const alias = query.from.alias ?? source.name;
    checkValueFormatSupports([source], 'GROUP BY');
    // A table's aggregation retracts the previous row of a key: the source remembers rows.
    const env = singleSourceEnv(source, alias, source.type === 'TABLE' ? 'KsqlTopic-Reduce' : undefined);
    return planAggregate(query, ctx, sinkName, env);
  }
  return simpleQuery(analyzeQuery(query, ctx, sinkName));
}

function simpleQuery(a: QueryAnalysis): PlannedQuery {
  const table = a.source.type === 'TABLE';
  let step = sourceStep(a.source, a.alias);
  if (a.where !== undefined) step = filterStep(step, a.where, table);
  if (a.partitionBy !== undefined) {
    step = {
      step: 'streamSelectKey',
      source: step,
      keyExpressions: a.partitionBy.expressions,
      schema: a.partitionBy.schema,
    };
  }
  return {
    resultType: table ? 'TABLE' : 'STREAM',
    from: a.source,
    sources: [a.source],
    input: step,
    keySelects: a.keySelects,
    valueSelects: a.valueSelects,
    outputSchema: a.outputSchema,
    copartitioned: [],
  };
}

// ---- the input of a projection or aggregation -------------------------------------------------------

/**
 * What the user's expressions range over: a single source, or the result of joins. `rewrite` turns a
 * (sanitized) user expression into one over `schema`.
 */
interface InputEnv {
  readonly step: ExecutionStep;
  readonly schema: LogicalSchema;
  readonly table: boolean;
  readonly from: SourceDefinition;
  readonly sources: readonly { readonly alias: string; readonly source: SourceDefinition }[];
  readonly isJoin: boolean;
  /** Qualifies/validates column references (joins) or strips qualifiers (single source). */
  sanitize(e: Expr, clause: string): Expr;
  rewrite(e: Expr): Expr;
  /** `*` or `alias.*`: names and expressions (over `schema`). */
  expandStar(source: string | undefined, loc: Loc | undefined): { name: string; expr: Expr }[];
  /** A selected column keeps its name unless several sources have it. */
  columnAlias(e: Extract<Expr, { kind: 'Column' }>): string;
  readonly copartitioned: readonly Copartitioned[];
  /** Join result: expressions (over `schema`) that stand for the key, for the projection check. */
  readonly join?: JoinKeyInfo;
}

interface JoinKeyInfo {
  readonly synthetic: boolean;
  /** Viable key columns as the user wrote them (qualified), for messages. */
  readonly viable: readonly Expr[];
  /** Foreign-key join: the left table's name and key columns (join space). */
  readonly foreignKey?: {
    readonly table: string;
    readonly keys: readonly string[];
    readonly raw: readonly string[];
  };
}

function singleSourceEnv(source: SourceDefinition, alias: string, stateStore?: string): InputEnv {
  const qualifiers = [...new Set([alias, source.name])];
  const table = source.type === 'TABLE';
  const step = sourceStep(source, alias, stateStore);
  const sanitize = (e: Expr): Expr => {
    mapExpression(e, (x) => {
      if (x.kind === 'Column' && x.source !== undefined && !qualifiers.includes(x.source)) {
        throw statementError(`${at(x.loc)}'${x.source}' is not a valid stream/table name or alias.`);
      }
      return x;
    });
    return unqualify(e);
  };
  return {
    step,
    schema: source.schema,
    table,
    from: source,
    sources: [{ alias, source }],
    isJoin: false,
    sanitize,
    rewrite: (e) => e,
    expandStar: (s, loc) => {
      if (s !== undefined && !qualifiers.includes(s)) {
        throw statementError(`${at(loc)}'${s}' is not a valid stream/table name or alias.`);
      }
      return [...source.schema.key, ...source.schema.value].map((c) => ({
        name: c.name,
        expr: { kind: 'Column', name: c.name },
      }));
    },
    columnAlias: (e) => e.name,
    copartitioned: [],
  };
}

// ---- select items --------------------------------------------------------------------------------

interface Item {
  readonly name: string;
  /** Sanitized user expression (qualified in joins), for naming and messages. */
  readonly user: Expr;
  /** Over the input schema. */
  readonly expr: Expr;
  readonly fromStar: boolean;
  readonly loc?: Loc;
}

function isStar(item: SelectItem): item is Extract<SelectItem, { kind: 'Star' }> {
  return item.kind === 'Star';
}

function resolveItems(query: Query, env: InputEnv, generator: AliasGenerator): Item[] {
  const items: Item[] = [];
  for (const s of query.select) {
    if (isStar(s)) {
      for (const c of env.expandStar(s.source, s.loc)) {
        items.push({ name: c.name, user: c.expr, expr: c.expr, fromStar: true });
      }
      continue;
    }
    const user = env.sanitize(s.expr, 'SELECT');
    if (user.kind === 'Call' && user.name === '$STRUCT_ALL') {
      throw unsupported('struct->* in joins and aggregations');
    }
    if (
      s.alias === undefined &&
      user.kind === 'Column' &&
      user.source === undefined &&
      (PSEUDO_COLUMNS.some((p) => p.name === user.name) || WINDOW_BOUNDS.includes(user.name))
    ) {
      throw statementError(
        `Reserved column name in select: \`${user.name}\`. Please remove or alias the column.`,
      );
    }
    if (s.alias !== undefined && SYSTEM_COLUMN_NAMES.has(s.alias)) {
      throw statementError(
        `\`${s.alias}\` is a reserved column name. You cannot use it as an alias for a column.`,
      );
    }
    const name =
      s.alias ?? (user.kind === 'Column' ? env.columnAlias(user) : generator.forExpression(unqualify(user)));
    items.push({
      name,
      user,
      expr: env.rewrite(user),
      fromStar: false,
      ...(s.loc === undefined ? {} : { loc: s.loc }),
    });
  }
  return items;
}

function compilerFor(schema: LogicalSchema, ctx: QueryContext, clause = 'SELECT'): ExpressionCompiler {
  return new ExpressionCompiler(new SourceScope(schema, [], clause), ctx.functions);
}

function typeOf(compiled: Compiled): SqlType {
  if (compiled.type.type === 'NULL') {
    throw statementError(
      "Can't infer a type of null. Please explicitly cast it to a required type, e.g. CAST(null AS VARCHAR).",
    );
  }
  return compiled.type;
}

/**
 * The projection of a join or a single source: columns that select the input's key columns become
 * the key (in the input's key order), the rest the value.
 */
function project(
  items: readonly Item[],
  env: InputEnv,
  ctx: QueryContext,
  sinkName: string,
): { keySelects: SelectExpression[]; valueSelects: SelectExpression[]; schema: LogicalSchema } {
  const compiler = compilerFor(env.schema, ctx);
  const typed = items.map((it) => ({ ...it, type: typeOf(compiler.compile(it.expr)) }));
  ctx.checkProjection?.(typed.map((t) => ({ name: t.name, type: t.type })));
  const keyNames = env.schema.key.map((k) => k.name);
  const keyItems = new Set<(typeof typed)[number]>();
  const keySelects: SelectExpression[] = [];
  const keyCols: Column[] = [];
  const sinkText = `\`${sinkName}\``;
  keyNames.forEach((k) => {
    const matches = typed.filter((t) => t.expr.kind === 'Column' && t.expr.name === k);
    if (matches.length > 1) {
      throw statementError(
        `The projection contains a key column (\`${k}\`) more than once, aliased as: ${matches
          .map((m) => m.name)
          .sort()
          .join(' and ')}.`,
      );
    }
    const m = matches[0];
    if (m === undefined) return;
    keyItems.add(m);
    keySelects.push({ alias: m.name, expression: m.expr });
    keyCols.push({ name: m.name, type: m.type });
  });
  const join = env.join;
  if (join?.foreignKey !== undefined) {
    const fk = join.foreignKey;
    const missing = fk.keys
      .map((k, i) => ({ k, raw: fk.raw[i] ?? k }))
      .filter(
        (k) =>
          !keyNames.includes(k.k) ||
          !keySelects.some((s) => s.expression.kind === 'Column' && s.expression.name === k.k),
      );
    if (missing.length > 0) {
      const word = missing.length === 1 ? 'column' : 'columns';
      throw statementError(
        `Primary key ${word} missing in projection. For foreign-key table-table joins, the projection must include all primary key columns from the left input table (\`${fk.table}\`). Missing ${word}: ${missing.map((m) => `\`${m.raw}\``).join(', ')}.`,
      );
    }
  } else if (join !== undefined && keySelects.length === 0) {
    const shown = join.viable.map(formatExpression);
    const several = shown.length > 1;
    throw statementError(
      `The query used to build ${sinkText} must include the join expression${several ? 's' : ''} ${joinWords(shown, 'or')} in its projection (eg, SELECT ${shown[0] ?? ''}...).${
        join.synthetic
          ? `\n${shown[0] ?? 'ROWKEY'} was added as a synthetic key column because the join criteria did not match any source column.`
          : ''
      }`,
    );
  } else if (join === undefined && keySelects.length < keyNames.length) {
    const several = keyNames.length > 1;
    throw statementError(
      `The query used to build ${sinkText} must include the key column${several ? 's' : ''} ${keyNames.join(' and ')} in its projection (eg, SELECT ${keyNames.join(', ')}...).`,
    );
  }
  const valueItems = typed.filter((t) => !keyItems.has(t));
  const valueSelects = valueItems.map((t) => ({ alias: t.name, expression: t.expr }));
  const valueCols = valueItems.map((t) => ({ name: t.name, type: t.type }));
  checkDuplicates(keyCols, valueCols);
  if (valueCols.length === 0) throw statementError('The projection contains no value columns.');
  return { keySelects, valueSelects, schema: { key: keyCols, value: valueCols } };
}

function checkDuplicates(keyCols: readonly Column[], valueCols: readonly Column[]): void {
  const seen = new Set<string>();
  for (const c of valueCols) {
    if (seen.has(c.name)) {
      throw statementError(`Duplicate value columns found in schema: \`${c.name}\` ${formatType(c.type)}`);
    }
    seen.add(c.name);
  }
  for (const c of keyCols) {
    if (seen.has(c.name)) throw statementError(`Duplicate column names: ${c.name}`);
    seen.add(c.name);
  }
}

// ---- aggregation ---------------------------------------------------------------------------------

const AGG_PREFIX = 'KSQL_AGG_VARIABLE_';
const KEY_PREFIX = 'KSQL_GROUP_KEY_';

function planAggregate(
  query: Query,
  ctx: PlanQueryContext,
  sinkName: string,
  baseEnv: InputEnv,
): PlannedQuery {
  const env =
    query.where === undefined || baseEnv.isJoin
      ? baseEnv
      : { ...baseEnv, step: filterStep(baseEnv.step, baseEnv.sanitize(query.where, 'WHERE'), baseEnv.table) };
  if (query.where !== undefined) {
    compilerFor(env.schema, ctx, 'WHERE').predicate(env.rewrite(env.sanitize(query.where, 'WHERE')), 'WHERE');
  }
  if (query.partitionBy !== undefined) {
    throw statementError('PARTITION BY and GROUP BY in the same query is not supported.');
  }
  const generator = new AliasGenerator(env.sources.flatMap((s) => allNames(s.source.schema)));
  const items = resolveItems(query, env, generator);
  const groupUser = (query.groupBy ?? []).map((g) => env.sanitize(g, 'GROUP BY'));
  const groupBy = groupUser.map((g) => env.rewrite(g));
  const having = query.having === undefined ? undefined : env.rewrite(env.sanitize(query.having, 'HAVING'));

  // Aggregate calls, in order of appearance (SELECT, then HAVING).
  const calls: Extract<Expr, { kind: 'Call' }>[] = [];
  const collect = (e: Expr, clause: 'SELECT' | 'HAVING' | 'GROUP BY'): void => {
    const visit = (x: Expr, inside: string | undefined): void => {
      if (x.kind === 'Call' && isAggregateFunction(x.name)) {
        if (clause === 'GROUP BY') {
          throw statementError(
            `GROUP BY does not support aggregate functions: ${x.name} is an aggregate function.`,
          );
        }
        if (inside !== undefined) {
          throw statementError(`Aggregate functions can not be nested: ${inside}(${x.name}())`);
        }
        if (!calls.some((c) => sameExpression(c, x))) calls.push(x);
        for (const a of x.args) visit(a, x.name);
        return;
      }
      forChildren(x, (c) => visit(c, inside));
    };
    visit(e, undefined);
  };
  groupBy.forEach((g, i) => {
    if (groupBy.slice(0, i).some((x) => sameExpression(x, g))) {
      const alias = env.sources[0]?.alias ?? '';
      const shown = env.isJoin ? (groupUser[i] as Expr) : qualify(groupUser[i] as Expr, alias);
      throw statementError(`Duplicate GROUP BY expression: ${formatExpression(shown)}`);
    }
  });
  // Unknown functions are reported before the GROUP BY rules.
  for (const e of [...groupBy, ...items.map((it) => it.expr), ...(having === undefined ? [] : [having])]) {
    mapExpression(e, (x) => {
      if (
        x.kind === 'Call' &&
        !isAggregateFunction(x.name) &&
        !x.name.startsWith('$') &&
        !ctx.functions.has(x.name)
      ) {
        throw statementError(`Can't find any functions with the name '${x.name}'`);
      }
      return x;
    });
  }
  for (const g of groupBy) collect(g, 'GROUP BY');
  for (const it of items) collect(it.expr, 'SELECT');
  if (having !== undefined) collect(having, 'HAVING');

  const rewriteGroups = (e: Expr): Expr =>
    mapExpressionTopDown(e, (x) => {
      const gi = groupBy.findIndex((g) => sameExpression(g, x));
      if (gi >= 0) return { kind: 'Column', name: `${KEY_PREFIX}${gi}` };
      if (x.kind === 'Call' && isAggregateFunction(x.name)) {
        const ci = calls.findIndex((c) => sameExpression(c, x));
        return { kind: 'Column', name: `${AGG_PREFIX}${ci}` };
      }
      return undefined;
    });
  const leftover = (e: Expr): string[] =>
    columnsIn(rewriteGroups(e)).filter((c) => !c.startsWith(KEY_PREFIX) && !c.startsWith(AGG_PREFIX));

  if (calls.length === 0) {
    throw statementError('GROUP BY requires aggregate functions in either the SELECT or HAVING clause.');
  }
  // Non-aggregate SELECT expressions must be made of GROUP BY expressions.
  const show = (it: Item): string => formatExpression(unqualify(it.user));
  const badSelects = items.filter((it) => !containsAggregate(it.expr) && leftover(it.expr).length > 0);
  if (badSelects.length > 0) {
    throw statementError(
      `Non-aggregate SELECT expression(s) not part of GROUP BY: ${badSelects.map(show).join(', ')}\nEither add the column(s) to the GROUP BY or remove them from the SELECT.`,
    );
  }
  if (query.groupBy === undefined) {
    const shown = calls.map((c) =>
      c.args.length === 0 ? `${c.name}(ROWTIME)` : formatExpression(unqualify(c)),
    );
    throw statementError(
      `CREATE TABLE AS SELECT statement does not support aggregate function [${shown.join(', ')}] without a GROUP BY clause.`,
    );
  }
  const badAggSelects = items.filter((it) => containsAggregate(it.expr) && leftover(it.expr).length > 0);
  if (badAggSelects.length > 0) {
    throw statementError(
      `Non-aggregate SELECT expression(s) not part of GROUP BY: ${badAggSelects.map(show).join(', ')}\nEither add the column(s) to the GROUP BY or remove them from the SELECT.`,
    );
  }
  if (having !== undefined && leftover(having).length > 0) {
    throw statementError(
      `Non-aggregate HAVING expression not part of GROUP BY: ${leftover(having).join(', ')}\nConsider switching the HAVING clause to a WHERE clause before the GROUP BY.`,
    );
  }
  if (env.table) {
    const streamOnly = [...new Set(calls.map((c) => c.name))].filter((n) => !supportsTables(n));
    if (streamOnly.length > 0) {
      throw statementError(
        `The aggregation function${streamOnly.length > 1 ? 's' : ''} ${joinWords(streamOnly, 'and')} cannot be applied to a table source, only to a stream source.`,
      );
    }
  }

  // ksqlDB types the whole projection as value columns first: a repeated name fails there.
  {
    const seen = new Set<string>();
    const typer = compilerFor(env.schema, ctx);
    for (const it of items) {
      if (seen.has(it.name)) {
        const type = containsAggregate(it.expr) ? undefined : typeOf(typer.compile(it.expr));
        const aggType =
          type ??
          (it.expr.kind === 'Call' && isAggregateFunction(it.expr.name)
            ? aggregateReturnType(it.expr, typer, ctx.config)
            : undefined);
        throw statementError(
          `Duplicate value columns found in schema: \`${it.name}\`${aggType === undefined ? '' : ` ${formatType(aggType)}`}`,
        );
      }
      seen.add(it.name);
    }
  }
  // Key columns: GROUP BY order, named after the matching select item.
  const inputCompiler = compilerFor(env.schema, ctx, 'GROUP BY');
  const keyCols: Column[] = groupBy.map((g, i) => {
    const type = typeOf(inputCompiler.compile(g));
    const matches = items.filter((it) => !it.fromStar && sameExpression(it.expr, g));
    const starMatches = items.filter((it) => it.fromStar && sameExpression(it.expr, g));
    if (matches.length > 1) {
      throw statementError(
        `The projection contains a key column more than once: ${joinWords(
          matches.map((m) => `\`${m.name}\``),
          'and',
        )}.`,
      );
    }
    const m = matches[0] ?? starMatches[0];
    const u = groupUser[i] as Expr;
    const name =
      m?.name ?? (u.kind === 'Column' ? env.columnAlias(u) : generator.forExpression(unqualify(u)));
    return { name, type };
  });
  const missing = groupBy
    .map((g, i) => ({ g, i }))
    .filter(({ g }) => !items.some((it) => sameExpression(it.expr, g)));
  if (missing.length > 0) {
    const shown = missing.map(({ i }) => formatExpression(unqualify(groupUser[i] as Expr)));
    const several = shown.length > 1;
    throw statementError(
      `The query used to build \`${sinkName}\` must include the grouping expression${several ? 's' : ''} ${joinWords(
        shown,
        'and',
      )} in its projection (eg, SELECT ${shown.join(', ')}...).`,
    );
  }

  // group-by step: internal key names (no clash with input columns), value = input value + keys.
  const movedKeys = env.schema.key.filter((k) => !env.schema.value.some((v) => v.name === k.name));
  const groupSchema: LogicalSchema = {
    key: keyCols.map((k, i) => ({ name: `${KEY_PREFIX}${i}`, type: k.type })),
    value: [...env.schema.value, ...movedKeys],
  };
  const groupStep: GroupByStep = {
    step: 'groupBy',
    source: env.step,
    keyExpressions: groupBy,
    table: env.table,
    schema: groupSchema,
  };
  const groupCompiler = compilerFor(groupSchema, ctx);
  const aggregations: AggregateCall[] = calls.map((c) => {
    const [first, ...rest] = c.args;
    for (const l of rest) {
      if (l.kind !== 'Literal') throw statementError('Currently, second argument in UDAF should be literal.');
    }
    const call: AggregateCall = {
      name: c.name,
      ...(first === undefined ? {} : { argument: first }),
      literals: rest,
    };
    return call;
  });
  const aggTypes = calls.map((c) => aggregateReturnType(c, groupCompiler, ctx.config));

  // Columns still referenced after substitution are carried as non-aggregate columns.
  const nonAgg = [
    ...new Set([
      ...items.flatMap((it) => leftover(it.expr)),
      ...(having === undefined ? [] : leftover(having)),
    ]),
  ];
  const nonAggCols: Column[] = nonAgg.map((n) => ({
    name: n,
    type: typeOf(groupCompiler.compile({ kind: 'Column', name: n })),
  }));
  const aggSchema: LogicalSchema = {
    key: groupSchema.key,
    value: [...nonAggCols, ...aggTypes.map((t, i) => ({ name: `${AGG_PREFIX}${i}`, type: t }))],
  };
  let step: ExecutionStep = {
    step: 'aggregate',
    source: groupStep,
    nonAggregateColumns: nonAgg,
    aggregations,
    stateStore: 'Aggregate-Aggregate-Materialize',
    functionConfig: functionConfig(ctx.config),
    schema: aggSchema,
  };
  const aggCompiler = compilerFor(aggSchema, ctx);
  if (having !== undefined) {
    const h = rewriteGroups(having);
    compilerFor(aggSchema, ctx, 'HAVING').predicate(h, 'HAVING');
    step = { step: 'tableFilter', source: step, predicate: h, schema: aggSchema };
  }
  const keyNames = new Set(keyCols.map((k) => k.name));
  const valueItems = items.filter(
    (it) => !(keyNames.has(it.name) && groupBy.some((g) => sameExpression(g, it.expr))),
  );
  const valueSelects = valueItems.map((it) => ({ alias: it.name, expression: rewriteGroups(it.expr) }));
  const valueCols = valueSelects.map((s) => ({
    name: s.alias,
    type: typeOf(aggCompiler.compile(s.expression)),
  }));
  ctx.checkProjection?.([...keyCols, ...valueCols]);
  if (valueCols.length === 0) throw statementError('The projection contains no value columns.');
  checkDuplicates(keyCols, valueCols);
  return {
    resultType: 'TABLE',
    from: env.from,
    sources: env.sources.map((s) => s.source),
    input: step,
    keySelects: keyCols.map((k, i) => ({
      alias: k.name,
      expression: { kind: 'Column', name: `${KEY_PREFIX}${i}` },
    })),
    valueSelects,
    outputSchema: { key: keyCols, value: valueCols },
    copartitioned: env.copartitioned,
  };
}

const NO_EVAL = { functions: { now: () => 0, uuid: () => '' }, onError: () => undefined };

function aggregateReturnType(
  call: Extract<Expr, { kind: 'Call' }>,
  compiler: ExpressionCompiler,
  config: Readonly<Record<string, string>>,
): SqlType {
  const [first, ...rest] = call.args;
  const argType = first === undefined ? undefined : compiler.compile(first).type;
  const literals = rest.map((l) => compiler.compile(l).evaluate([], NO_EVAL));
  return resolveAggregate(call.name, argType, literals, config).returnType;
}

function functionConfig(config: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(config)) if (k.startsWith('ksql.functions.')) out[k] = v;
  return out;
}

/** Calls `fn` on each direct sub-expression. */
function forChildren(e: Expr, fn: (x: Expr) => void): void {
  switch (e.kind) {
    case 'Deref':
      fn(e.base);
      return;
    case 'Subscript':
      fn(e.base);
      fn(e.index);
      return;
    case 'Negate':
    case 'Not':
    case 'IsNull':
    case 'Cast':
      fn(e.operand);
      return;
    case 'Arithmetic':
    case 'Compare':
    case 'Logical':
      fn(e.left);
      fn(e.right);
      return;
    case 'Between':
      fn(e.value);
      fn(e.low);
      fn(e.high);
      return;
    case 'In':
      fn(e.value);
      e.list.forEach(fn);
      return;
    case 'Like':
      fn(e.value);
      fn(e.pattern);
      return;
    case 'Case':
      if (e.operand !== undefined) fn(e.operand);
      for (const w of e.whens) {
        fn(w.when);
        fn(w.then);
      }
      if (e.else !== undefined) fn(e.else);
      return;
    case 'Call':
      e.args.forEach(fn);
      return;
    case 'ArrayCtor':
      e.items.forEach(fn);
      return;
    case 'MapCtor':
      for (const x of e.entries) {
        fn(x.key);
        fn(x.value);
      }
      return;
    case 'StructCtor':
      for (const f of e.fields) fn(f.value);
      return;
    case 'Lambda':
      fn(e.body);
      return;
    default:
      return;
  }
}

/** Rewrites top-down: where `fn` returns an expression, it replaces the sub-tree (not descended). */
function mapExpressionTopDown(e: Expr, fn: (x: Expr) => Expr | undefined): Expr {
  const replaced = fn(e);
  if (replaced !== undefined) return replaced;
  const m = (x: Expr): Expr => mapExpressionTopDown(x, fn);
  switch (e.kind) {
    case 'Deref':
      return { ...e, base: m(e.base) };
    case 'Subscript':
      return { ...e, base: m(e.base), index: m(e.index) };
    case 'Negate':
    case 'Not':
    case 'IsNull':
    case 'Cast':
      return { ...e, operand: m(e.operand) };
    case 'Arithmetic':
    case 'Compare':
    case 'Logical':
      return { ...e, left: m(e.left), right: m(e.right) };
    case 'Between':
      return { ...e, value: m(e.value), low: m(e.low), high: m(e.high) };
    case 'In':
      return { ...e, value: m(e.value), list: e.list.map(m) };
    case 'Like':
      return { ...e, value: m(e.value), pattern: m(e.pattern) };
    case 'Case':
      return {
        ...e,
        ...(e.operand === undefined ? {} : { operand: m(e.operand) }),
        whens: e.whens.map((w) => ({ when: m(w.when), then: m(w.then) })),
        ...(e.else === undefined ? {} : { else: m(e.else) }),
      };
    case 'Call':
      return { ...e, args: e.args.map(m) };
    case 'ArrayCtor':
      return { ...e, items: e.items.map(m) };
    case 'MapCtor':
      return { ...e, entries: e.entries.map((x) => ({ key: m(x.key), value: m(x.value) })) };
    case 'StructCtor':
      return { ...e, fields: e.fields.map((f) => ({ name: f.name, value: m(f.value) })) };
    case 'Lambda':
      return { ...e, body: m(e.body) };
    default:
      return e;
  }
}

// ---- joins -----------------------------------------------------------------------------------------

interface Aliased {
  readonly alias: string;
  readonly source: SourceDefinition;
}

type JoinType = 'INNER' | 'LEFT' | 'RIGHT' | 'OUTER';

interface JoinInfo {
  readonly type: JoinType;
  readonly left: Aliased;
  readonly right: Aliased;
  /** Qualified user expressions. */
  readonly leftExpr: Expr;
  readonly rightExpr: Expr;
  /** Whether the condition was written right-side first (messages show it as written). */
  readonly flipped: boolean;
}

type TreeNode =
  | { readonly kind: 'leaf'; readonly source: Aliased }
  | {
      readonly kind: 'join';
      readonly left: TreeNode;
      readonly right: TreeNode & { kind: 'leaf' };
      readonly info: JoinInfo;
    };

function flip(info: JoinInfo): JoinInfo {
  return {
    type: info.type,
    left: info.right,
    right: info.left,
    leftExpr: info.rightExpr,
    rightExpr: info.leftExpr,
    flipped: !info.flipped,
  };
}

function joinTypeText(t: JoinType): string {
  switch (t) {
    case 'INNER':
      return '[INNER] JOIN';
    case 'LEFT':
      return 'LEFT [OUTER] JOIN';
    case 'RIGHT':
      return 'RIGHT [OUTER] JOIN';
    case 'OUTER':
      return '[FULL] OUTER JOIN';
  }
}

function leaves(node: TreeNode): Aliased[] {
  return node.kind === 'leaf' ? [node.source] : [...leaves(node.left), node.right.source];
}

function contains(node: TreeNode, alias: string): boolean {
  return leaves(node).some((l) => l.alias === alias);
}

function equivalenceSet(node: TreeNode): Expr[] {
  if (node.kind === 'leaf' || node.info.type === 'OUTER') return [];
  const keys = [node.info.leftExpr, node.info.rightExpr];
  const has = (set: readonly Expr[]): boolean => set.some((x) => keys.some((k) => sameExpression(x, k)));
  const lefts = equivalenceSet(node.left);
  const rights = equivalenceSet(node.right);
  const out = [...keys];
  if (has(lefts)) out.push(...lefts);
  if (has(rights)) out.push(...rights);
  return out;
}

function viableKeyColumns(node: TreeNode): Expr[] {
  if (node.kind === 'leaf' || node.info.type === 'OUTER') return [];
  const equiv = equivalenceSet(node);
  const out: Expr[] = [];
  for (const e of [
    ...viableKeyColumns(node.left),
    node.info.leftExpr,
    ...viableKeyColumns(node.right),
    node.info.rightExpr,
  ]) {
    if (e.kind !== 'Column' || e.source === undefined) continue;
    if (out.some((x) => sameExpression(x, e))) continue;
    if (equiv.some((x) => sameExpression(x, e))) out.push(e);
  }
  return out;
}

function columnOf(source: SourceDefinition, name: string): Column | undefined {
  return (
    source.schema.key.find((c) => c.name === name) ??
    source.schema.value.find((c) => c.name === name) ??
    PSEUDO_COLUMNS.find((c) => c.name === name)
  );
}

function joinName(alias: string, column: string): string {
  return `${alias}_${column}`;
}

function planJoinQuery(
  query: Query,
  ctx: PlanQueryContext,
  sinkName: string,
  aggregated: boolean,
): PlannedQuery {
  const from = resolveSource(ctx, query.from.name, query.from.loc);
  const sources: Aliased[] = [{ alias: query.from.alias ?? from.name, source: from }];
  for (const j of query.joins) {
    if (j.within !== undefined) throw unsupported('stream-stream joins (WITHIN)');
    const source = resolveSource(ctx, j.source.name, j.source.loc);
    const existing = sources.find((s) => s.source.name === source.name);
    if (existing !== undefined) {
      throw statementError(
        sources.length > 1
          ? `N-way joins do not support multiple occurrences of the same source. Source: '${source.name}'.`
          : `Can not join '${source.name}' to '${existing.source.name}': self joins are not yet supported.`,
      );
    }
    sources.push({ alias: j.source.alias ?? source.name, source });
  }
  checkValueFormatSupports(
    sources.map((s) => s.source),
    'JOIN',
  );
  const byAlias = (a: string): Aliased | undefined => sources.find((s) => s.alias === a);
  const clashing = new Set<string>();
  {
    const seen = new Set<string>();
    for (const s of sources) {
      for (const c of [...s.source.schema.key, ...s.source.schema.value]) {
        if (seen.has(c.name)) clashing.add(c.name);
        seen.add(c.name);
      }
    }
  }
  const sanitize = (e: Expr, clause: string, checkExists = true): Expr => {
    for (const q of qualifiersIn(e)) {
      if (byAlias(q) === undefined) {
        throw statementError(
          `Failed to prepare statement: '${q}' is not a valid stream/table name or alias.`,
        );
      }
    }
    return mapExpression(e, (x) => {
      if (x.kind !== 'Column') return x;
      if (x.source !== undefined) {
        const s = byAlias(x.source);
        if (s === undefined) {
          throw statementError(
            `Failed to prepare statement: '${x.source}' is not a valid stream/table name or alias.`,
          );
        }
        if (checkExists && columnOf(s.source, x.name) === undefined) {
          throw statementError(`${at(x.loc)}${clause} column '${x.source}.${x.name}' cannot be resolved.`);
        }
        return x;
      }
      if (PSEUDO_COLUMNS.some((p) => p.name === x.name)) return x;
      const owners = sources.filter((s) => columnOf(s.source, x.name) !== undefined);
      if (owners.length > 1) {
        throw statementError(
          `Exception while preparing statement: ${at(x.loc)}Column '${x.name}' is ambiguous. Could be ${owners
            .map((o) => `${o.alias}.${x.name}`)
            .join(' or ')}.`,
        );
      }
      const owner = owners[0];
      return owner === undefined ? x : { ...x, source: owner.alias };
    });
  };
  const rewrite = (e: Expr): Expr =>
    mapExpression(e, (x) =>
      x.kind === 'Column' && x.source !== undefined
        ? { kind: 'Column', name: joinName(x.source, x.name), ...(x.loc === undefined ? {} : { loc: x.loc }) }
        : x,
    );

  // Like ksqlDB's AST sanitizer, which runs first: qualifiers and ambiguous columns everywhere.
  const clauses: [Expr | undefined, string][] = [
    ...query.select.map((s): [Expr | undefined, string] => [
      s.kind === 'Expr' ? s.expr : undefined,
      'SELECT',
    ]),
    [query.where, 'WHERE'],
    ...(query.groupBy ?? []).map((g): [Expr, string] => [g, 'GROUP BY']),
    [query.having, 'HAVING'],
  ];
  for (const [e, clause] of clauses) if (e !== undefined) sanitize(e, clause, false);

  // Join criteria and the (left-deep) join tree.
  let root: TreeNode | undefined;
  query.joins.forEach((j: JoinClause, i) => {
    const joined = sources[i + 1] as Aliased;
    const on = j.on;
    if (on.kind !== 'Compare' || on.op !== '=') {
      const isEq = (x: Expr): boolean => x.kind === 'Compare' && x.op === '=';
      if (on.kind === 'Logical' && isEq(on.left) && isEq(on.right)) {
        throw statementError(
          `Invalid join condition: joins on multiple conditions are not yet supported. Got ${formatExpression(sanitize(on, 'JOIN ON'))}.`,
        );
      }
      if (on.kind === 'Compare') throw statementError('Only equality join criteria is supported.');
      throw statementError(`Unsupported join expression: ${formatExpression(on)}`);
    }
    const sanitized = sanitize(on, 'JOIN ON') as Extract<Expr, { kind: 'Compare' }>;
    const leftExpr = sanitized.left;
    const rightExpr = sanitized.right;
    const comparison = formatExpression({ ...on, left: leftExpr, right: rightExpr });
    const onlySource = (e: Expr): string => {
      const used = [...new Set(qualifiersIn(e))];
      if (used.length !== 1) {
        throw statementError(
          `Invalid comparison expression '${formatExpression(e)}' in join '${comparison}'. Each side of the join comparision must contain references from exactly one source.`,
        );
      }
      return used[0] as string;
    };
    const ls = onlySource(leftExpr);
    const rs = onlySource(rightExpr);
    if (ls === rs) {
      throw statementError(
        `Each side of the join must reference exactly one source and not the same source. Left side references ${ls} and right references ${rs}`,
      );
    }
    if (ls !== joined.alias && rs !== joined.alias) {
      throw statementError(
        `A join criteria is expected to reference the source (${joined.alias}) in the FROM clause, instead the right source references ${rs} and the left source references ${ls}`,
      );
    }
    const type: JoinType = j.type === 'FULL' ? 'OUTER' : j.type;
    let info: JoinInfo = {
      type,
      left: byAlias(ls) as Aliased,
      right: byAlias(rs) as Aliased,
      leftExpr,
      rightExpr,
      flipped: false,
    };
    if (rs === (sources[0] as Aliased).alias) info = flip(info);
    if (root === undefined) root = { kind: 'leaf', source: info.left };
    if (contains(root, info.left.alias) && contains(root, info.right.alias)) {
      throw statementError(
        `Cannot perform circular join - both ${info.right.alias} and ${formatExpression(info.leftExpr)} are already included in the current join tree.`,
      );
    } else if (contains(root, info.left.alias)) {
      root = { kind: 'join', left: root, right: { kind: 'leaf', source: info.right }, info };
    } else if (contains(root, info.right.alias)) {
      root = { kind: 'join', left: root, right: { kind: 'leaf', source: info.left }, info: flip(info) };
    } else {
      throw statementError(
        `Cannot build JOIN tree; neither source in the join is the FROM source or included in a previous JOIN: ${comparison}`,
      );
    }
  });
  const tree = root as TreeNode & { kind: 'join' };

  // The projection decides which viable key column names the join key (ksqlDB's buildJoinKey).
  const inProjection = (e: Expr): boolean =>
    query.select.some((s) =>
      s.kind === 'Star'
        ? s.source === undefined || (e.kind === 'Column' && e.source === s.source)
        : sameExpression(sanitize(s.expr, 'SELECT'), e),
    );
  const allSchemas = sources.map((s) => s.source.schema);
  const keyGenerator = new AliasGenerator(
    allSchemas.flatMap((s) => [...s.key, ...s.value].map((c) => c.name)),
  );
  const syntheticName = keyGenerator.syntheticJoinKey();

  const copartitioned: Copartitioned[] = [];

  interface Built {
    readonly step: ExecutionStep;
    readonly table: boolean;
    /** The key type of the (possibly re-keyed) input. */
    readonly keyType: SqlType | undefined;
  }

  const keyOfLeaf = (leaf: Aliased, e: Expr): boolean => {
    const keys = leaf.source.schema.key;
    return e.kind === 'Column' && keys.length === 1 && keys[0]?.name === e.name && e.source === leaf.alias;
  };

  /** Prefixes every column with the alias; key copies and pseudo columns move into the value. */
  const prejoin = (
    input: ExecutionStep,
    leaf: Aliased,
    keyName: string | undefined,
    table: boolean,
  ): ExecutionStep => {
    const s = leaf.source.schema;
    const inSchema = input.schema;
    const value: SelectExpression[] = [
      ...s.value.map((c) => ({ alias: joinName(leaf.alias, c.name), expression: col(c.name) })),
      ...PSEUDO_COLUMNS.map((c) => ({ alias: joinName(leaf.alias, c.name), expression: col(c.name) })),
      ...s.key.map((c) => ({ alias: joinName(leaf.alias, c.name), expression: col(c.name) })),
    ];
    const compiler = compilerFor(inSchema, ctx);
    const key: SelectExpression[] =
      keyName === undefined
        ? inSchema.key.map((c) => ({ alias: joinName(leaf.alias, c.name), expression: col(c.name) }))
        : [{ alias: keyName, expression: col(inSchema.key[0]?.name ?? keyName) }];
    const schema: LogicalSchema = {
      key: key.map((k) => ({ name: k.alias, type: typeOf(compiler.compile(k.expression)) })),
      value: value.map((v) => ({ name: v.alias, type: typeOf(compiler.compile(v.expression)) })),
    };
    return {
      step: table ? 'tableSelect' : 'streamSelect',
      source: input,
      keyExpressions: key,
      valueExpressions: value,
      schema,
    };
  };

  const rekey = (input: ExecutionStep, e: Expr, name: string): ExecutionStep => {
    const type = typeOf(compilerFor(input.schema, ctx, 'JOIN ON').compile(e));
    const moved = input.schema.key.filter((k) => !input.schema.value.some((v) => v.name === k.name));
    return {
      step: 'streamSelectKey',
      source: input,
      keyExpressions: [e],
      schema: { key: [{ name, type }], value: [...input.schema.value, ...moved] },
    };
  };

  const nodeType = (node: TreeNode): 'STREAM' | 'TABLE' => {
    if (node.kind === 'leaf') return node.source.source.type;
    return nodeType(node.left) === 'TABLE' && nodeType(node.right) === 'TABLE' ? 'TABLE' : 'STREAM';
  };

  const buildJoin = (
    node: TreeNode & { kind: 'join' },
    prefix: string,
    isRoot: boolean,
  ): Built & { fk: boolean; keyName: string; synthetic: boolean } => {
    const info = node.info;
    const written = info.flipped
      ? `${formatExpression(info.rightExpr)} = ${formatExpression(info.leftExpr)}`
      : `${formatExpression(info.leftExpr)} = ${formatExpression(info.rightExpr)}`;
    const leftType = nodeType(node.left);
    const rightLeaf = node.right.source;
    const rightType = rightLeaf.source.type;
    const leftNames = (): string => leaves(node.left)[0]?.source.name ?? '';
    if (leftType === 'STREAM' && rightType === 'STREAM') throw unsupported('stream-stream joins (WITHIN)');
    if (leftType === 'TABLE' && rightType === 'STREAM') {
      throw statementError(
        `Invalid join order: table-stream joins are not supported; only stream-table joins. Got ${leftNames()} ${joinTypeText(info.type)} ${rightLeaf.source.name}.`,
      );
    }
    let fk = false;
    if (leftType === 'STREAM') {
      if (info.type === 'OUTER' || info.type === 'RIGHT') {
        throw statementError(
          `Invalid join type: ${info.type === 'OUTER' ? 'full-outer' : 'right-outer'} join not supported for stream-table join. Got ${leftNames()} ${joinTypeText(info.type)} ${rightLeaf.source.name}.`,
        );
      }
      if (!keyOfLeaf(rightLeaf, info.rightExpr)) {
        throw statementError(
          `Invalid join condition: stream-table joins require to join on the table's primary key. Got ${written}.`,
        );
      }
    } else {
      if (!keyOfLeaf(rightLeaf, info.rightExpr)) {
        throw statementError(
          `Invalid join condition: table-table joins require to join on the primary key of the right input table. Got ${written}.`,
        );
      }
      const leftLeafOf = leaves(node.left).find((l) => qualifiersIn(info.leftExpr).includes(l.alias));
      fk = leftLeafOf === undefined || !keyOfLeaf(leftLeafOf, info.leftExpr);
      if (fk) {
        if (info.type === 'OUTER') {
          throw statementError(
            `Invalid join type: full-outer join not supported for foreign-key table-table join. Got ${leftNames()} ${joinTypeText(info.type)} ${rightLeaf.source.name}.`,
          );
        }
        if (info.type === 'RIGHT') throw statementError('RIGHT OUTER JOIN on a foreign key is not supported');
        if (node.left.kind !== 'leaf') {
          throw statementError(
            `Invalid join condition: foreign-key table-table joins are not supported as part of n-way joins. Got ${written}.`,
          );
        }
      }
    }
    const rightKeyType = rightLeaf.source.schema.key[0]?.type;

    // Left input.
    let left: Built;
    let leftKeyed: ExecutionStep;
    let leftTypeForKey: SqlType | undefined;
    const leftExprJoin = rewrite(info.leftExpr);
    if (node.left.kind === 'leaf') {
      const leaf = node.left.source;
      const src = sourceStep(leaf.source, leaf.alias);
      const isTable = leaf.source.type === 'TABLE';
      if (fk || keyOfLeaf(leaf, info.leftExpr)) {
        leftKeyed = prejoin(src, leaf, fk ? undefined : `${leaf.alias}$KEY`, isTable);
        leftTypeForKey = fk
          ? typeOf(compilerFor(leaf.source.schema, ctx, 'JOIN ON').compile(unqualify(info.leftExpr)))
          : leaf.source.schema.key[0]?.type;
      } else {
        if (isTable) {
          throw statementError(
            `Cannot repartition a TABLE source. If this is a join, make sure that the criteria uses the TABLE's key column ${leaf.source.schema.key.map((k) => k.name).join(', ')} instead of ${formatExpression(unqualify(info.leftExpr))}`,
          );
        }
        const keyed = rekey(src, unqualify(info.leftExpr), `${leaf.alias}$KEY`);
        leftTypeForKey = keyed.schema.key[0]?.type;
        leftKeyed = prejoin(keyed, leaf, `${leaf.alias}$KEY`, false);
      }
      left = { step: leftKeyed, table: isTable, keyType: leftTypeForKey };
    } else {
      const sub = buildJoin(node.left, `L_${prefix}`, false);
      const inEquivalence = equivalenceSet(node.left).some((x) => sameExpression(x, info.leftExpr));
      if (inEquivalence) {
        left = sub;
      } else {
        if (sub.table) {
          throw statementError(
            `Cannot repartition a TABLE source. If this is a join, make sure that the criteria uses the TABLE's key column instead of ${formatExpression(info.leftExpr)}`,
          );
        }
        const keyed = rekey(sub.step, leftExprJoin, `${prefix}$KEY`);
        left = { step: keyed, table: false, keyType: keyed.schema.key[0]?.type };
      }
      leftTypeForKey = left.keyType;
    }
    if (
      leftTypeForKey !== undefined &&
      rightKeyType !== undefined &&
      !typesEqual(leftTypeForKey, rightKeyType)
    ) {
      const lt = formatType(leftTypeForKey);
      const rt = formatType(rightKeyType);
      throw statementError(
        info.flipped
          ? `Invalid join condition: types don't match. Got ${formatExpression(info.rightExpr)}{${rt}} = ${formatExpression(info.leftExpr)}{${lt}}.`
          : `Invalid join condition: types don't match. Got ${formatExpression(info.leftExpr)}{${lt}} = ${formatExpression(info.rightExpr)}{${rt}}.`,
      );
    }
    if (!fk) {
      // ksqlDB compares partition counts even when a side is re-partitioned (its repartition topic
      // gets its source's count); a join's count is its right side's.
      const partitionTopic = (n: TreeNode): string =>
        n.kind === 'leaf' ? n.source.source.topic : n.right.source.source.topic;
      copartitioned.push({
        left: { name: leaves(node.left)[0]?.alias ?? '', topic: partitionTopic(node.left) },
        right: { name: rightLeaf.alias, topic: rightLeaf.source.topic },
      });
    }
    const rightSrc = sourceStep(rightLeaf.source, rightLeaf.alias);
    const right = prejoin(rightSrc, rightLeaf, fk ? undefined : `${rightLeaf.alias}$KEY`, true);
    const leftStore = `${prefix}KafkaTopic_Left-Reduce`;
    const rightStore = `${prefix}KafkaTopic_Right-Reduce`;

    if (fk) {
      const schema: LogicalSchema = {
        key: left.step.schema.key,
        value: [...left.step.schema.value, ...right.schema.value],
      };
      return {
        step: {
          step: 'fkJoin',
          joinType: info.type === 'LEFT' ? 'LEFT' : 'INNER',
          left: left.step,
          right,
          foreignKey: leftExprJoin,
          leftStore,
          rightStore,
          schema,
        },
        table: true,
        keyType: undefined,
        fk: true,
        keyName: '',
        synthetic: false,
      };
    }

    // The key's name: a viable key column (preferring one in the projection), else synthetic.
    const viable = viableKeyColumns(node);
    const chosen = viable.find(inProjection) ?? viable[0];
    const synthetic = chosen === undefined;
    const keyName =
      chosen === undefined || chosen.kind !== 'Column' || chosen.source === undefined
        ? isRoot
          ? syntheticName
          : `${prefix}ROWKEY`
        : joinName(chosen.source, chosen.name);
    const keyType = (leftTypeForKey ?? rightKeyType) as SqlType;
    const schema: LogicalSchema = {
      key: [{ name: keyName, type: keyType }],
      value: [
        ...left.step.schema.value,
        ...right.schema.value,
        ...(synthetic ? [{ name: keyName, type: keyType }] : []),
      ],
    };
    const table = left.table && rightType === 'TABLE';
    return {
      step: {
        step: 'join',
        kind: table ? 'tableTable' : 'streamTable',
        joinType: info.type === 'RIGHT' ? 'RIGHT' : info.type,
        left: left.step,
        right,
        keyName,
        syntheticKey: synthetic,
        ...(table ? { leftStore } : {}),
        rightStore,
        schema,
      },
      table,
      keyType,
      fk: false,
      keyName,
      synthetic,
    };
  };

  const built = buildJoin(tree, '', true);
  const viable = viableKeyColumns(tree);
  const leftLeaf = leaves(tree)[0] as Aliased;
  const joinEnv: InputEnv = {
    step: built.step,
    schema: built.step.schema,
    table: built.table,
    from,
    sources,
    isJoin: true,
    sanitize,
    rewrite,
    expandStar: (s, loc) => {
      if (s !== undefined && byAlias(s) === undefined) {
        throw statementError(`${at(loc)}'${s}' is not a valid stream/table name or alias.`);
      }
      const out: { name: string; expr: Expr }[] = [];
      if (s === undefined && built.synthetic) out.push({ name: built.keyName, expr: col(built.keyName) });
      for (const leaf of leaves(tree)) {
        if (s !== undefined && leaf.alias !== s) continue;
        for (const c of [...leaf.source.schema.key, ...leaf.source.schema.value]) {
          const name = joinName(leaf.alias, c.name);
          out.push({ name, expr: col(name) });
        }
      }
      return out;
    },
    columnAlias: (e) =>
      e.source !== undefined && (clashing.has(e.name) || PSEUDO_COLUMNS.some((p) => p.name === e.name))
        ? joinName(e.source, e.name)
        : e.name,
    copartitioned,
    join: built.fk
      ? {
          synthetic: false,
          viable: [],
          foreignKey: {
            table: leftLeaf.source.name,
            keys: leftLeaf.source.schema.key.map((k) => joinName(leftLeaf.alias, k.name)),
            raw: leftLeaf.source.schema.key.map((k) => k.name),
          },
        }
      : {
          synthetic: built.synthetic,
          viable: built.synthetic ? [col(built.keyName)] : viable,
        },
  };
  // The join result's key column must be addressable by its name (e.g. ROWKEY) in the projection.
  let input = built.step;
  if (query.where !== undefined) {
    const predicate = rewrite(sanitize(query.where, 'WHERE'));
    compilerFor(built.step.schema, ctx, 'WHERE').predicate(predicate, 'WHERE');
    input = filterStep(input, predicate, built.table);
  }
  const env: InputEnv = { ...joinEnv, step: input };
  if (aggregated) return planAggregate(query, ctx, sinkName, env);
  if (query.partitionBy !== undefined) throw unsupported('PARTITION BY on a join');
  const generator = new AliasGenerator(allSchemas.flatMap((s) => allNames(s)));
  const items = resolveItems(query, env, generator);
  const projection = project(items, env, ctx, sinkName);
  return {
    resultType: built.table ? 'TABLE' : 'STREAM',
    from,
    sources: sources.map((s) => s.source),
    input,
    keySelects: projection.keySelects,
    valueSelects: projection.valueSelects,
    outputSchema: projection.schema,
    copartitioned,
  };
}

/** ksqlDB cannot repartition or materialize KAFKA-format values. */
function checkValueFormatSupports(sources: readonly SourceDefinition[], what: 'JOIN' | 'GROUP BY'): void {
  const kafka = sources.filter((s) => s.formats.value.format === 'KAFKA').map((s) => s.name);
  if (kafka.length === 0) return;
  throw statementError(
    `Source(s) ${kafka.join(', ')} are using the 'KAFKA' value format. This format does not yet support ${what}.\nThe KAFKA format is primarily intended for use as a key format. It can be used as a value format, but can not be used in any operation that requires a repartition or changelog topic.`,
  );
}

function col(name: string): Expr {
  return { kind: 'Column', name };
}

function qualifiersIn(e: Expr): string[] {
  const out: string[] = [];
  mapExpression(e, (x) => {
    if (x.kind === 'Column' && x.source !== undefined) out.push(x.source);
    return x;
  });
  return out;
}

/** Every source a statement's query reads (for DROP bookkeeping). */
export function querySourceNames(query: Query): string[] {
  return [query.from.name, ...query.joins.map((j) => j.source.name)];
}

export type { Column };
