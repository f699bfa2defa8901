/**
 * Types and compiles expressions (ksqlDB's ExpressionTypeManager + code generation) into closures over
 * a flat row. Pure: used by the analyzer for types and by the executor for evaluation, so a stored plan
 * is compiled again, identically, after a restart.
 *
 * Null semantics follow ksqlDB: arithmetic and functions propagate NULL; comparisons with a NULL
 * operand are false (not NULL); CASE evaluates lazily; a failing function call or cast yields NULL
 * and a processing-log entry.
 */
import { statementError, unsupported } from '../errors.ts';
import type { FunctionContext, FunctionRegistry } from '../functions/registry.ts';
import type { CompareOp, Expr, Loc } from '../parser/ast.ts';
import { formatExpression } from '../parser/format.ts';
import { Decimal } from '../schema/decimal.ts';
import { formatType, T, typesEqual, type ExprType, type SqlDecimal, type SqlType } from '../schema/types.ts';
import { compareValues, valuesEqual, type Struct } from '../schema/values.ts';
import { castConverter, implicitConverter, type Converter } from './coerce.ts';

export interface EvalContext {
  readonly functions: FunctionContext;
  /** Called when evaluating part of an expression failed; the part evaluates to NULL. */
  onError(error: unknown, expression: string): void;
}

export type Evaluator = (row: readonly unknown[], ctx: EvalContext) => unknown;

export interface Compiled {
  readonly type: ExprType;
  readonly evaluate: Evaluator;
}

export interface ColumnBinding {
  readonly type: SqlType;
  readonly index: number;
}

/** Where column references resolve. */
export interface Scope {
  column(source: string | undefined, name: string, loc: Loc | undefined): ColumnBinding;
}

function at(loc: Loc | undefined): string {
  return loc === undefined ? '' : `Line: ${loc.line}, Col: ${loc.column}: `;
}

const NUMERIC_ORDER = ['INTEGER', 'BIGINT', 'DECIMAL', 'DOUBLE'];

/** The common type of two numeric types under ksqlDB's widening rules. */
function widerNumeric(a: ExprType, b: ExprType): SqlType {
  const ia = NUMERIC_ORDER.indexOf(a.type);
  const ib = NUMERIC_ORDER.indexOf(b.type);
  const wide = ia >= ib ? a : b;
  if (wide.type === 'DECIMAL') {
    const da = asDecimal(a);
    const db = asDecimal(b);
    const scale = Math.max(da.scale, db.scale);
    const intDigits = Math.max(da.precision - da.scale, db.precision - db.scale);
    return T.decimal(intDigits + scale, scale);
  }
  return wide as SqlType;
}

function asDecimal(t: ExprType): SqlDecimal {
  if (t.type === 'DECIMAL') return t;
  if (t.type === 'INTEGER') return T.decimal(10, 0);
  if (t.type === 'BIGINT') return T.decimal(19, 0);
  return T.decimal(38, 16);
}

function isNumericType(t: ExprType): boolean {
  return NUMERIC_ORDER.includes(t.type);
}

/** The common type for CASE branches, COALESCE arguments, IN lists and constructors. */
export function commonType(types: readonly ExprType[]): ExprType | undefined {
  let result: ExprType = T.NULL;
  for (const t of types) {
    if (t.type === 'NULL') continue;
    if (result.type === 'NULL') {
      result = t;
      continue;
    }
    if (typesEqual(result, t)) continue;
    if (isNumericType(result) && isNumericType(t)) {
      result = widerNumeric(result, t);
      continue;
    }
    return undefined;
  }
  return result;
}

function wrapInt(n: number): number {
  return n | 0;
}

function wrapLong(n: bigint): bigint {
  return BigInt.asIntN(64, n);
}

export class ExpressionCompiler {
  private readonly scope: Scope;
  private readonly registry: FunctionRegistry;

  constructor(scope: Scope, registry: FunctionRegistry) {
    this.scope = scope;
    this.registry = registry;
  }

  compile(expr: Expr): Compiled {
    switch (expr.kind) {
      case 'Literal':
        return this.literal(expr);
      case 'Column': {
        const b = this.scope.column(expr.source, expr.name, expr.loc);
        const i = b.index;
        return { type: b.type, evaluate: (row) => row[i] ?? null };
      }
      case 'Deref':
        return this.deref(expr.base, expr.field, expr.loc);
      case 'Subscript':
        return this.subscript(expr);
      case 'Negate':
        return this.negate(expr.operand);
      case 'Arithmetic':
        return this.arithmetic(expr.op, expr.left, expr.right, expr);
      case 'Compare':
        return this.comparison(expr.op, expr.left, expr.right, expr);
      case 'Logical':
        return this.logical(expr.op, expr.left, expr.right);
      case 'Not': {
        const o = this.boolean(expr.operand, 'NOT');
        return {
          type: T.BOOLEAN,
          evaluate: (row, ctx) => {
            const v = o.evaluate(row, ctx);
            return v === null ? null : !(v as boolean);
          },
        };
      }
      case 'IsNull': {
        const o = this.compile(expr.operand);
        const negated = expr.negated;
        return { type: T.BOOLEAN, evaluate: (row, ctx) => (o.evaluate(row, ctx) === null) !== negated };
      }
      case 'Between':
        return this.between(expr);
      case 'In':
        return this.inList(expr);
      case 'Like':
        return this.like(expr);
      case 'Case':
        return this.caseExpr(expr);
      case 'Cast': {
        const o = this.compile(expr.operand);
        const convert = castConverter(o.type, expr.type);
        return { type: expr.type, evaluate: this.guarded(o.evaluate, convert, expr) };
      }
      case 'Call':
        return this.call(expr);
      case 'ArrayCtor':
        return this.arrayCtor(expr);
      case 'MapCtor':
        return this.mapCtor(expr);
      case 'StructCtor':
        return this.structCtor(expr);
      case 'Lambda':
      case 'LambdaVar':
        throw unsupported(`lambda functions (${formatExpression(expr)})`);
      case 'TimeUnit':
        return { type: T.STRING, evaluate: () => expr.unit };
    }
  }

  /** Compiles a predicate: must be BOOLEAN. */
  predicate(expr: Expr, clause: string): Compiled {
    const c = this.compile(expr);
    if (c.type.type !== 'BOOLEAN' && c.type.type !== 'NULL') {
      throw statementError(
        `Type error in ${clause} expression: Should evaluate to boolean but is ${formatExpression(expr)} (${formatType(c.type)}) instead.`,
      );
    }
    return c;
  }

  /** Runs `convert` on a non-null value, turning a failure into NULL and a log entry. */
  private guarded(evaluate: Evaluator, convert: Converter, expr: Expr): Evaluator {
    return (row, ctx) => {
      const v = evaluate(row, ctx);
      if (v === null) return null;
      try {
        return convert(v);
      } catch (error) {
        ctx.onError(error, formatExpression(expr));
        return null;
      }
    };
  }

  private literal(expr: Extract<Expr, { kind: 'Literal' }>): Compiled {
    switch (expr.type) {
      case 'NULL':
        return { type: T.NULL, evaluate: () => null };
      case 'BOOLEAN': {
        const v = expr.value === true;
        return { type: T.BOOLEAN, evaluate: () => v };
      }
      case 'STRING': {
        const v = String(expr.value);
        return { type: T.STRING, evaluate: () => v };
      }
      case 'INTEGER': {
        const v = Number(expr.value);
        return { type: T.INTEGER, evaluate: () => v };
      }
      case 'BIGINT': {
        const v = BigInt(String(expr.value));
        return { type: T.BIGINT, evaluate: () => v };
      }
      case 'DOUBLE': {
        const v = Number(expr.value);
        return { type: T.DOUBLE, evaluate: () => v };
      }
      case 'DECIMAL': {
        const v = Decimal.parse(String(expr.value));
        const scale = Math.max(v.scale, 0);
        const d = v.setScale(scale);
        const precision = Math.max(d.precision(), scale);
        return { type: T.decimal(precision, scale), evaluate: () => d };
      }
    }
  }

  private deref(baseExpr: Expr, field: string, loc: Loc | undefined): Compiled {
    const base = this.compile(baseExpr);
    if (base.type.type !== 'STRUCT') {
      throw statementError(
        `${at(loc)}Expected STRUCT type, got ${formatType(base.type)} in ${formatExpression(baseExpr)}->${field}`,
      );
    }
    const f = base.type.fields.find((x) => x.name === field);
    if (f === undefined) {
      throw statementError(`${at(loc)}Could not find field '${field}' in '${formatExpression(baseExpr)}'.`);
    }
    const name = f.name;
    return {
      type: f.type,
      evaluate: (row, ctx) => {
        const s = base.evaluate(row, ctx) as Struct | null;
        if (s === null) return null;
        return s[name] ?? null;
      },
    };
  }

  private subscript(expr: Extract<Expr, { kind: 'Subscript' }>): Compiled {
    const base = this.compile(expr.base);
    const index = this.compile(expr.index);
    if (base.type.type === 'ARRAY') {
      if (index.type.type !== 'INTEGER' && index.type.type !== 'BIGINT' && index.type.type !== 'NULL') {
        throw statementError(`Array index must be INTEGER, got ${formatType(index.type)}`);
      }
      return {
        type: base.type.item,
        evaluate: (row, ctx) => {
          const arr = base.evaluate(row, ctx) as unknown[] | null;
          const i = index.evaluate(row, ctx);
          if (arr === null || i === null) return null;
          const n = Number(i);
          // 1-based; negative counts from the end; out of range is NULL.
          const k = n > 0 ? n - 1 : n < 0 ? arr.length + n : -1;
          return k >= 0 && k < arr.length ? (arr[k] ?? null) : null;
        },
      };
    }
    if (base.type.type === 'MAP') {
      const convert = implicitConverter(index.type, base.type.key);
      return {
        type: base.type.value,
        evaluate: (row, ctx) => {
          const m = base.evaluate(row, ctx) as Map<unknown, unknown> | null;
          const k = index.evaluate(row, ctx);
          if (m === null || k === null) return null;
          const key = convert(k);
          if (m.has(key)) return m.get(key) ?? null;
          for (const [mk, mv] of m) if (valuesEqual(mk, key)) return mv;
          return null;
        },
      };
    }
    throw statementError(`${formatExpression(expr.base)} is not an ARRAY or MAP: subscript not supported`);
  }

  private negate(operandExpr: Expr): Compiled {
    const o = this.compile(operandExpr);
    switch (o.type.type) {
      case 'INTEGER':
        return { type: o.type, evaluate: (r, c) => nullOr(o.evaluate(r, c), (v) => wrapInt(-(v as number))) };
      case 'BIGINT':
        return {
          type: o.type,
          evaluate: (r, c) => nullOr(o.evaluate(r, c), (v) => wrapLong(-(v as bigint))),
        };
      case 'DOUBLE':
        return { type: o.type, evaluate: (r, c) => nullOr(o.evaluate(r, c), (v) => -(v as number)) };
      case 'DECIMAL':
        return { type: o.type, evaluate: (r, c) => nullOr(o.evaluate(r, c), (v) => (v as Decimal).negate()) };
      default:
        throw statementError(`Unsupported arithmetic types. -${formatType(o.type)}`);
    }
  }

  private arithmetic(op: '+' | '-' | '*' | '/' | '%', le: Expr, re: Expr, expr: Expr): Compiled {
    const l = this.compile(le);
    const r = this.compile(re);
    const lt = l.type;
    const rt = r.type;
    if (op === '+' && lt.type === 'STRING' && rt.type === 'STRING') {
      return {
        type: T.STRING,
        evaluate: (row, ctx) => {
          const a = l.evaluate(row, ctx);
          const b = r.evaluate(row, ctx);
          return a === null || b === null ? null : (a as string) + (b as string);
        },
      };
    }
    const bothNumeric =
      (isNumericType(lt) || lt.type === 'NULL') && (isNumericType(rt) || rt.type === 'NULL');
    if (!bothNumeric || (lt.type === 'NULL' && rt.type === 'NULL')) {
      throw statementError(
        `Error processing expression: ${formatExpression(expr)}. Unsupported arithmetic types. ${formatType(lt)} ${formatType(rt)}`,
      );
    }
    const operandType = lt.type === 'NULL' ? rt : rt.type === 'NULL' ? lt : widerNumeric(lt, rt);
    let resultType: SqlType = operandType as SqlType;
    if (operandType.type === 'DECIMAL') {
      const a = asDecimal(lt.type === 'NULL' ? rt : lt);
      const b = asDecimal(rt.type === 'NULL' ? lt : rt);
      resultType = decimalResult(op, a, b);
    }
    const lc = implicitConverter(lt, operandType as SqlType);
    const rc = implicitConverter(rt, operandType as SqlType);
    const apply = arithmeticOp(op, resultType);
    const text = formatExpression(expr);
    return {
      type: resultType,
      evaluate: (row, ctx) => {
        const a = l.evaluate(row, ctx);
        if (a === null) return null;
        const b = r.evaluate(row, ctx);
        if (b === null) return null;
        try {
          return apply(lc(a), rc(b));
        } catch (error) {
          ctx.onError(error, text);
          return null;
        }
      },
    };
  }

  private comparison(op: CompareOp, le: Expr, re: Expr, expr: Expr): Compiled {
    const l = this.compile(le);
    const r = this.compile(re);
    if (l.type.type === 'NULL' && r.type.type === 'NULL' && !op.includes('DISTINCT')) {
      throw statementError(`Comparison with NULL not supported: NULL ${op} NULL`);
    }
    const cmp = comparableType(l.type, r.type);
    if (cmp === undefined) {
      throw statementError(
        `Cannot compare ${formatExpression(le)} (${formatType(l.type)}) to ${formatExpression(re)} (${formatType(r.type)}) with ${op}.`,
      );
    }
    const complex =
      cmp.type === 'ARRAY' || cmp.type === 'MAP' || cmp.type === 'STRUCT' || cmp.type === 'BOOLEAN';
    if (complex && op !== '=' && op !== '<>' && !op.includes('DISTINCT')) {
      throw statementError(`Cannot compare ${formatType(l.type)} to ${formatType(r.type)} with ${op}.`);
    }
    const lc = implicitConverter(l.type, cmp);
    const rc = implicitConverter(r.type, cmp);
    const test = compareTest(op);
    const text = formatExpression(expr);
    if (op === 'IS DISTINCT FROM' || op === 'IS NOT DISTINCT FROM') {
      const distinct = op === 'IS DISTINCT FROM';
      return {
        type: T.BOOLEAN,
        evaluate: (row, ctx) => {
          const a = l.evaluate(row, ctx);
          const b = r.evaluate(row, ctx);
          if (a === null || b === null) return ((a === null) !== (b === null)) === distinct;
          return valuesEqual(lc(a), rc(b)) !== distinct;
        },
      };
    }
    return {
      type: T.BOOLEAN,
      evaluate: (row, ctx) => {
        const a = l.evaluate(row, ctx);
        if (a === null) return false;
        const b = r.evaluate(row, ctx);
        if (b === null) return false;
        try {
          const x = lc(a);
          const y = rc(b);
          if (complex) return valuesEqual(x, y) === (op === '=');
          return test(compareValues(x, y));
        } catch (error) {
          ctx.onError(error, text);
          return false;
        }
      },
    };
  }

  private boolean(expr: Expr, what: string): Compiled {
    const c = this.compile(expr);
    if (c.type.type !== 'BOOLEAN' && c.type.type !== 'NULL') {
      throw statementError(
        `${what} expects a BOOLEAN operand: ${formatExpression(expr)} is ${formatType(c.type)}`,
      );
    }
    return c;
  }

  private logical(op: 'AND' | 'OR', le: Expr, re: Expr): Compiled {
    const l = this.boolean(le, op);
    const r = this.boolean(re, op);
    if (op === 'AND') {
      return {
        type: T.BOOLEAN,
        evaluate: (row, ctx) => {
          const a = l.evaluate(row, ctx);
          if (a === false) return false;
          const b = r.evaluate(row, ctx);
          if (b === false) return false;
          return a === null || b === null ? null : true;
        },
      };
    }
    return {
      type: T.BOOLEAN,
      evaluate: (row, ctx) => {
        const a = l.evaluate(row, ctx);
        if (a === true) return true;
        const b = r.evaluate(row, ctx);
        if (b === true) return true;
        return a === null || b === null ? null : false;
      },
    };
  }

  private between(expr: Extract<Expr, { kind: 'Between' }>): Compiled {
    const v = this.compile(expr.value);
    const lo = this.compile(expr.low);
    const hi = this.compile(expr.high);
    const t = comparableType(v.type, lo.type);
    const t2 = t === undefined ? undefined : comparableType(t, hi.type);
    if (t2 === undefined) {
      throw statementError(`Invalid BETWEEN: ${formatExpression(expr)}: operand types do not match`);
    }
    const vc = implicitConverter(v.type, t2);
    const lc = implicitConverter(lo.type, t2);
    const hc = implicitConverter(hi.type, t2);
    const negated = expr.negated;
    const text = formatExpression(expr);
    return {
      type: T.BOOLEAN,
      evaluate: (row, ctx) => {
        const a = v.evaluate(row, ctx);
        const b = lo.evaluate(row, ctx);
        const c = hi.evaluate(row, ctx);
        if (a === null || b === null || c === null) return false;
        try {
          const x = vc(a);
          const inside = compareValues(x, lc(b)) >= 0 && compareValues(x, hc(c)) <= 0;
          return inside !== negated;
        } catch (error) {
          ctx.onError(error, text);
          return false;
        }
      },
    };
  }

  private inList(expr: Extract<Expr, { kind: 'In' }>): Compiled {
    const v = this.compile(expr.value);
    const items = expr.list.map((e) => this.compile(e));
    const t = commonType([v.type, ...items.map((i) => i.type)]);
    if (t === undefined)
      throw statementError(`Invalid IN expression: ${formatExpression(expr)}: types do not match`);
    const target: SqlType = t.type === 'NULL' ? T.STRING : t;
    const vc = implicitConverter(v.type, target);
    const ics = items.map((i) => implicitConverter(i.type, target));
    const negated = expr.negated;
    return {
      type: T.BOOLEAN,
      evaluate: (row, ctx) => {
        const a = v.evaluate(row, ctx);
        if (a === null) return false;
        const x = vc(a);
        let found = false;
        for (let k = 0; k < items.length && !found; k++) {
          const b = (items[k] as Compiled).evaluate(row, ctx);
          if (b !== null && valuesEqual(x, (ics[k] as Converter)(b))) found = true;
        }
        return found !== negated;
      },
    };
  }

  private like(expr: Extract<Expr, { kind: 'Like' }>): Compiled {
    const v = this.compile(expr.value);
    const p = this.compile(expr.pattern);
    if (
      (v.type.type !== 'STRING' && v.type.type !== 'NULL') ||
      (p.type.type !== 'STRING' && p.type.type !== 'NULL')
    ) {
      throw statementError(`LIKE requires STRING operands: ${formatExpression(expr)}`);
    }
    const escape = expr.escape;
    const negated = expr.negated;
    const cache = new Map<string, RegExp>();
    return {
      type: T.BOOLEAN,
      evaluate: (row, ctx) => {
        const a = v.evaluate(row, ctx) as string | null;
        const b = p.evaluate(row, ctx) as string | null;
        if (a === null || b === null) return false;
        let re = cache.get(b);
        if (re === undefined) {
          re = likeRegex(b, escape);
          cache.set(b, re);
        }
        return re.test(a) !== negated;
      },
    };
  }

  private caseExpr(expr: Extract<Expr, { kind: 'Case' }>): Compiled {
    const operand = expr.operand === undefined ? undefined : this.compile(expr.operand);
    const whens = expr.whens.map((w) => ({
      when: operand === undefined ? this.predicate(w.when, 'WHEN') : this.compile(w.when),
      then: this.compile(w.then),
    }));
    const elseC = expr.else === undefined ? undefined : this.compile(expr.else);
    const types = [...whens.map((w) => w.then.type), ...(elseC === undefined ? [] : [elseC.type])];
    const t = commonType(types);
    if (t === undefined) {
      throw statementError(
        `Invalid Case expression. Type for all 'THEN' clauses should be the same.${types
          .map((x) => ` ${formatType(x)}`)
          .join(',')}`,
      );
    }
    if (t.type === 'NULL') throw statementError('Invalid Case expression. All case branches have NULL type');
    const result = t;
    const thens = whens.map((w) => implicitConverter(w.then.type, result));
    const elseConv = elseC === undefined ? undefined : implicitConverter(elseC.type, result);
    const operandConv =
      operand === undefined
        ? undefined
        : whens.map((w) => {
            const ct = comparableType(operand.type, w.when.type);
            if (ct === undefined)
              throw statementError(`Invalid Case expression: cannot compare operand with WHEN value`);
            return { a: implicitConverter(operand.type, ct), b: implicitConverter(w.when.type, ct) };
          });
    return {
      type: result,
      evaluate: (row, ctx) => {
        const subject = operand === undefined ? undefined : operand.evaluate(row, ctx);
        for (let k = 0; k < whens.length; k++) {
          const w = whens[k] as { when: Compiled; then: Compiled };
          const cond = w.when.evaluate(row, ctx);
          let matched: boolean;
          if (operandConv === undefined) matched = cond === true;
          else {
            const conv = operandConv[k] as { a: Converter; b: Converter };
            matched = subject !== null && cond !== null && valuesEqual(conv.a(subject), conv.b(cond));
          }
          if (matched) {
            const v = w.then.evaluate(row, ctx);
            return v === null ? null : (thens[k] as Converter)(v);
          }
        }
        if (elseC === undefined || elseConv === undefined) return null;
        const v = elseC.evaluate(row, ctx);
        return v === null ? null : elseConv(v);
      },
    };
  }

  private call(expr: Extract<Expr, { kind: 'Call' }>): Compiled {
    if (expr.name === '$STRUCT_ALL') {
      throw statementError(
        'Selecting all fields of a struct (->*) is not supported by the local ksql engine yet',
      );
    }
    const args = expr.args.map((a) => this.compile(a));
    const resolved = this.registry.resolve(
      expr.name,
      args.map((a) => a.type),
    );
    const convs = args.map((a, i) => {
      const p = resolved.paramTypes[i];
      return p === undefined ? undefined : implicitConverter(a.type, p);
    });
    const { invoke, nullPropagating } = resolved;
    const text = formatExpression(expr);
    const n = args.length;
    return {
      type: resolved.returnType,
      evaluate: (row, ctx) => {
        const values = new Array<unknown>(n);
        for (let k = 0; k < n; k++) {
          let v = (args[k] as Compiled).evaluate(row, ctx);
          if (v === null) {
            if (nullPropagating) return null;
          } else {
            const c = convs[k];
            if (c !== undefined) {
              try {
                v = c(v);
              } catch (error) {
                ctx.onError(error, text);
                return null;
              }
            }
          }
          values[k] = v;
        }
        try {
          const out = invoke(values, ctx.functions);
          return out === undefined ? null : out;
        } catch (error) {
          ctx.onError(error, text);
          return null;
        }
      },
    };
  }

  private arrayCtor(expr: Extract<Expr, { kind: 'ArrayCtor' }>): Compiled {
    const items = expr.items.map((i) => this.compile(i));
    const t = commonType(items.map((i) => i.type));
    if (t === undefined) {
      throw statementError(
        `invalid input syntax for type ${formatType(items[0]?.type ?? T.NULL)}: ${formatExpression(expr)}`,
      );
    }
    if (t.type === 'NULL' && items.length > 0) {
      throw statementError(
        'Cannot construct an array with all NULL elements (see https://github.com/confluentinc/ksql/issues/4239). As a workaround, you may cast a NULL value to the desired type.',
      );
    }
    const item = t.type === 'NULL' ? T.STRING : t;
    const convs = items.map((i) => implicitConverter(i.type, item));
    return {
      type: T.array(item),
      evaluate: (row, ctx) =>
        items.map((i, k) => {
          const v = i.evaluate(row, ctx);
          return v === null ? null : (convs[k] as Converter)(v);
        }),
    };
  }

  private mapCtor(expr: Extract<Expr, { kind: 'MapCtor' }>): Compiled {
    const keys = expr.entries.map((e) => this.compile(e.key));
    const values = expr.entries.map((e) => this.compile(e.value));
    const kt = commonType(keys.map((k) => k.type));
    const vt = commonType(values.map((v) => v.type));
    if (kt === undefined || vt === undefined)
      throw statementError(`Invalid map constructor: ${formatExpression(expr)}`);
    if (vt.type === 'NULL' && values.length > 0) {
      throw statementError(
        'Cannot construct a map with all NULL values (see https://github.com/confluentinc/ksql/issues/4239). As a workaround, you may cast a NULL value to the desired type.',
      );
    }
    const keyType = kt.type === 'NULL' ? T.STRING : kt;
    const valueType = vt.type === 'NULL' ? T.STRING : vt;
    const kc = keys.map((k) => implicitConverter(k.type, keyType));
    const vc = values.map((v) => implicitConverter(v.type, valueType));
    return {
      type: T.map(keyType, valueType),
      evaluate: (row, ctx) => {
        const m = new Map<unknown, unknown>();
        keys.forEach((k, i) => {
          const kv = k.evaluate(row, ctx);
          const vv = (values[i] as Compiled).evaluate(row, ctx);
          m.set(kv === null ? null : (kc[i] as Converter)(kv), vv === null ? null : (vc[i] as Converter)(vv));
        });
        return m;
      },
    };
  }

  private structCtor(expr: Extract<Expr, { kind: 'StructCtor' }>): Compiled {
    const names = new Set<string>();
    for (const f of expr.fields) {
      if (names.has(f.name)) throw statementError(`Duplicate field names found in STRUCT: '${f.name}'`);
      names.add(f.name);
    }
    const fields = expr.fields.map((f) => ({ name: f.name, compiled: this.compile(f.value) }));
    for (const f of fields) {
      if (f.compiled.type.type === 'NULL') {
        throw statementError(
          `Can't infer a type of null. Please explicitly cast it to a required type, e.g. CAST(null AS VARCHAR).`,
        );
      }
    }
    return {
      type: T.struct(fields.map((f) => ({ name: f.name, type: f.compiled.type as SqlType }))),
      evaluate: (row, ctx) => {
        const s: Struct = {};
        for (const f of fields) s[f.name] = f.compiled.evaluate(row, ctx);
        return s;
      },
    };
  }
}

function nullOr(v: unknown, f: (v: unknown) => unknown): unknown {
  return v === null ? null : f(v);
}

function decimalResult(op: string, a: SqlDecimal, b: SqlDecimal): SqlDecimal {
  switch (op) {
    case '+':
    case '-': {
      const scale = Math.max(a.scale, b.scale);
      return T.decimal(scale + Math.max(a.precision - a.scale, b.precision - b.scale) + 1, scale);
    }
    case '*':
      return T.decimal(a.precision + b.precision + 1, a.scale + b.scale);
    case '/': {
      const scale = Math.max(6, a.scale + b.precision + 1);
      return T.decimal(a.precision - a.scale + b.scale + scale, scale);
    }
    default: {
      const scale = Math.max(a.scale, b.scale);
      return T.decimal(Math.min(a.precision - a.scale, b.precision - b.scale) + scale, scale);
    }
  }
}

function arithmeticOp(op: string, t: SqlType): (a: unknown, b: unknown) => unknown {
  switch (t.type) {
    case 'INTEGER':
      switch (op) {
        case '+':
          return (a, b) => wrapInt((a as number) + (b as number));
        case '-':
          return (a, b) => wrapInt((a as number) - (b as number));
        case '*':
          return (a, b) => Math.imul(a as number, b as number);
        case '/':
          return (a, b) => {
            if (b === 0) throw new RangeError('/ by zero');
            return wrapInt(Math.trunc((a as number) / (b as number)));
          };
        default:
          return (a, b) => {
            if (b === 0) throw new RangeError('/ by zero');
            return (a as number) % (b as number);
          };
      }
    case 'BIGINT':
      switch (op) {
        case '+':
          return (a, b) => wrapLong((a as bigint) + (b as bigint));
        case '-':
          return (a, b) => wrapLong((a as bigint) - (b as bigint));
        case '*':
          return (a, b) => wrapLong((a as bigint) * (b as bigint));
        case '/':
          return (a, b) => wrapLong((a as bigint) / (b as bigint));
        default:
          return (a, b) => (a as bigint) % (b as bigint);
      }
    case 'DOUBLE':
      switch (op) {
        case '+':
          return (a, b) => (a as number) + (b as number);
        case '-':
          return (a, b) => (a as number) - (b as number);
        case '*':
          return (a, b) => (a as number) * (b as number);
        case '/':
          return (a, b) => (a as number) / (b as number);
        default:
          return (a, b) => (a as number) % (b as number);
      }
    case 'DECIMAL': {
      const scale = t.scale;
      switch (op) {
        case '+':
          return (a, b) => (a as Decimal).add(b as Decimal).setScale(scale);
        case '-':
          return (a, b) => (a as Decimal).subtract(b as Decimal).setScale(scale);
        case '*':
          return (a, b) => (a as Decimal).multiply(b as Decimal).setScale(scale);
        case '/':
          return (a, b) => (a as Decimal).divide(b as Decimal, scale);
        default:
          return (a, b) => (a as Decimal).remainder(b as Decimal)?.setScale(scale) ?? null;
      }
    }
    default:
      throw statementError(`Unsupported arithmetic type ${formatType(t)}`);
  }
}

/** The type both sides of a comparison are converted to, or undefined when not comparable. */
export function comparableType(a: ExprType, b: ExprType): SqlType | undefined {
  if (a.type === 'NULL' && b.type === 'NULL') return T.STRING;
  if (a.type === 'NULL') return b as SqlType;
  if (b.type === 'NULL') return a;
  if (typesEqual(a, b)) return a;
  if (isNumericType(a) && isNumericType(b)) return widerNumeric(a, b);
  const temporal = ['TIMESTAMP', 'DATE', 'TIME'];
  if (temporal.includes(a.type) && b.type === 'STRING') return a;
  if (temporal.includes(b.type) && a.type === 'STRING') return b;
  if (a.type === 'TIMESTAMP' && b.type === 'DATE') return a;
  if (a.type === 'DATE' && b.type === 'TIMESTAMP') return b;
  if (a.type === 'DECIMAL' && b.type === 'DECIMAL') return widerNumeric(a, b);
  if (a.type === b.type && (a.type === 'ARRAY' || a.type === 'MAP' || a.type === 'STRUCT')) return a;
  return undefined;
}

function compareTest(op: CompareOp): (c: number) => boolean {
  switch (op) {
    case '=':
      return (c) => c === 0;
    case '<>':
      return (c) => c !== 0;
    case '<':
      return (c) => c < 0;
    case '<=':
      return (c) => c <= 0;
    case '>':
      return (c) => c > 0;
    case '>=':
      return (c) => c >= 0;
    default:
      return (c) => c !== 0;
  }
}

/** SQL LIKE → RegExp: `%` any run, `_` one character, optional escape character. */
export function likeRegex(pattern: string, escape?: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] ?? '';
    if (escape !== undefined && c === escape && i + 1 < pattern.length) {
      re += (pattern[i + 1] ?? '').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      i++;
      continue;
    }
    if (c === '%') re += '[\\s\\S]*';
    else if (c === '_') re += '[\\s\\S]';
    else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 'u');
}
