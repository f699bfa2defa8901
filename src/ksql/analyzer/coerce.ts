/**
 * Conversions between SQL types: implicit widening (INT → BIGINT → DECIMAL → DOUBLE) and CAST
 * (ksqlDB's CastEvaluator). A converter throws on a value it cannot convert; callers turn that into
 * NULL plus a processing-log entry, as ksqlDB does.
 */
import { statementError } from '../errors.ts';
import { Decimal } from '../schema/decimal.ts';
import { formatType, typesEqual, type ExprType, type SqlType } from '../schema/types.ts';
import {
  formatDate,
  formatTime,
  formatTimestamp,
  parseDateText,
  parseTimeText,
  parseTimestampText,
  valueToString,
  type Struct,
} from '../schema/values.ts';

export type Converter = (v: unknown) => unknown;

const identity: Converter = (v) => v;
const MS_PER_DAY = 86_400_000;

/** Java (int) of a long: wraps. */
export function toInt32(n: bigint): number {
  return Number(BigInt.asIntN(32, n));
}

/** Java's (long) of a double: truncates, saturates, NaN → 0. */
export function doubleToLong(d: number): bigint {
  if (Number.isNaN(d)) return 0n;
  if (d >= 9.223372036854776e18) return 9223372036854775807n;
  if (d <= -9.223372036854776e18) return -9223372036854775808n;
  return BigInt(Math.trunc(d));
}

/** Java's (int) of a double: truncates, saturates, NaN → 0. */
export function doubleToInt(d: number): number {
  if (Number.isNaN(d)) return 0;
  if (d >= 2147483647) return 2147483647;
  if (d <= -2147483648) return -2147483648;
  return Math.trunc(d);
}

/** Brings a decimal to DECIMAL(p, s) (HALF_UP), failing like ksqlDB when it does not fit. */
export function toDecimalType(d: Decimal, precision: number, scale: number): Decimal {
  const r = d.setScale(scale, 'HALF_UP');
  if (!r.fits(precision, scale)) {
    throw new RangeError(
      `Numeric field overflow: A field with precision ${precision} and scale ${scale} must round to an absolute value less than 10^${
        precision - scale
      }. Got ${d.toPlainString()}`,
    );
  }
  return r;
}

function toDecimal(v: unknown, from: ExprType): Decimal {
  switch (from.type) {
    case 'INTEGER':
      return new Decimal(BigInt(v as number), 0);
    case 'BIGINT':
      return new Decimal(v as bigint, 0);
    case 'DOUBLE':
      return Decimal.fromNumber(v as number);
    case 'DECIMAL':
      return v as Decimal;
    case 'STRING':
      return Decimal.parse((v as string).trim());
    default:
      throw new TypeError(`cannot convert ${from.type} to DECIMAL`);
  }
}

function parseJavaInt(text: string): bigint {
  const t = text.trim();
  if (!/^[+-]?\d+$/.test(t)) throw new TypeError(`For input string: "${text}"`);
  return BigInt(t);
}

function parseJavaDouble(text: string): number {
  const t = text.trim();
  if (/^[+-]?(NaN|Infinity)$/.test(t)) return Number(t);
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[dDfF]?$/.test(t))
    throw new TypeError(`For input string: "${text}"`);
  return Number(t.replace(/[dDfF]$/, ''));
}

/** Whether CAST(from AS to) is allowed (ksqlDB's cast rules). */
export function canCast(from: ExprType, to: SqlType): boolean {
  if (from.type === 'NULL') return true;
  if (typesEqual(from, to)) return true;
  const numeric = ['INTEGER', 'BIGINT', 'DOUBLE', 'DECIMAL'];
  if (to.type === 'STRING') return true;
  if (numeric.includes(to.type)) return numeric.includes(from.type) || from.type === 'STRING';
  if (to.type === 'BOOLEAN') return from.type === 'STRING';
  if (to.type === 'TIMESTAMP') return from.type === 'STRING' || from.type === 'DATE';
  if (to.type === 'DATE') return from.type === 'STRING' || from.type === 'TIMESTAMP';
  if (to.type === 'TIME') return from.type === 'STRING' || from.type === 'TIMESTAMP';
  if (to.type === 'ARRAY') return from.type === 'ARRAY' && canCast(from.item, to.item);
  if (to.type === 'MAP')
    return from.type === 'MAP' && canCast(from.key, to.key) && canCast(from.value, to.value);
  if (to.type === 'STRUCT') {
    return (
      from.type === 'STRUCT' &&
      to.fields.every((f) => {
        const g = from.fields.find((x) => x.name === f.name);
        return g === undefined || canCast(g.type, f.type);
      })
    );
  }
  return false;
}

/** A converter implementing CAST(from AS to); throws a statement error when the cast is illegal. */
export function castConverter(from: ExprType, to: SqlType): Converter {
  if (!canCast(from, to)) {
    throw statementError(`Cast of ${formatType(from)} to ${formatType(to)} is not supported`);
  }
  if (from.type === 'NULL') return () => null;
  if (typesEqual(from, to) && to.type !== 'DECIMAL') return identity;
  switch (to.type) {
    case 'STRING':
      return (v) => valueToString(v, from);
    case 'BOOLEAN':
      return (v) => {
        const s = (v as string).trim().toLowerCase();
        if (s === 'true' || s === 't' || s === 'yes' || s === 'y') return true;
        if (s === 'false' || s === 'f' || s === 'no' || s === 'n') return false;
        throw new TypeError(`Cannot cast '${v as string}' to BOOLEAN`);
      };
    case 'INTEGER':
      switch (from.type) {
        case 'BIGINT':
          return (v) => toInt32(v as bigint);
        case 'DOUBLE':
          return (v) => doubleToInt(v as number);
        case 'DECIMAL':
          return (v) => toInt32((v as Decimal).toBigInt());
        case 'STRING':
          return (v) => {
            const n = parseJavaInt(v as string);
            if (n > 2147483647n || n < -2147483648n)
              throw new RangeError(`For input string: "${v as string}"`);
            return Number(n);
          };
        default:
          return identity;
      }
    case 'BIGINT':
      switch (from.type) {
        case 'INTEGER':
          return (v) => BigInt(v as number);
        case 'DOUBLE':
          return (v) => doubleToLong(v as number);
        case 'DECIMAL':
          return (v) => BigInt.asIntN(64, (v as Decimal).toBigInt());
        case 'STRING':
          return (v) => BigInt.asIntN(64, parseJavaInt(v as string));
        default:
          return identity;
      }
    case 'DOUBLE':
      switch (from.type) {
        case 'INTEGER':
          return identity;
        case 'BIGINT':
          return (v) => Number(v);
        case 'DECIMAL':
          return (v) => (v as Decimal).toNumber();
        case 'STRING':
          return (v) => parseJavaDouble(v as string);
        default:
          return identity;
      }
    case 'DECIMAL':
      return (v) => toDecimalType(toDecimal(v, from), to.precision, to.scale);
    case 'TIMESTAMP':
      if (from.type === 'DATE') return (v) => (v as number) * MS_PER_DAY;
      return (v) => {
        const t = parseTimestampText(v as string);
        if (t === undefined) throw new TypeError(`Failed to parse timestamp '${v as string}'`);
        return t;
      };
    case 'DATE':
      if (from.type === 'TIMESTAMP') return (v) => Math.floor((v as number) / MS_PER_DAY);
      return (v) => {
        const d = parseDateText(v as string);
        if (d === undefined) throw new TypeError(`Failed to parse date '${v as string}'`);
        return d;
      };
    case 'TIME':
      if (from.type === 'TIMESTAMP') return (v) => (((v as number) % MS_PER_DAY) + MS_PER_DAY) % MS_PER_DAY;
      return (v) => {
        const t = parseTimeText(v as string);
        if (t === undefined) throw new TypeError(`Failed to parse time '${v as string}'`);
        return t;
      };
    case 'ARRAY': {
      const item = castConverter((from as { item: SqlType }).item, to.item);
      return (v) => (v as unknown[]).map((x) => (x === null ? null : item(x)));
    }
    case 'MAP': {
      const f = from as { key: SqlType; value: SqlType };
      const k = castConverter(f.key, to.key);
      const val = castConverter(f.value, to.value);
      return (v) => {
        const out = new Map<unknown, unknown>();
        for (const [a, b] of v as Map<unknown, unknown>)
          out.set(a === null ? null : k(a), b === null ? null : val(b));
        return out;
      };
    }
    case 'STRUCT': {
      const f = from as { fields: readonly { name: string; type: SqlType }[] };
      const conv = to.fields.map((field) => {
        const g = f.fields.find((x) => x.name === field.name);
        return { name: field.name, convert: g === undefined ? undefined : castConverter(g.type, field.type) };
      });
      return (v) => {
        const s = v as Struct;
        const out: Struct = {};
        for (const c of conv) {
          const x = s[c.name];
          out[c.name] = c.convert === undefined || x === null || x === undefined ? null : c.convert(x);
        }
        return out;
      };
    }
    default:
      return identity;
  }
}

/** Implicit conversion used for widened arguments and operands (no precision failure for decimals). */
export function implicitConverter(from: ExprType, to: SqlType): Converter {
  if (from.type === 'NULL' || typesEqual(from, to)) return identity;
  if (to.type === 'DECIMAL') {
    return (v) => toDecimal(v, from);
  }
  if (to.type === 'TIMESTAMP' && from.type === 'STRING') return castConverter(from, to);
  if (to.type === 'DATE' && from.type === 'STRING') return castConverter(from, to);
  if (to.type === 'TIME' && from.type === 'STRING') return castConverter(from, to);
  return castConverter(from, to);
}

export { formatDate, formatTime, formatTimestamp };
