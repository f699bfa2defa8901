/**
 * Aggregate functions (ksqlDB's UDAFs) for GROUP BY: COUNT, SUM, MIN, MAX, AVG, LATEST_BY_OFFSET,
 * EARLIEST_BY_OFFSET, COLLECT_LIST, COLLECT_SET. Each resolves against its argument type to an
 * implementation over plain, state-store-encodable states (see execution/state.ts). Functions that
 * can `undo` may aggregate a table (its updates retract the old row); the others only a stream.
 */
import { statementError } from '../errors.ts';
import { Decimal, decimalValue } from '../schema/decimal.ts';
import { formatType, T, type ExprType, type SqlType } from '../schema/types.ts';
import { compareValues, valuesEqual } from '../schema/values.ts';

export interface AggregateFunction {
  readonly name: string;
  readonly returnType: SqlType;
  readonly init: () => unknown;
  /** Adds a value (NULL included: each function decides what a NULL means). */
  readonly add: (state: unknown, value: unknown) => unknown;
  /** Removes a value added before; only for functions usable on tables. */
  readonly undo?: (state: unknown, value: unknown) => unknown;
  readonly result: (state: unknown) => unknown;
}

/** The settings aggregate functions read (ksql.functions.*). */
export type AggregateConfig = Readonly<Record<string, string>>;

interface AggregateDef {
  readonly name: string;
  /** Whether COUNT(*) / COUNT() (no column argument) is allowed. */
  readonly starAllowed?: boolean;
  /** Whether the function supports tables (undo). */
  readonly tableSupported: boolean;
  resolve(
    arg: ExprType | undefined,
    literals: readonly unknown[],
    config: AggregateConfig,
  ): AggregateFunction;
}

function noSuchOverload(name: string, arg: ExprType | undefined, literals: readonly unknown[]): never {
  const types = [
    arg === undefined ? undefined : arg.type === 'NULL' ? 'null' : formatType(arg),
    ...literals.map(literalTypeName),
  ].filter((t) => t !== undefined);
  throw statementError(`Function '${name}' does not accept parameters (${types.join(', ')}).`);
}

function literalTypeName(v: unknown): string {
  if (typeof v === 'boolean') return 'BOOLEAN';
  if (typeof v === 'number') return 'INTEGER';
  if (typeof v === 'bigint') return 'BIGINT';
  if (typeof v === 'string') return 'STRING';
  return 'null';
}

function wrapInt(n: number): number {
  return n | 0;
}

const count: AggregateDef = {
  name: 'COUNT',
  starAllowed: true,
  tableSupported: true,
  resolve: (arg, literals) => {
    if (literals.length > 0) noSuchOverload('COUNT', arg, literals);
    // COUNT(*) counts rows; COUNT(col) counts non-null values.
    const counts = (v: unknown): boolean => arg === undefined || (v !== null && v !== undefined);
    return {
      name: 'COUNT',
      returnType: T.BIGINT,
      init: () => 0n,
      add: (s, v) => (counts(v) ? (s as bigint) + 1n : s),
      undo: (s, v) => (counts(v) ? (s as bigint) - 1n : s),
      result: (s) => s,
    };
  },
};

const sum: AggregateDef = {
  name: 'SUM',
  tableSupported: true,
  resolve: (arg, literals) => {
    if (arg === undefined || literals.length > 0) noSuchOverload('SUM', arg, literals);
    switch (arg.type) {
      case 'INTEGER':
        return numeric(
          'SUM',
          T.INTEGER,
          0,
          (a, b) => wrapInt((a as number) + (b as number)),
          (a, b) => wrapInt((a as number) - (b as number)),
        );
      case 'BIGINT':
        return numeric(
          'SUM',
          T.BIGINT,
          0n,
          (a, b) => BigInt.asIntN(64, (a as bigint) + (b as bigint)),
          (a, b) => BigInt.asIntN(64, (a as bigint) - (b as bigint)),
        );
      case 'DOUBLE':
        return numeric(
          'SUM',
          T.DOUBLE,
          0,
          (a, b) => (a as number) + (b as number),
          (a, b) => (a as number) - (b as number),
        );
      case 'DECIMAL': {
        const t = arg;
        const digits = t.precision - t.scale;
        const limit = new Decimal(10n ** BigInt(digits), 0);
        return {
          name: 'SUM',
          returnType: t,
          init: () => new Decimal(0n, t.scale),
          add: (s, v) => {
            if (v === null || v === undefined) return s;
            const r = decimalValue(s).add(decimalValue(v)).setScale(t.scale);
            if (r.abs().compare(limit) >= 0) {
              throw new Error(
                `Numeric field overflow: A field with precision ${t.precision} and scale ${t.scale} must round to an absolute value less than 10^${digits}. Got ${r.toPlainString()}`,
              );
            }
            return r;
          },
          undo: (s, v) =>
            v === null || v === undefined ? s : decimalValue(s).subtract(decimalValue(v)).setScale(t.scale),
          result: (s) => s,
        };
      }
      default:
        return noSuchOverload('SUM', arg, literals);
    }
  },
};

function numeric(
  name: string,
  returnType: SqlType,
  zero: unknown,
  plus: (a: unknown, b: unknown) => unknown,
  minus: (a: unknown, b: unknown) => unknown,
): AggregateFunction {
  return {
    name,
    returnType,
    init: () => zero,
    add: (s, v) => (v === null || v === undefined ? s : plus(s, v)),
    undo: (s, v) => (v === null || v === undefined ? s : minus(s, v)),
    result: (s) => s,
  };
}

const COMPARABLE = new Set([
  'INTEGER',
  'BIGINT',
  'DOUBLE',
  'DECIMAL',
  'STRING',
  'TIMESTAMP',
  'DATE',
  'TIME',
  'BYTES',
]);

function extreme(name: 'MIN' | 'MAX'): AggregateDef {
  return {
    name,
    tableSupported: false,
    resolve: (arg, literals) => {
      if (arg === undefined || literals.length > 0 || !COMPARABLE.has(arg.type)) {
        noSuchOverload(name, arg, literals);
      }
      const better = (v: unknown, cur: unknown): boolean =>
        name === 'MIN' ? compareValues(v, cur) < 0 : compareValues(v, cur) > 0;
      return {
        name,
        returnType: arg as SqlType,
        init: () => null,
        add: (s, v) => (v === null || v === undefined ? s : s === null || better(v, s) ? v : s),
        result: (s) => s,
      };
    },
  };
}

const avg: AggregateDef = {
  name: 'AVG',
  tableSupported: true,
  resolve: (arg, literals) => {
    if (arg === undefined || literals.length > 0) noSuchOverload('AVG', arg, literals);
    const toNumber = (v: unknown): number =>
      typeof v === 'bigint' ? Number(v) : v instanceof Decimal ? v.toNumber() : (v as number);
    if (!['INTEGER', 'BIGINT', 'DOUBLE', 'DECIMAL'].includes(arg.type)) noSuchOverload('AVG', arg, literals);
    // State: [sum, count]; sums kept in the argument's own arithmetic (int wraps, like Java).
    const plus = (a: unknown, b: unknown, sign: 1 | -1): unknown => {
      switch (arg.type) {
        case 'INTEGER':
          return wrapInt((a as number) + sign * (b as number));
        case 'BIGINT':
          return BigInt.asIntN(64, (a as bigint) + BigInt(sign) * (b as bigint));
        case 'DECIMAL':
          return sign === 1
            ? decimalValue(a).add(decimalValue(b))
            : decimalValue(a).subtract(decimalValue(b));
        default:
          return (a as number) + sign * (b as number);
      }
    };
    const zero = arg.type === 'BIGINT' ? 0n : arg.type === 'DECIMAL' ? new Decimal(0n, 0) : 0;
    return {
      name: 'AVG',
      returnType: T.DOUBLE,
      init: () => [zero, 0n],
      add: (s, v) => {
        if (v === null || v === undefined) return s;
        const [total, n] = s as [unknown, bigint];
        return [plus(total, v, 1), n + 1n];
      },
      undo: (s, v) => {
        if (v === null || v === undefined) return s;
        const [total, n] = s as [unknown, bigint];
        return [plus(total, v, -1), n - 1n];
      },
      result: (s) => {
        const [total, n] = s as [unknown, bigint];
        return n === 0n ? 0 : toNumber(total) / Number(n);
      },
    };
  },
};

/** LATEST_BY_OFFSET(col [, n] [, ignoreNulls]) and EARLIEST_BY_OFFSET likewise. */
function byOffset(name: 'LATEST_BY_OFFSET' | 'EARLIEST_BY_OFFSET'): AggregateDef {
  return {
    name,
    tableSupported: false,
    resolve: (arg, literals) => {
      if (arg === undefined || arg.type === 'NULL') noSuchOverload(name, arg, literals);
      let n: number | undefined;
      let ignoreNulls = true;
      const [first, second] = literals;
      if (literals.length === 1 && typeof first === 'boolean') ignoreNulls = first;
      else if (literals.length === 1 && typeof first === 'number') n = first;
      else if (literals.length === 2 && typeof first === 'number' && typeof second === 'boolean') {
        n = first;
        ignoreNulls = second;
      } else if (literals.length > 0) noSuchOverload(name, arg, literals);
      const skip = (v: unknown): boolean => ignoreNulls && (v === null || v === undefined);
      if (n !== undefined) {
        if (n <= 0) {
          throw statementError(
            `${name === 'LATEST_BY_OFFSET' ? 'latestN' : 'earliestN'} must be 1 or greater`,
          );
        }
        const size = n;
        return {
          name,
          returnType: T.array(arg),
          init: () => [],
          add: (s, v) => {
            if (skip(v)) return s;
            const list = s as unknown[];
            if (name === 'EARLIEST_BY_OFFSET') return list.length >= size ? list : [...list, v ?? null];
            const next = [...list, v ?? null];
            return next.length > size ? next.slice(next.length - size) : next;
          },
          result: (s) => s,
        };
      }
      // State: [seen, value]; EARLIEST keeps the first accepted value.
      return {
        name,
        returnType: arg,
        init: () => [false, null],
        add: (s, v) => {
          if (skip(v)) return s;
          if (name === 'EARLIEST_BY_OFFSET' && (s as [boolean, unknown])[0]) return s;
          return [true, v ?? null];
        },
        result: (s) => (s as [boolean, unknown])[1],
      };
    },
  };
}

function collect(name: 'COLLECT_LIST' | 'COLLECT_SET'): AggregateDef {
  const set = name === 'COLLECT_SET';
  return {
    name,
    tableSupported: !set,
    resolve: (arg, literals, config) => {
      if (arg === undefined || arg.type === 'NULL' || literals.length > 0)
        noSuchOverload(name, arg, literals);
      const configured = Number(config[`ksql.functions.${name.toLowerCase()}.limit`] ?? '-1');
      const limit = Number.isInteger(configured) && configured >= 0 ? configured : Number.MAX_SAFE_INTEGER;
      return {
        name,
        returnType: T.array(arg),
        init: () => [],
        add: (s, v) => {
          const list = s as unknown[];
          if (list.length >= limit) return s;
          if (set && list.some((x) => sameValue(x, v ?? null))) return s;
          return [...list, v ?? null];
        },
        ...(set
          ? {}
          : {
              // ksqlDB removes the last occurrence of the value.
              undo: (s: unknown, v: unknown): unknown => {
                const list = s as unknown[];
                for (let i = list.length - 1; i >= 0; i--) {
                  if (sameValue(list[i], v ?? null)) return [...list.slice(0, i), ...list.slice(i + 1)];
                }
                return s;
              },
            }),
        result: (s) => s,
      };
    },
  };
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === null || b === null) return a === b;
  return valuesEqual(a, b);
}

const DEFS: readonly AggregateDef[] = [
  count,
  sum,
  extreme('MIN'),
  extreme('MAX'),
  avg,
  byOffset('LATEST_BY_OFFSET'),
  byOffset('EARLIEST_BY_OFFSET'),
  collect('COLLECT_LIST'),
  collect('COLLECT_SET'),
];

const BY_NAME = new Map(DEFS.map((d) => [d.name, d]));

export function isAggregateFunction(name: string): boolean {
  return BY_NAME.has(name.toUpperCase());
}

/** Whether the function may aggregate a table (it can undo a retracted row). */
export function supportsTables(name: string): boolean {
  return BY_NAME.get(name.toUpperCase())?.tableSupported ?? false;
}

export function resolveAggregate(
  name: string,
  arg: ExprType | undefined,
  literals: readonly unknown[],
  config: AggregateConfig,
): AggregateFunction {
  const def = BY_NAME.get(name.toUpperCase());
  if (def === undefined) throw statementError(`Can't find any functions with the name '${name}'`);
  if (arg === undefined && def.starAllowed !== true) noSuchOverload(def.name, arg, literals);
  const fn = def.resolve(arg, literals, config);
  // ksqlDB keeps aggregates in its internal serde, which writes decimals at their column's scale.
  return { ...fn, result: (s) => fitScale(fn.result(s), fn.returnType) };
}

function fitScale(v: unknown, t: SqlType): unknown {
  if (v === null || v === undefined) return null;
  switch (t.type) {
    case 'DECIMAL':
      return v instanceof Decimal ? v.setScale(t.scale) : v;
    case 'ARRAY':
      return (v as unknown[]).map((x) => fitScale(x, t.item));
    case 'MAP':
      return new Map([...(v as Map<unknown, unknown>)].map(([k, x]) => [k, fitScale(x, t.value)]));
    case 'STRUCT': {
      const o: Record<string, unknown> = {};
      for (const f of t.fields) o[f.name] = fitScale((v as Record<string, unknown>)[f.name] ?? null, f.type);
      return o;
    }
    default:
      return v;
  }
}
