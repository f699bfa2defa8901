/**
 * Runtime values (see types.ts for the representation per type): Java-compatible text forms,
 * comparison, equality and CAST conversions.
 */
import { Decimal, decimalValue, primitiveText } from './decimal.ts';
import { formatType, type SqlType } from './types.ts';

export type Struct = Record<string, unknown>;

/** Java's Double.toString (shortest round-trip digits; plain within [1e-3, 1e7), else E notation). */
export function javaDoubleToString(d: number): string {
  if (Number.isNaN(d)) return 'NaN';
  if (d === Infinity) return 'Infinity';
  if (d === -Infinity) return '-Infinity';
  if (d === 0) return Object.is(d, -0) ? '-0.0' : '0.0';
  const a = Math.abs(d);
  if (a >= 1e-3 && a < 1e7) {
    const s = String(d);
    if (s.includes('e')) return Decimal.parse(s).toPlainString();
    return s.includes('.') ? s : `${s}.0`;
  }
  // Scientific: digits d.ddd and exponent.
  const [mantissa = '', exp = '0'] = d.toExponential().split('e');
  const m = mantissa.includes('.') ? mantissa : `${mantissa}.0`;
  return `${m}E${Number(exp)}`;
}

/** Java's Float.toString for a double read from a float (Avro float): shortest float digits. */
export function floatToDouble(f: number): number {
  // A float widened to double keeps the float's binary value; ksqlDB exposes it as that double.
  return Math.fround(f);
}

const MS_PER_DAY = 86_400_000;

function pad(n: number, width: number): string {
  return String(Math.abs(n)).padStart(width, '0');
}

/** ksqlDB's TIMESTAMP text: `yyyy-MM-ddTHH:mm:ss.SSS` in UTC. */
export function formatTimestamp(ms: number): string {
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  const year = y < 0 ? `-${pad(y, 4)}` : y > 9999 ? `+${y}` : pad(y, 4);
  return `${year}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}T${pad(d.getUTCHours(), 2)}:${pad(
    d.getUTCMinutes(),
    2,
  )}:${pad(d.getUTCSeconds(), 2)}.${pad(d.getUTCMilliseconds(), 3)}`;
}

/** ksqlDB's DATE text: `yyyy-MM-dd`. */
export function formatDate(days: number): string {
  return formatTimestamp(days * MS_PER_DAY).slice(0, 10);
}

/** ksqlDB's TIME text: `HH:mm:ss` (Java LocalTime.toString drops zero seconds/millis parts). */
export function formatTime(msOfDay: number): string {
  const h = Math.floor(msOfDay / 3_600_000);
  const m = Math.floor((msOfDay % 3_600_000) / 60_000);
  const s = Math.floor((msOfDay % 60_000) / 1000);
  const ms = msOfDay % 1000;
  let text = `${pad(h, 2)}:${pad(m, 2)}`;
  if (s !== 0 || ms !== 0) text += `:${pad(s, 2)}`;
  if (ms !== 0) text += `.${pad(ms, 3)}`;
  return text;
}

/**
 * Parses ksqlDB's timestamp literal forms (SqlTimeTypes.parseTimestamp): `yyyy-MM-dd['T'HH:mm[:ss[.S...]]][zone]`.
 * Returns undefined when the text does not parse.
 */
export function parseTimestampText(text: string): number | undefined {
  const m =
    /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?)?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/.exec(
      text.trim(),
    );
  if (m === null) return undefined;
  const num = (s: string | undefined, d: number): number => (s === undefined ? d : Number(s));
  const month = num(m[2], 1);
  const day = num(m[3], 1);
  const hour = num(m[4], 0);
  const minute = num(m[5], 0);
  const second = num(m[6], 0);
  const ms = m[7] === undefined ? 0 : Number(m[7].padEnd(3, '0').slice(0, 3));
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59)
    return undefined;
  let t = Date.UTC(num(m[1], 1970), month - 1, day, hour, minute, second, ms);
  const zone = m[8];
  if (zone !== undefined && zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const offset = (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0')) * 60_000;
    t -= sign * offset;
  }
  return t;
}

export function parseDateText(text: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text.trim());
  if (m === null) return undefined;
  return Math.floor(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) / MS_PER_DAY);
}

export function parseTimeText(text: string): number | undefined {
  const m = /^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?$/.exec(text.trim());
  if (m === null) return undefined;
  const ms = m[4] === undefined ? 0 : Number(m[4].padEnd(3, '0').slice(0, 3));
  return ((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3] ?? '0')) * 1000 + ms;
}

/** Java's toString of a value of the given type (what CAST(x AS STRING) produces). */
export function valueToString(v: unknown, t: SqlType): string {
  if (v === null || v === undefined) return 'null';
  switch (t.type) {
    case 'BOOLEAN':
      return v === true ? 'true' : 'false';
    case 'INTEGER':
    case 'BIGINT':
      return primitiveText(v);
    case 'DOUBLE':
      return javaDoubleToString(v as number);
    case 'DECIMAL':
      return decimalValue(v).toPlainString();
    case 'STRING':
      return v as string;
    case 'BYTES':
      return Buffer.from(v as Uint8Array).toString('base64');
    case 'TIMESTAMP':
      return formatTimestamp(v as number);
    case 'DATE':
      return formatDate(v as number);
    case 'TIME':
      return formatTime(v as number);
    case 'ARRAY':
      return `[${(v as unknown[]).map((x) => valueToString(x, t.item)).join(', ')}]`;
    case 'MAP':
      return `{${[...(v as Map<unknown, unknown>).entries()]
        .map(([k, x]) => `${valueToString(k, t.key)}=${valueToString(x, t.value)}`)
        .join(', ')}}`;
    case 'STRUCT': {
      const s = v as Struct;
      return `Struct{${t.fields
        .filter((f) => s[f.name] !== null && s[f.name] !== undefined)
        .map((f) => `${f.name}=${valueToString(s[f.name], f.type)}`)
        .join(',')}}`;
    }
  }
}

/** Total order used by comparisons; both values non-null and of the same (comparable) type. */
export function compareValues(a: unknown, b: unknown): number {
  if (a instanceof Decimal && b instanceof Decimal) return a.compare(b);
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'boolean' && typeof b === 'boolean') return a === b ? 0 : a ? 1 : -1;
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.compare(a, b);
  throw new Error(`cannot compare ${typeof a} with ${typeof b}`);
}

/** Deep equality (Java equals on ksqlDB's runtime values; decimals compare by value). */
export function valuesEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || a === undefined || b === undefined) return false;
  if (a instanceof Decimal && b instanceof Decimal) return a.equalsValue(b);
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.compare(a, b) === 0;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => valuesEqual(x, b[i]));
  }
  if (a instanceof Map && b instanceof Map) {
    if (a.size !== b.size) return false;
    for (const [k, v] of a) {
      if (!b.has(k) || !valuesEqual(v, b.get(k))) return false;
    }
    return true;
  }
  if (typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => valuesEqual((a as Struct)[k], (b as Struct)[k]));
  }
  return false;
}

export function typeName(t: SqlType): string {
  return formatType(t);
}
