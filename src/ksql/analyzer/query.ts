/**
 * Analysis of a single-source persistent query without aggregation (SELECT ... FROM stream or table
 * [WHERE] [PARTITION BY]): resolves names, types every expression, names the output columns the way
 * ksqlDB does (alias, column name, struct field name, KSQL_COL_n) and works out which projected
 * columns form the key. Joins and aggregations are planned by planner/query.ts.
 */
import { statementError, unsupported } from '../errors.ts';
import type { FunctionRegistry } from '../functions/registry.ts';
import type { Expr, Query, SelectItem } from '../parser/ast.ts';
import { formatExpression, sameExpression } from '../parser/format.ts';
import {
  PSEUDO_COLUMNS,
  SYSTEM_COLUMN_NAMES,
  WINDOW_BOUNDS,
  type Column,
  type LogicalSchema,
} from '../schema/logical.ts';
import type { SqlType } from '../schema/types.ts';
import type { SelectExpression, SourceDefinition } from '../planner/steps.ts';
import { ExpressionCompiler } from './expressions.ts';
import type { MetaStoreView } from './metastore.ts';
import { qualify, SourceScope, unqualify } from './scope.ts';

export interface QueryAnalysis {
  readonly source: SourceDefinition;
  readonly alias: string;
  readonly where?: Expr;
  /** PARTITION BY: key expressions and the schema after re-keying. */
  readonly partitionBy?: { readonly expressions: readonly Expr[]; readonly schema: LogicalSchema };
  readonly keySelects: readonly SelectExpression[];
  readonly valueSelects: readonly SelectExpression[];
  readonly outputSchema: LogicalSchema;
}

export interface QueryContext {
  readonly metastore: MetaStoreView;
  readonly functions: FunctionRegistry;
  /** Called with every projected column before key checks (ksqlDB validates WITH(TIMESTAMP) first). */
  readonly checkProjection?: (columns: readonly Column[]) => void;
}

/** ksqlDB's ColumnAliasGenerator: KSQL_COL_n and struct-field names, unique against the source. */
export class AliasGenerator {
  private readonly used = new Map<string, Set<number>>();
  private readonly next = new Map<string, number>();

  constructor(names: readonly string[]) {
    for (const n of names) {
      const { base, num } = splitNumbered(n);
      const set = this.used.get(base) ?? new Set<number>();
      set.add(num);
      this.used.set(base, set);
    }
  }

  private nextFor(base: string, dropZero: boolean): string {
    const used = this.used.get(base) ?? new Set<number>();
    let idx = this.next.get(base) ?? 0;
    while (used.has(idx)) idx++;
    this.next.set(base, idx + 1);
    return idx === 0 && dropZero ? base : `${base}_${idx}`;
  }

  ksqlCol(): string {
    return this.nextFor('KSQL_COL', false);
  }

  forExpression(e: Expr): string {
    if (e.kind === 'Deref') return this.nextFor(splitNumbered(e.field).base, true);
    return this.ksqlCol();
  }

  /** The synthetic join key: ROWKEY, or ROWKEY_<n> when a source already has such a column. */
  syntheticJoinKey(): string {
    return this.nextFor('ROWKEY', true);
  }
}

function splitNumbered(name: string): { base: string; num: number } {
  const m = /^(.*?)(?:_(\d+))?$/.exec(name);
  const num = m?.[2];
  return { base: m?.[1] ?? name, num: num === undefined ? 0 : Number(num) };
}

function isStar(item: SelectItem): item is Extract<SelectItem, { kind: 'Star' }> {
  return item.kind === 'Star';
}

function checkUnsupportedQuery(query: Query): void {
  if (query.joins.length > 0 || query.groupBy !== undefined) {
    throw new Error('analyzeQuery handles single-source queries: plan joins and aggregations with planQuery');
  }
  if (query.window !== undefined) throw unsupported('windowed aggregation (WINDOW)');
  if (query.emit === 'FINAL') throw unsupported('EMIT FINAL');
}

export function analyzeQuery(query: Query, ctx: QueryContext, sinkName: string): QueryAnalysis {
  checkUnsupportedQuery(query);
  const source = ctx.metastore.getSource(query.from.name);
  if (source === undefined) {
    const loc = query.from.loc;
    throw statementError(
      `${loc === undefined ? '' : `Line: ${loc.line}, Col: ${loc.column}: `}${query.from.name} does not exist.`,
    );
  }
  if (source.type === 'TABLE' && query.partitionBy !== undefined) {
    throw statementError(
      'Can not repartition a TABLE. Use the primary key, or aggregate with GROUP BY to re-key a table.',
    );
  }
  if (query.having !== undefined) throw statementError('HAVING requires GROUP BY');
  if (query.limit !== undefined) throw statementError('LIMIT is not supported for persistent queries.');
  const alias = query.from.alias ?? source.name;
  const qualifiers = [...new Set([alias, source.name])];
  const scope = new SourceScope(source.schema, qualifiers);
  const compiler = (clause: string): ExpressionCompiler =>
    new ExpressionCompiler(scope.withClause(clause), ctx.functions);

  // WHERE
  let where: Expr | undefined;
  if (query.where !== undefined) {
    compiler('WHERE').predicate(query.where, 'WHERE');
    where = unqualify(query.where);
  }

  // PARTITION BY
  let partitionBy: QueryAnalysis['partitionBy'];
  let projectionSchema = source.schema;
  const partitionExprs = query.partitionBy?.map(unqualify);
  let partitionKeyNames: string[] = [];
  if (partitionExprs !== undefined) {
    if (partitionExprs.length === 0) throw statementError('PARTITION BY requires at least one expression');
    const isNull = (e: Expr): boolean => e.kind === 'Literal' && e.type === 'NULL';
    if (partitionExprs.length > 1 && partitionExprs.some(isNull)) {
      throw statementError('Cannot PARTITION BY multiple columns including NULL');
    }
    const pbCompiler = compiler('PARTITION BY');
    const keyCols: Column[] = [];
    const generator = new AliasGenerator(allNames(source.schema));
    if (!(partitionExprs.length === 1 && isNull(partitionExprs[0] as Expr))) {
      for (const e of partitionExprs) {
        let type: SqlType;
        try {
          const c = pbCompiler.compile(e);
          if (c.type.type === 'NULL') throw statementError('Cannot PARTITION BY NULL');
          type = c.type;
        } catch (error) {
          if (
            error instanceof Error &&
            /PARTITION BY column '(.*)' cannot be resolved/.test(error.message) &&
            query.select.some(
              (s) => s.kind === 'Expr' && s.alias !== undefined && e.kind === 'Column' && s.alias === e.name,
            )
          ) {
            throw statementError(
              `PARTITION BY column '${e.kind === 'Column' ? e.name : ''}' cannot be resolved. '${
                e.kind === 'Column' ? e.name : ''
              }' must be a column in the source schema since PARTITION BY is applied on the input.`,
            );
          }
          throw error;
        }
        const name = e.kind === 'Column' ? e.name : generator.forExpression(e);
        keyCols.push({ name, type });
      }
    }
    partitionKeyNames = keyCols.map((c) => c.name);
    const movedValue = [
      ...source.schema.value,
      ...source.schema.key.filter((k) => !source.schema.value.some((v) => v.name === k.name)),
    ];
    projectionSchema = { key: keyCols, value: movedValue };
    // PARTITION BY NULL: no key columns at all.
    partitionBy = { expressions: keyCols.length === 0 ? [] : partitionExprs, schema: projectionSchema };
  }

  // SELECT: expand stars, name items, type them.
  const selectScope = new SourceScope(projectionSchema, qualifiers);
  const selectCompiler = new ExpressionCompiler(selectScope, ctx.functions);
  const generator = new AliasGenerator(allNames(source.schema));
  interface Item {
    readonly name: string;
    readonly expr: Expr;
    readonly type: SqlType;
    readonly fromStar: boolean;
  }
  const items: Item[] = [];
  const hasStar = query.select.some(isStar);
  for (const s of query.select) {
    if (isStar(s)) {
      if (s.source !== undefined && !qualifiers.includes(s.source)) {
        throw statementError(`'${s.source}' is not a valid stream/table name or alias.`);
      }
      const keyNames = new Set(projectionSchema.key.map((k) => k.name));
      const cols =
        partitionBy !== undefined
          ? projectionSchema.value.filter((c) => !keyNames.has(c.name))
          : [...projectionSchema.key, ...projectionSchema.value];
      for (const c of cols)
        items.push({ name: c.name, expr: { kind: 'Column', name: c.name }, type: c.type, fromStar: true });
      continue;
    }
    const expr = unqualify(s.expr);
    if (expr.kind === 'Call' && expr.name === '$STRUCT_ALL') {
      // `struct->*`: one column per field of the struct, named after the field.
      const base = expr.args[0] as Expr;
      const t = selectCompiler.compile(base).type;
      if (t.type !== 'STRUCT')
        throw statementError(`Expected STRUCT type for ->*, got ${formatExpression(base)}`);
      for (const f of t.fields) {
        items.push({
          name: f.name,
          expr: { kind: 'Deref', base, field: f.name },
          type: f.type,
          fromStar: false,
        });
      }
      continue;
    }
    if (
      s.alias === undefined &&
      expr.kind === 'Column' &&
      (SYSTEM_COLUMN_NAMES.has(expr.name) || WINDOW_BOUNDS.includes(expr.name))
    ) {
      if (PSEUDO_COLUMNS.some((p) => p.name === expr.name) || WINDOW_BOUNDS.includes(expr.name)) {
        throw statementError(
          `Reserved column name in select: \`${expr.name}\`. Please remove or alias the column.`,
        );
      }
    }
    if (s.alias !== undefined && SYSTEM_COLUMN_NAMES.has(s.alias)) {
      throw statementError(
        `\`${s.alias}\` is a reserved column name. You cannot use it as an alias for a column.`,
      );
    }
    const compiled = selectCompiler.compile(s.expr);
    if (compiled.type.type === 'NULL') {
      throw statementError(
        "Can't infer a type of null. Please explicitly cast it to a required type, e.g. CAST(null AS VARCHAR).",
      );
    }
    const name = s.alias ?? (expr.kind === 'Column' ? expr.name : generator.forExpression(expr));
    items.push({ name, expr, type: compiled.type, fromStar: false });
  }

  ctx.checkProjection?.(items.map((it) => ({ name: it.name, type: it.type })));

  // Which items form the key.
  const keySelects: SelectExpression[] = [];
  const keyCols: Column[] = [];
  const keyItems = new Set<Item>();
  const sinkText = `\`${sinkName}\``;
  if (partitionBy === undefined) {
    const missing: string[] = [];
    for (const k of source.schema.key) {
      const matches = items.filter((it) => it.expr.kind === 'Column' && it.expr.name === k.name);
      if (matches.length > 1) {
        throw statementError(
          `The projection contains a key column (\`${k.name}\`) more than once, aliased as: ${matches.map((m) => m.name).join(' and ')}.`,
        );
      }
      const m = matches[0];
      if (m === undefined) {
        missing.push(k.name);
        continue;
      }
      keyItems.add(m);
      keySelects.push({ alias: m.name, expression: m.expr });
      keyCols.push({ name: m.name, type: m.type });
    }
    if (missing.length > 0) {
      const all = source.schema.key.map((k) => k.name);
      throw statementError(
        `The query used to build ${sinkText} must include the key column${all.length > 1 ? 's' : ''} ${all.join(' and ')} in its projection (eg, SELECT ${all.join(', ')}...).`,
      );
    }
  } else {
    const missing: Expr[] = [];
    partitionBy.expressions.forEach((pe, i) => {
      const keyName = partitionKeyNames[i];
      const keyCol = projectionSchema.key[i];
      if (keyName === undefined || keyCol === undefined) return;
      const matches = items.filter((it) => !it.fromStar && sameExpression(it.expr, pe));
      if (matches.length > 1) {
        throw statementError(
          `The projection contains a key column (\`${keyName}\`) more than once, aliased as: ${matches.map((m) => m.name).join(' and ')}.`,
        );
      }
      const m = matches[0];
      if (m !== undefined) {
        keyItems.add(m);
        keySelects.push({ alias: m.name, expression: { kind: 'Column', name: keyName } });
        keyCols.push({ name: m.name, type: keyCol.type });
      } else if (hasStar) {
        keySelects.push({ alias: keyName, expression: { kind: 'Column', name: keyName } });
        keyCols.push({ name: keyName, type: keyCol.type });
      } else {
        missing.push(pe);
      }
    });
    if (missing.length > 0) {
      const shown = partitionBy.expressions.map((e) => formatExpression(qualify(e, alias)));
      const several = shown.length > 1;
      throw statementError(
        `The query used to build ${sinkText} must include the partitioning expression${several ? 's' : ''} ${shown.join(' and ')} in its projection (eg, SELECT ${shown.join(', ')}...).`,
      );
    }
  }

  const keyNameSet = new Set(keyCols.map((k) => k.name));
  const valueItems = items.filter((it) => !keyItems.has(it) && !(it.fromStar && keyNameSet.has(it.name)));
  const valueSelects = valueItems.map((it) => ({ alias: it.name, expression: it.expr }));
  const valueCols = valueItems.map((it) => ({ name: it.name, type: it.type }));
  const seen = new Set<string>();
  for (const c of [...keyCols, ...valueCols]) {
    if (seen.has(c.name)) {
      throw statementError(`Duplicate column names: ${c.name}`);
    }
    seen.add(c.name);
  }
  if (valueCols.length === 0) throw statementError('The projection contains no value columns.');

  return {
    source,
    alias,
    ...(where === undefined ? {} : { where }),
    ...(partitionBy === undefined ? {} : { partitionBy }),
    keySelects,
    valueSelects,
    outputSchema: { key: keyCols, value: valueCols },
  };
}

export function allNames(schema: LogicalSchema): string[] {
  return [...schema.key, ...schema.value, ...PSEUDO_COLUMNS].map((c) => c.name);
}
