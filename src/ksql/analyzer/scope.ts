/**
 * Column resolution against a source (ksqlDB's processing schema: value columns, key columns, then the
 * ROWTIME / ROWPARTITION / ROWOFFSET pseudo columns), plus expression rewriting helpers.
 */
import { statementError } from '../errors.ts';
import type { Expr, Loc } from '../parser/ast.ts';
import { PSEUDO_COLUMNS, type Column, type LogicalSchema } from '../schema/logical.ts';
import type { ColumnBinding, Scope } from './expressions.ts';

function at(loc: Loc | undefined): string {
  return loc === undefined ? '' : `Line: ${loc.line}, Col: ${loc.column}: `;
}

/**
 * The flat column order the executor evaluates against: key, value, pseudo. Key columns come first so
 * that, after PARTITION BY a key column (present in key and value), the key wins when the value is null.
 */
export function processingColumns(schema: LogicalSchema): Column[] {
  return [...schema.key, ...schema.value, ...PSEUDO_COLUMNS];
}

export class SourceScope implements Scope {
  private readonly columns: Column[];
  private readonly names: ReadonlySet<string>;
  private readonly clause: string;

  /**
   * @param qualifiers names a column may be qualified with (source name and alias)
   * @param clause used in "<clause> column 'X' cannot be resolved."
   */
  constructor(schema: LogicalSchema, qualifiers: readonly string[], clause = 'SELECT') {
    this.columns = processingColumns(schema);
    this.names = new Set(qualifiers);
    this.clause = clause;
  }

  withClause(clause: string): SourceScope {
    const s = Object.create(SourceScope.prototype) as SourceScope;
    Object.assign(s, this, { clause });
    return s;
  }

  column(source: string | undefined, name: string, loc: Loc | undefined): ColumnBinding {
    if (source !== undefined && !this.names.has(source)) {
      throw statementError(`${at(loc)}'${source}' is not a valid stream/table name or alias.`);
    }
    const index = this.columns.findIndex((c) => c.name === name);
    const c = this.columns[index];
    if (c === undefined) {
      throw statementError(`${at(loc)}${this.clause} column '${name}' cannot be resolved.`);
    }
    return { type: c.type, index };
  }
}

/** Applies `fn` bottom-up to every sub-expression. */
export function mapExpression(e: Expr, fn: (e: Expr) => Expr): Expr {
  const m = (x: Expr): Expr => mapExpression(x, fn);
  let out: Expr;
  switch (e.kind) {
    case 'Deref':
      out = { ...e, base: m(e.base) };
      break;
    case 'Subscript':
      out = { ...e, base: m(e.base), index: m(e.index) };
      break;
    case 'Negate':
    case 'Not':
      out = { ...e, operand: m(e.operand) };
      break;
    case 'IsNull':
      out = { ...e, operand: m(e.operand) };
      break;
    case 'Arithmetic':
    case 'Compare':
    case 'Logical':
      out = { ...e, left: m(e.left), right: m(e.right) };
      break;
    case 'Between':
      out = { ...e, value: m(e.value), low: m(e.low), high: m(e.high) };
      break;
    case 'In':
      out = { ...e, value: m(e.value), list: e.list.map(m) };
      break;
    case 'Like':
      out = { ...e, value: m(e.value), pattern: m(e.pattern) };
      break;
    case 'Case':
      out = {
        ...e,
        ...(e.operand === undefined ? {} : { operand: m(e.operand) }),
        whens: e.whens.map((w) => ({ when: m(w.when), then: m(w.then) })),
        ...(e.else === undefined ? {} : { else: m(e.else) }),
      };
      break;
    case 'Cast':
      out = { ...e, operand: m(e.operand) };
      break;
    case 'Call':
      out = { ...e, args: e.args.map(m) };
      break;
    case 'ArrayCtor':
      out = { ...e, items: e.items.map(m) };
      break;
    case 'MapCtor':
      out = { ...e, entries: e.entries.map((x) => ({ key: m(x.key), value: m(x.value) })) };
      break;
    case 'StructCtor':
      out = { ...e, fields: e.fields.map((f) => ({ name: f.name, value: m(f.value) })) };
      break;
    case 'Lambda':
      out = { ...e, body: m(e.body) };
      break;
    default:
      out = e;
  }
  return fn(out);
}

/** Removes source qualifiers from column references (single-source queries). */
export function unqualify(e: Expr): Expr {
  return mapExpression(e, (x) =>
    x.kind === 'Column' && x.source !== undefined
      ? { kind: 'Column', name: x.name, ...(x.loc === undefined ? {} : { loc: x.loc }) }
      : x,
  );
}

/** Qualifies column references with a source name (for ksqlDB-style messages). */
export function qualify(e: Expr, source: string, keep: (name: string) => boolean = () => true): Expr {
  return mapExpression(e, (x) =>
    x.kind === 'Column' && x.source === undefined && keep(x.name) ? { ...x, source } : x,
  );
}

export function columnsIn(e: Expr): string[] {
  const out: string[] = [];
  mapExpression(e, (x) => {
    if (x.kind === 'Column') out.push(x.name);
    return x;
  });
  return out;
}
