/**
 * The scalar function registry. A function resolves against the argument types found by the analyzer
 * (ksqlDB's UdfIndex: exact match first, then implicit widening INT → BIGINT → DECIMAL → DOUBLE) and
 * yields its return type and an implementation. Pure: no I/O, usable by the analyzer and the executor.
 */
import { statementError } from '../errors.ts';
import { formatType, T, typesEqual, type ExprType, type SqlType } from '../schema/types.ts';

/** What an implementation may need beyond its arguments. */
export interface FunctionContext {
  /** Milliseconds since epoch (injected, so UNIX_TIMESTAMP() is testable). */
  now(): number;
  /** A random UUID (injected for the same reason). */
  uuid(): string;
}

export type Invoke = (args: readonly unknown[], ctx: FunctionContext) => unknown;

export interface ResolvedFunction {
  readonly returnType: SqlType;
  /** Types the arguments are implicitly cast to before `invoke` (undefined: as is). */
  readonly paramTypes: readonly (SqlType | undefined)[];
  readonly invoke: Invoke;
  /** When true (default), any null argument makes the result null without calling `invoke`. */
  readonly nullPropagating: boolean;
}

/**
 * A parameter pattern: a concrete type, or a family. `ANY` matches every type (a generic parameter
 * bound per call), `ARRAY`/`MAP`/`STRUCT` match any element types.
 */
export type Param =
  SqlType | 'ANY' | 'ANY_ARRAY' | 'ANY_MAP' | 'ANY_STRUCT' | 'ANY_DECIMAL' | 'NUMERIC' | 'ANY_PRIMITIVE';

export interface Overload {
  readonly params: readonly Param[];
  /** The last parameter repeats (Java varargs). */
  readonly variadic?: boolean;
  readonly returns: SqlType | ((args: readonly ExprType[]) => SqlType);
  readonly invoke: Invoke;
  /** Default true. Set false for functions that handle null arguments themselves. */
  readonly nullPropagating?: boolean;
}

export interface FunctionDef {
  readonly name: string;
  readonly overloads: readonly Overload[];
  /** Custom resolution for functions whose typing rules do not fit the overload table. */
  readonly resolve?: (args: readonly ExprType[]) => ResolvedFunction | undefined;
}

/** The widening steps ksqlDB allows for an argument: INT → BIGINT → DECIMAL → DOUBLE. */
function widens(from: ExprType, to: SqlType): boolean {
  if (from.type === 'NULL') return true;
  const order = ['INTEGER', 'BIGINT', 'DECIMAL', 'DOUBLE'];
  const a = order.indexOf(from.type);
  const b = order.indexOf(to.type);
  return a >= 0 && b >= 0 && a < b;
}

type MatchLevel = 0 | 1 | 2; // 0 = no, 1 = with widening, 2 = exact

function matchParam(param: Param, arg: ExprType): MatchLevel {
  if (typeof param === 'string') {
    if (arg.type === 'NULL') return 2;
    switch (param) {
      case 'ANY':
        return 2;
      case 'ANY_ARRAY':
        return arg.type === 'ARRAY' ? 2 : 0;
      case 'ANY_MAP':
        return arg.type === 'MAP' ? 2 : 0;
      case 'ANY_STRUCT':
        return arg.type === 'STRUCT' ? 2 : 0;
      case 'ANY_DECIMAL':
        return arg.type === 'DECIMAL' ? 2 : arg.type === 'INTEGER' || arg.type === 'BIGINT' ? 1 : 0;
      case 'NUMERIC':
        return arg.type === 'INTEGER' ||
          arg.type === 'BIGINT' ||
          arg.type === 'DOUBLE' ||
          arg.type === 'DECIMAL'
          ? 2
          : 0;
      case 'ANY_PRIMITIVE':
        return arg.type === 'ARRAY' || arg.type === 'MAP' || arg.type === 'STRUCT' ? 0 : 2;
    }
  }
  if (arg.type === 'NULL') return 2;
  if (param.type === 'DECIMAL' && arg.type === 'DECIMAL') return 2;
  if (param.type === 'ARRAY' && arg.type === 'ARRAY') {
    return arg.item.type === param.item.type ? 2 : 0;
  }
  if (param.type === 'MAP' && arg.type === 'MAP') {
    return arg.key.type === param.key.type && arg.value.type === param.value.type ? 2 : 0;
  }
  if (typesEqual(param, arg)) return 2;
  return widens(arg, param) ? 1 : 0;
}

/** The decimal type an integer widens to (ksqlDB: INT → DECIMAL(10,0), BIGINT → DECIMAL(19,0)). */
export function decimalOf(t: ExprType): SqlType {
  if (t.type === 'INTEGER') return T.decimal(10, 0);
  if (t.type === 'BIGINT') return T.decimal(19, 0);
  return t as SqlType;
}

function paramTypeFor(param: Param, arg: ExprType): SqlType | undefined {
  if (typeof param === 'string') {
    if (param === 'ANY_DECIMAL' && (arg.type === 'INTEGER' || arg.type === 'BIGINT')) return decimalOf(arg);
    return undefined;
  }
  if (arg.type === 'NULL') return param;
  if (param.type === 'DECIMAL') return arg.type === 'DECIMAL' ? undefined : decimalOf(arg);
  return typesEqual(param, arg) ? undefined : param;
}

export function signature(args: readonly ExprType[]): string {
  return `(${args.map((a) => (a.type === 'NULL' ? 'null' : formatType(a))).join(', ')})`;
}

export class FunctionRegistry {
  private readonly functions = new Map<string, FunctionDef>();

  register(def: FunctionDef): this {
    this.functions.set(def.name.toUpperCase(), def);
    return this;
  }

  has(name: string): boolean {
    return this.functions.has(name.toUpperCase());
  }

  names(): string[] {
    return [...this.functions.keys()].sort();
  }

  /** Resolves a call or throws ksqlDB's error for an unknown function or unmatched arguments. */
  resolve(name: string, args: readonly ExprType[]): ResolvedFunction {
    const def = this.functions.get(name.toUpperCase());
    if (def === undefined)
      throw statementError(`Can't find any functions with the name '${name.toUpperCase()}'`);
    if (def.resolve !== undefined) {
      const r = def.resolve(args);
      if (r !== undefined) return r;
    }
    let best: { overload: Overload; level: number } | undefined;
    for (const overload of def.overloads) {
      const level = matchOverload(overload, args);
      if (level > 0 && (best === undefined || level > best.level)) best = { overload, level };
      if (level === 2) break;
    }
    if (best === undefined) {
      throw statementError(
        `Function '${def.name.toUpperCase()}' does not accept parameters ${signature(args)}.`,
      );
    }
    const { overload } = best;
    const paramTypes = args.map((a, i) => {
      const p = paramAt(overload, i);
      return p === undefined ? undefined : paramTypeFor(p, a);
    });
    return {
      returnType: typeof overload.returns === 'function' ? overload.returns(args) : overload.returns,
      paramTypes,
      invoke: overload.invoke,
      nullPropagating: overload.nullPropagating ?? true,
    };
  }
}

function paramAt(overload: Overload, i: number): Param | undefined {
  const n = overload.params.length;
  if (i < n) return overload.params[i];
  return overload.variadic === true ? overload.params[n - 1] : undefined;
}

function matchOverload(overload: Overload, args: readonly ExprType[]): number {
  const n = overload.params.length;
  if (overload.variadic === true ? args.length < n - 1 : args.length !== n) return 0;
  let level = 2;
  for (let i = 0; i < args.length; i++) {
    const p = paramAt(overload, i);
    const a = args[i];
    if (p === undefined || a === undefined) return 0;
    const m = matchParam(p, a);
    if (m === 0) return 0;
    if (m < level) level = m;
  }
  return level;
}
