/**
 * ksqlDB's built-in scalar functions, with Java-compatible behaviour where ksqlDB inherits it
 * (reference: ksqldb-engine/src/main/java/io/confluent/ksql/function/udf/**).
 */
import { commonType } from '../analyzer/expressions.ts';
import { Decimal, primitiveText } from '../schema/decimal.ts';
import { T, type ExprType, type SqlDecimal, type SqlType } from '../schema/types.ts';
import { compareValues, javaDoubleToString, valuesEqual } from '../schema/values.ts';
import { formatMillis, parseToMillis } from './datetime-format.ts';
import { javaRegex, javaReplacement } from './java-regex.ts';
import { FunctionRegistry, type FunctionDef, type Overload, type ResolvedFunction } from './registry.ts';

const S = T.STRING;
const I = T.INTEGER;
const L = T.BIGINT;
const D = T.DOUBLE;
const B = T.BOOLEAN;
const BY = T.BYTES;
const MS_PER_DAY = 86_400_000;

const str = (a: readonly unknown[], i: number): string => a[i] as string;
const num = (a: readonly unknown[], i: number): number => a[i] as number;

function def(name: string, ...overloads: Overload[]): FunctionDef {
  return { name, overloads };
}

function trimStart(s: string): string {
  let a = 0;
  while (a < s.length && s.charCodeAt(a) <= 0x20) a++;
  return s.slice(a);
}

function trimEnd(s: string): string {
  let b = s.length;
  while (b > 0 && s.charCodeAt(b - 1) <= 0x20) b--;
  return s.slice(0, b);
}

/** Java String.trim(): strips chars <= U+0020 at both ends. */
export function javaTrim(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && s.charCodeAt(a) <= 0x20) a++;
  while (b > a && s.charCodeAt(b - 1) <= 0x20) b--;
  return s.slice(a, b);
}

function substringStart(length: number, pos: number): number {
  return pos > 0 ? Math.min(length, pos - 1) : pos < 0 ? Math.max(0, length + pos) : 0;
}

function substring(length: number, pos: number, len?: number): [number, number] {
  const start = substringStart(length, pos);
  if (len === undefined) return [start, length];
  const end = Math.max(start, Math.min(length, start + Math.max(0, len)));
  return [start, end];
}

/** ksqlDB's Masker: Unicode upper/lower/digit classes; a NULL mask leaves that class unmasked. */
function maskWith(s: string, masks: readonly unknown[] = []): string {
  const pick = (v: unknown, dflt: string): string | null => {
    if (v === undefined) return dflt;
    if (v === null) return null;
    const m = v as string;
    if (Array.from(m).length !== 1)
      throw new Error(`Invalid mask character. Must be only single character, but was '${m}'`);
    return m;
  };
  const upper = pick(masks[0], 'X');
  const lower = pick(masks[1], 'x');
  const digit = pick(masks[2], 'n');
  const other = pick(masks[3], '-');
  let out = '';
  for (const c of s) {
    if (/\p{Lu}/u.test(c)) out += upper ?? c;
    else if (/\p{Ll}/u.test(c)) out += lower ?? c;
    else if (/\p{Nd}/u.test(c)) out += digit ?? c;
    else out += other ?? c;
  }
  return out;
}

function pad(s: string, len: number, padding: string, left: boolean): string | null {
  if (len < 0 || padding === '') return null;
  if (s.length >= len) return s.slice(0, len);
  let fill = '';
  while (fill.length < len - s.length) fill += padding;
  fill = fill.slice(0, len - s.length);
  return left ? fill + s : s + fill;
}

/** Apache StringUtils.splitByWholeSeparatorPreserveAllTokens semantics, as ksqlDB's SPLIT. */
function splitString(s: string, delimiter: string): string[] {
  if (s === '') return [''];
  // One element per UTF-16 unit, as Java's String.split("") would give.
  if (delimiter === '') return Array.from({ length: s.length }, (_, i) => s.charAt(i));
  return s.split(delimiter);
}

function splitBytes(b: Uint8Array, delimiter: Uint8Array): Uint8Array[] {
  const buf = Buffer.from(b);
  if (buf.length === 0) return [Uint8Array.of()];
  if (delimiter.length === 0) return [...buf].map((x) => Uint8Array.of(x));
  const out: Uint8Array[] = [];
  let start = 0;
  for (;;) {
    const i = buf.indexOf(Buffer.from(delimiter), start);
    if (i < 0) break;
    out.push(buf.subarray(start, i));
    start = i + delimiter.length;
  }
  out.push(buf.subarray(start));
  return out;
}

/** ksqlDB's InitCap: lower-cases, then capitalizes each `[^\s]+\s*` run (leading whitespace is dropped). */
function initcap(s: string): string {
  let out = '';
  for (const m of s.toLowerCase().matchAll(/[^\s]+\s*/g)) {
    const part = m[0];
    out += part.charAt(0).toUpperCase() + part.slice(1);
  }
  return out;
}

/** Apache StringUtils.substring(str, start): a negative start counts from the end. */
function commonsSubstring(s: string, start: number): string {
  let i = start < 0 ? s.length + start : start;
  if (i < 0) i = 0;
  return i > s.length ? '' : s.slice(i);
}

/** Apache StringUtils.ordinalIndexOf (overlapping matches; -1 when not found). */
function ordinalIndexOf(s: string, search: string, ordinal: number): number {
  if (ordinal <= 0) return -1;
  if (search === '') return 0;
  let found = 0;
  let index = -1;
  do {
    index = s.indexOf(search, index + 1);
    if (index < 0) return index;
    found++;
  } while (found < ordinal);
  return index;
}

/** ksqlDB's INSTR, including its arithmetic for negative positions. */
function instr(s: string, sub: string, position = 1, occurrence = 1): number {
  if (Math.abs(position) > s.length) return 0;
  const find = (str: string, search: string, pos: number, reversed: boolean): number => {
    const i = ordinalIndexOf(commonsSubstring(str, pos - 1), search, occurrence);
    return reversed ? str.length - pos - i : i + pos;
  };
  if (position < 0)
    return find(Array.from(s).reverse().join(''), Array.from(sub).reverse().join(''), -position, true);
  return find(s, sub, position, false);
}

function encode(bytes: Uint8Array, encoding: string): string {
  const b = Buffer.from(bytes);
  switch (encoding.toLowerCase()) {
    case 'hex':
      return b.toString('hex').toUpperCase();
    case 'utf8':
      return b.toString('utf8');
    case 'ascii':
      return b.toString('latin1');
    case 'base64':
      return b.toString('base64');
    default:
      throw new Error(`Unknown encoding: ${encoding}`);
  }
}

function decode(text: string, encoding: string): Uint8Array {
  switch (encoding.toLowerCase()) {
    case 'hex': {
      const t = text.startsWith('0x') || text.startsWith('0X') ? text.slice(2) : text;
      if (!/^[0-9a-fA-F]*$/.test(t) || t.length % 2 !== 0) throw new Error(`Invalid hex: ${text}`);
      return Buffer.from(t, 'hex');
    }
    case 'utf8':
      return Buffer.from(text, 'utf8');
    case 'ascii':
      return Buffer.from(text, 'latin1');
    case 'base64':
      return Buffer.from(text, 'base64');
    default:
      throw new Error(`Unknown encoding: ${encoding}`);
  }
}

/** JSONPath subset used by EXTRACTJSONFIELD: $.a.b, $.a[0], $['a']. */
function extractJsonField(json: string, path: string): string | null {
  let node: unknown;
  try {
    node = JSON.parse(json);
  } catch {
    return null;
  }
  if (!path.startsWith('$')) return null;
  const re = /\.([^.[\]]+)|\[(\d+)\]|\['([^']*)'\]|\["([^"]*)"\]/gy;
  re.lastIndex = 1;
  let m: RegExpExecArray | null;
  while (re.lastIndex < path.length && (m = re.exec(path)) !== null) {
    if (node === null || node === undefined) return null;
    if (m[2] !== undefined) {
      if (!Array.isArray(node)) return null;
      node = (node as unknown[])[Number(m[2])];
    } else {
      const k = m[1] ?? m[3] ?? m[4] ?? '';
      if (typeof node !== 'object' || Array.isArray(node)) return null;
      node = (node as Record<string, unknown>)[k];
    }
  }
  if (node === undefined || node === null) return null;
  if (typeof node === 'string') return node;
  return JSON.stringify(node);
}

/** ksqlDB's ROUND: halves go toward positive infinity (HALF_UP above zero, HALF_DOWN below). */
function roundDecimal(d: Decimal, places: number): Decimal {
  return d.setScale(places, d.signum() > 0 ? 'HALF_UP' : 'HALF_DOWN');
}

function round(d: number, places: number): number {
  return roundDecimal(Decimal.fromNumber(d), places).toNumber();
}

function javaRoundLong(d: number): bigint {
  // Math.round: floor(d + 0.5) with saturation.
  if (Number.isNaN(d)) return 0n;
  const r = Math.floor(d + 0.5);
  if (r >= 9.223372036854776e18) return 9223372036854775807n;
  if (r <= -9.223372036854776e18) return -9223372036854775808n;
  return BigInt(r);
}

function decimalResolve(
  f: (d: Decimal, t: SqlDecimal, args: readonly unknown[]) => unknown,
  rt: (t: SqlDecimal) => SqlType,
): FunctionDef['resolve'] {
  return (args) => {
    const a = args[0];
    if (a === undefined || a.type !== 'DECIMAL') return undefined;
    if (args.slice(1).some((x) => x.type !== 'INTEGER' && x.type !== 'NULL')) return undefined;
    return {
      returnType: rt(a),
      paramTypes: args.map(() => undefined),
      invoke: (v) => f(v[0] as Decimal, a, v),
      nullPropagating: true,
    };
  };
}

function sortArray(arr: readonly unknown[], desc: boolean): unknown[] {
  const nonNull = arr.filter((x) => x !== null);
  const nulls = arr.length - nonNull.length;
  nonNull.sort((a, b) => compareValues(a, b) * (desc ? -1 : 1));
  const tail = new Array<unknown>(nulls).fill(null);
  return desc ? [...tail, ...nonNull] : [...nonNull, ...tail];
}

function distinct(arr: readonly unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const x of arr) if (!out.some((y) => valuesEqual(x, y))) out.push(x);
  return out;
}

function same(args: readonly ExprType[]): SqlType {
  return args[0] as SqlType;
}

function itemOf(args: readonly ExprType[]): SqlType {
  const a = args[0];
  return a !== undefined && a.type === 'ARRAY' ? a.item : T.STRING;
}

/** COALESCE and friends: all arguments share one type (numbers widen). */
function uniform(
  name: string,
  min: number,
  max: number,
  invoke: (values: readonly unknown[]) => unknown,
): FunctionDef {
  return {
    name,
    overloads: [],
    resolve: (args): ResolvedFunction | undefined => {
      if (args.length < min || args.length > max) return undefined;
      const t = commonType(args);
      if (t === undefined) return undefined;
      const rt = t.type === 'NULL' ? T.STRING : t;
      return {
        returnType: rt,
        paramTypes: args.map((a) => (a.type === rt.type && a.type !== 'DECIMAL' ? undefined : rt)),
        invoke,
        nullPropagating: false,
      };
    },
  };
}

function tsToString(ms: number, fmt: string, zone?: string): string {
  return formatMillis(ms, fmt, zone ?? 'UTC');
}

function stringToTs(text: string, fmt: string, zone?: string): number {
  return parseToMillis(text, fmt, zone ?? 'UTC');
}

export function builtinFunctions(): FunctionDef[] {
  const fns: FunctionDef[] = [
    // ---- strings ---------------------------------------------------------------------------
    def('LCASE', { params: [S], returns: S, invoke: (a) => str(a, 0).toLowerCase() }),
    def('UCASE', { params: [S], returns: S, invoke: (a) => str(a, 0).toUpperCase() }),
    def('TRIM', { params: [S], returns: S, invoke: (a) => javaTrim(str(a, 0)) }),
    def('LTRIM', { params: [S], returns: S, invoke: (a) => trimStart(str(a, 0)) }),
    def('RTRIM', { params: [S], returns: S, invoke: (a) => trimEnd(str(a, 0)) }),
    def(
      'SUBSTRING',
      {
        params: [S, I],
        returns: S,
        invoke: (a) => {
          const s = str(a, 0);
          const [x, y] = substring(s.length, num(a, 1));
          return s.slice(x, y);
        },
      },
      {
        params: [S, I, I],
        returns: S,
        invoke: (a) => {
          const s = str(a, 0);
          const [x, y] = substring(s.length, num(a, 1), num(a, 2));
          return s.slice(x, y);
        },
      },
      {
        params: [BY, I],
        returns: BY,
        invoke: (a) => {
          const b = a[0] as Uint8Array;
          const [x, y] = substring(b.length, num(a, 1));
          return b.slice(x, y);
        },
      },
      {
        params: [BY, I, I],
        returns: BY,
        invoke: (a) => {
          const b = a[0] as Uint8Array;
          const [x, y] = substring(b.length, num(a, 1), num(a, 2));
          return b.slice(x, y);
        },
      },
    ),
    def(
      'CONCAT',
      {
        params: [S],
        variadic: true,
        returns: S,
        nullPropagating: false,
        invoke: (a) => (a.filter((x) => x !== null && x !== undefined) as string[]).join(''),
      },
      {
        params: [BY],
        variadic: true,
        returns: BY,
        nullPropagating: false,
        invoke: (a) => Buffer.concat(a.filter((x) => x !== null && x !== undefined) as Uint8Array[]),
      },
    ),
    def(
      'CONCAT_WS',
      {
        params: [S, S],
        variadic: true,
        returns: S,
        nullPropagating: false,
        invoke: (a) => {
          if (a[0] === null) return null;
          return (a.slice(1).filter((x) => x !== null && x !== undefined) as string[]).join(str(a, 0));
        },
      },
      {
        params: [BY, BY],
        variadic: true,
        returns: BY,
        nullPropagating: false,
        invoke: (a) => {
          if (a[0] === null) return null;
          const sep = Buffer.from(a[0] as Uint8Array);
          const parts = (a.slice(1).filter((x) => x !== null && x !== undefined) as Uint8Array[]).map((x) =>
            Buffer.from(x),
          );
          const out: Buffer[] = [];
          parts.forEach((p, i) => {
            if (i > 0) out.push(sep);
            out.push(p);
          });
          return Buffer.concat(out);
        },
      },
    ),
    def('REPLACE', {
      params: [S, S, S],
      returns: S,
      invoke: (a) => str(a, 0).split(str(a, 1)).join(str(a, 2)),
    }),
    def('REGEXP_REPLACE', {
      params: [S, S, S],
      returns: S,
      invoke: (a) => str(a, 0).replace(javaRegex(str(a, 1), true), javaReplacement(str(a, 2))),
    }),
    def(
      'REGEXP_EXTRACT',
      {
        params: [S, S],
        returns: S,
        invoke: (a) => javaRegex(str(a, 0)).exec(str(a, 1))?.[0] ?? null,
      },
      {
        params: [S, S, I],
        returns: S,
        invoke: (a) => javaRegex(str(a, 0)).exec(str(a, 1))?.[num(a, 2)] ?? null,
      },
    ),
    def(
      'REGEXP_EXTRACT_ALL',
      {
        params: [S, S],
        returns: T.array(S),
        invoke: (a) => [...str(a, 1).matchAll(javaRegex(str(a, 0), true))].map((m) => m[0]),
      },
      {
        params: [S, S, I],
        returns: T.array(S),
        invoke: (a) => [...str(a, 1).matchAll(javaRegex(str(a, 0), true))].map((m) => m[num(a, 2)] ?? null),
      },
    ),
    def('REGEXP_SPLIT_TO_ARRAY', {
      params: [S, S],
      returns: T.array(S),
      invoke: (a) => {
        const s = str(a, 0);
        if (s === '') return [''];
        if (str(a, 1) === '') return Array.from({ length: s.length }, (_, i) => s.charAt(i));
        // Java's Pattern.split: capture groups are not part of the result.
        const out: string[] = [];
        let last = 0;
        for (const m of s.matchAll(javaRegex(str(a, 1), true))) {
          if (m[0] === '' && m.index === 0) continue;
          out.push(s.slice(last, m.index));
          last = m.index + m[0].length;
        }
        out.push(s.slice(last));
        return out;
      },
    }),
    def(
      'SPLIT',
      { params: [S, S], returns: T.array(S), invoke: (a) => splitString(str(a, 0), str(a, 1)) },
      {
        params: [BY, BY],
        returns: T.array(BY),
        invoke: (a) => splitBytes(a[0] as Uint8Array, a[1] as Uint8Array),
      },
    ),
    def(
      'LEN',
      { params: [S], returns: I, invoke: (a) => str(a, 0).length },
      { params: [BY], returns: I, invoke: (a) => (a[0] as Uint8Array).length },
    ),
    def(
      'INSTR',
      { params: [S, S], returns: I, invoke: (a) => instr(str(a, 0), str(a, 1)) },
      { params: [S, S, I], returns: I, invoke: (a) => instr(str(a, 0), str(a, 1), num(a, 2)) },
      { params: [S, S, I, I], returns: I, invoke: (a) => instr(str(a, 0), str(a, 1), num(a, 2), num(a, 3)) },
    ),
    def('INITCAP', { params: [S], returns: S, invoke: (a) => initcap(str(a, 0)) }),
    def(
      'MASK',
      { params: [S], returns: S, invoke: (a) => maskWith(str(a, 0)) },
      {
        params: [S, S, S, S, S],
        returns: S,
        nullPropagating: false,
        invoke: (a) => nullIf0(a, () => maskWith(str(a, 0), a.slice(1))),
      },
    ),
    maskPart('MASK_KEEP_LEFT', (s, n, m) => s.slice(0, n) + m(s.slice(n))),
    maskPart(
      'MASK_KEEP_RIGHT',
      (s, n, m) => m(s.slice(0, Math.max(0, s.length - n))) + s.slice(Math.max(0, s.length - n)),
    ),
    maskPart('MASK_LEFT', (s, n, m) => m(s.slice(0, n)) + s.slice(n)),
    maskPart(
      'MASK_RIGHT',
      (s, n, m) => s.slice(0, Math.max(0, s.length - n)) + m(s.slice(Math.max(0, s.length - n))),
    ),
    def(
      'LPAD',
      { params: [S, I, S], returns: S, invoke: (a) => pad(str(a, 0), num(a, 1), str(a, 2), true) },
      {
        params: [BY, I, BY],
        returns: BY,
        invoke: (a) => padBytes(a[0] as Uint8Array, num(a, 1), a[2] as Uint8Array, true),
      },
    ),
    def(
      'RPAD',
      { params: [S, I, S], returns: S, invoke: (a) => pad(str(a, 0), num(a, 1), str(a, 2), false) },
      {
        params: [BY, I, BY],
        returns: BY,
        invoke: (a) => padBytes(a[0] as Uint8Array, num(a, 1), a[2] as Uint8Array, false),
      },
    ),
    def('ELT', {
      params: [I, S],
      variadic: true,
      returns: S,
      nullPropagating: false,
      invoke: (a) => {
        if (a[0] === null) return null;
        const n = num(a, 0);
        return n < 1 || n >= a.length ? null : (a[n] ?? null);
      },
    }),
    def('FIELD', {
      params: [S, S],
      variadic: true,
      returns: I,
      nullPropagating: false,
      invoke: (a) => {
        if (a[0] === null) return 0;
        const i = a.slice(1).indexOf(a[0]);
        return i < 0 ? 0 : i + 1;
      },
    }),
    def(
      'CHR',
      {
        params: [I],
        returns: S,
        invoke: (a) => {
          const n = num(a, 0);
          return n < 0 || n > 0x10ffff ? null : String.fromCodePoint(n);
        },
      },
      {
        params: [S],
        returns: S,
        invoke: (a) => {
          const m = /^\\u([0-9a-fA-F]{4})$/.exec(str(a, 0));
          return m === null ? null : String.fromCharCode(parseInt(m[1] ?? '0', 16));
        },
      },
    ),
    def('ENCODE', {
      params: [S, S, S],
      returns: S,
      invoke: (a) => encode(decode(str(a, 0), str(a, 1)), str(a, 2)),
    }),
    def('TO_BYTES', { params: [S, S], returns: BY, invoke: (a) => decode(str(a, 0), str(a, 1)) }),
    def('FROM_BYTES', { params: [BY, S], returns: S, invoke: (a) => encode(a[0] as Uint8Array, str(a, 1)) }),
    def('UUID', { params: [], returns: S, invoke: (_a, ctx) => ctx.uuid() }),
    def('EXTRACTJSONFIELD', {
      params: [S, S],
      returns: S,
      invoke: (a) => extractJsonField(str(a, 0), str(a, 1)),
    }),
    def('IS_JSON_STRING', {
      params: [S],
      returns: B,
      nullPropagating: false,
      invoke: (a) => {
        if (a[0] === null) return false;
        try {
          JSON.parse(str(a, 0));
          return true;
        } catch {
          return false;
        }
      },
    }),

    // ---- null handling -----------------------------------------------------------------------
    uniform('COALESCE', 1, Infinity, (a) => a.find((x) => x !== null && x !== undefined) ?? null),
    uniform('IFNULL', 2, 2, (a) => (a[0] === null ? (a[1] ?? null) : a[0])),
    uniform('NULLIF', 2, 2, (a) => (a[0] !== null && a[1] !== null && valuesEqual(a[0], a[1]) ? null : a[0])),
    def('AS_VALUE', { params: ['ANY'], returns: same, nullPropagating: false, invoke: (a) => a[0] ?? null }),

    // ---- math --------------------------------------------------------------------------------
    {
      name: 'ABS',
      overloads: [
        { params: [I], returns: I, invoke: (a) => Math.abs(num(a, 0)) | 0 },
        {
          params: [L],
          returns: L,
          invoke: (a) => ((a[0] as bigint) < 0n ? BigInt.asIntN(64, -(a[0] as bigint)) : a[0]),
        },
        { params: [D], returns: D, invoke: (a) => Math.abs(num(a, 0)) },
      ],
      resolve: decimalResolve(
        (d) => d.abs(),
        (t) => t,
      ),
    },
    {
      name: 'ROUND',
      overloads: [
        { params: [I], returns: L, invoke: (a) => BigInt(num(a, 0)) },
        { params: [L], returns: L, invoke: (a) => a[0] },
        { params: [D], returns: L, invoke: (a) => javaRoundLong(num(a, 0)) },
        { params: [D, I], returns: D, invoke: (a) => round(num(a, 0), num(a, 1)) },
      ],
      resolve: (args) => {
        const a = args[0];
        if (a === undefined || a.type !== 'DECIMAL') return undefined;
        if (args.length === 1) {
          return {
            returnType: T.decimal(Math.max(1, a.precision - a.scale), 0),
            paramTypes: [undefined],
            invoke: (v) => roundDecimal(v[0] as Decimal, 0),
            nullPropagating: true,
          };
        }
        if (args.length === 2 && (args[1]?.type === 'INTEGER' || args[1]?.type === 'NULL')) {
          // The result keeps the input's type and scale (ksqlDB issue 6235).
          return {
            returnType: a,
            paramTypes: [undefined, undefined],
            invoke: (v) => {
              const d = v[0] as Decimal;
              return roundDecimal(d, v[1] as number).setScale(d.scale);
            },
            nullPropagating: true,
          };
        }
        return undefined;
      },
    },
    {
      name: 'FLOOR',
      overloads: [
        { params: [I], returns: I, invoke: (a) => a[0] },
        { params: [L], returns: L, invoke: (a) => a[0] },
        { params: [D], returns: D, invoke: (a) => Math.floor(num(a, 0)) },
      ],
      // ksqlDB keeps the decimal's type and scale: FLOOR(1.50) is 1.00.
      resolve: decimalResolve(
        (d) => d.setScale(0, 'FLOOR').setScale(d.scale),
        (t) => t,
      ),
    },
    {
      name: 'CEIL',
      overloads: [
        { params: [I], returns: I, invoke: (a) => a[0] },
        { params: [L], returns: L, invoke: (a) => a[0] },
        { params: [D], returns: D, invoke: (a) => Math.ceil(num(a, 0)) },
      ],
      resolve: decimalResolve(
        (d) => d.setScale(0, 'CEILING').setScale(d.scale),
        (t) => t,
      ),
    },
    def('EXP', { params: [D], returns: D, invoke: (a) => Math.exp(num(a, 0)) }),
    def('LN', { params: [D], returns: D, invoke: (a) => Math.log(num(a, 0)) }),
    def(
      'LOG',
      { params: [D], returns: D, invoke: (a) => Math.log(num(a, 0)) },
      { params: [D, D], returns: D, invoke: (a) => Math.log(num(a, 1)) / Math.log(num(a, 0)) },
    ),
    def('SQRT', { params: [D], returns: D, invoke: (a) => Math.sqrt(num(a, 0)) }),
    def('CBRT', { params: [D], returns: D, invoke: (a) => Math.cbrt(num(a, 0)) }),
    def('POWER', { params: [D, D], returns: D, invoke: (a) => Math.pow(num(a, 0), num(a, 1)) }),
    def(
      'SIGN',
      { params: [I], returns: I, invoke: (a) => Math.sign(num(a, 0)) },
      {
        params: [L],
        returns: I,
        invoke: (a) => ((a[0] as bigint) > 0n ? 1 : (a[0] as bigint) < 0n ? -1 : 0),
      },
      { params: [D], returns: I, invoke: (a) => Math.sign(num(a, 0)) },
    ),
    def('RANDOM', { params: [], returns: D, invoke: () => Math.random() }),
    def('PI', { params: [], returns: D, invoke: () => Math.PI }),
    def('SIN', { params: [D], returns: D, invoke: (a) => Math.sin(num(a, 0)) }),
    def('COS', { params: [D], returns: D, invoke: (a) => Math.cos(num(a, 0)) }),
    def('TAN', { params: [D], returns: D, invoke: (a) => Math.tan(num(a, 0)) }),
    def('ASIN', { params: [D], returns: D, invoke: (a) => Math.asin(num(a, 0)) }),
    def('ACOS', { params: [D], returns: D, invoke: (a) => Math.acos(num(a, 0)) }),
    def('ATAN', { params: [D], returns: D, invoke: (a) => Math.atan(num(a, 0)) }),
    def('ATAN2', { params: [D, D], returns: D, invoke: (a) => Math.atan2(num(a, 0), num(a, 1)) }),
    def('DEGREES', { params: [D], returns: D, invoke: (a) => (num(a, 0) * 180) / Math.PI }),
    def('RADIANS', { params: [D], returns: D, invoke: (a) => (num(a, 0) * Math.PI) / 180 }),
    uniformExtreme('GREATEST', 1),
    uniformExtreme('LEAST', -1),

    // ---- collections -------------------------------------------------------------------------
    def('ARRAY_LENGTH', { params: ['ANY_ARRAY'], returns: I, invoke: (a) => (a[0] as unknown[]).length }),
    def('ARRAY_CONTAINS', {
      params: ['ANY_ARRAY', 'ANY'],
      returns: B,
      nullPropagating: false,
      invoke: (a) => (a[0] === null ? false : (a[0] as unknown[]).some((x) => valuesEqual(x, a[1] ?? null))),
    }),
    def('ARRAY_DISTINCT', {
      params: ['ANY_ARRAY'],
      returns: same,
      invoke: (a) => distinct(a[0] as unknown[]),
    }),
    def('ARRAY_EXCEPT', {
      params: ['ANY_ARRAY', 'ANY_ARRAY'],
      returns: same,
      invoke: (a) =>
        distinct((a[0] as unknown[]).filter((x) => !(a[1] as unknown[]).some((y) => valuesEqual(x, y)))),
    }),
    def('ARRAY_INTERSECT', {
      params: ['ANY_ARRAY', 'ANY_ARRAY'],
      returns: same,
      invoke: (a) =>
        distinct((a[0] as unknown[]).filter((x) => (a[1] as unknown[]).some((y) => valuesEqual(x, y)))),
    }),
    def('ARRAY_UNION', {
      params: ['ANY_ARRAY', 'ANY_ARRAY'],
      returns: same,
      invoke: (a) => distinct([...(a[0] as unknown[]), ...(a[1] as unknown[])]),
    }),
    def('ARRAY_CONCAT', {
      params: ['ANY_ARRAY', 'ANY_ARRAY'],
      returns: (args) => (args[0]?.type === 'NULL' ? (args[1] as SqlType) : (args[0] as SqlType)),
      nullPropagating: false,
      invoke: (a) =>
        a[0] === null && a[1] === null
          ? null
          : [...((a[0] as unknown[] | null) ?? []), ...((a[1] as unknown[] | null) ?? [])],
    }),
    def('ARRAY_REMOVE', {
      params: ['ANY_ARRAY', 'ANY'],
      returns: same,
      nullPropagating: false,
      invoke: (a) =>
        a[0] === null ? null : (a[0] as unknown[]).filter((x) => !valuesEqual(x, a[1] ?? null)),
    }),
    def(
      'ARRAY_SORT',
      { params: ['ANY_ARRAY'], returns: same, invoke: (a) => sortArray(a[0] as unknown[], false) },
      {
        params: ['ANY_ARRAY', S],
        returns: same,
        invoke: (a) => sortArray(a[0] as unknown[], str(a, 1).toUpperCase() === 'DESC'),
      },
    ),
    def('ARRAY_MAX', {
      params: ['ANY_ARRAY'],
      returns: itemOf,
      invoke: (a) =>
        sortArray(
          (a[0] as unknown[]).filter((x) => x !== null),
          true,
        )[0] ?? null,
    }),
    def('ARRAY_MIN', {
      params: ['ANY_ARRAY'],
      returns: itemOf,
      invoke: (a) =>
        sortArray(
          (a[0] as unknown[]).filter((x) => x !== null),
          false,
        )[0] ?? null,
    }),
    def(
      'ARRAY_JOIN',
      { params: ['ANY_ARRAY'], returns: S, invoke: (a) => (a[0] as unknown[]).map(joinText).join(',') },
      {
        params: ['ANY_ARRAY', S],
        returns: S,
        invoke: (a) => (a[0] as unknown[]).map(joinText).join(str(a, 1)),
      },
    ),
    def('SLICE', {
      params: ['ANY_ARRAY', I, I],
      returns: same,
      invoke: (a) => {
        const arr = a[0] as unknown[];
        const from = Math.max(1, num(a, 1));
        const to = Math.min(arr.length, num(a, 2));
        return from > to ? [] : arr.slice(from - 1, to);
      },
    }),
    def(
      'GENERATE_SERIES',
      {
        params: [I, I],
        returns: T.array(I),
        invoke: (a) => series(num(a, 0), num(a, 1), num(a, 0) <= num(a, 1) ? 1 : -1),
      },
      { params: [I, I, I], returns: T.array(I), invoke: (a) => series(num(a, 0), num(a, 1), num(a, 2)) },
      {
        params: [L, L],
        returns: T.array(L),
        invoke: (a) =>
          series(Number(a[0]), Number(a[1]), Number(a[0]) <= Number(a[1]) ? 1 : -1).map((x) => BigInt(x)),
      },
      {
        params: [L, L, I],
        returns: T.array(L),
        invoke: (a) => series(Number(a[0]), Number(a[1]), num(a, 2)).map((x) => BigInt(x)),
      },
    ),
    def('ENTRIES', {
      params: ['ANY_MAP', B],
      returns: (args) => {
        const m = args[0];
        const v = m !== undefined && m.type === 'MAP' ? m.value : T.STRING;
        return T.array(
          T.struct([
            { name: 'K', type: T.STRING },
            { name: 'V', type: v },
          ]),
        );
      },
      invoke: (a) => {
        const entries = [...(a[0] as Map<unknown, unknown>).entries()];
        if (a[1] === true) entries.sort((x, y) => compareValues(x[0], y[0]));
        return entries.map(([k, v]) => ({ K: k, V: v }));
      },
    }),
    def('MAP_KEYS', {
      params: ['ANY_MAP'],
      returns: (args) => T.array(args[0]?.type === 'MAP' ? args[0].key : T.STRING),
      invoke: (a) => [...(a[0] as Map<unknown, unknown>).keys()],
    }),
    def('MAP_VALUES', {
      params: ['ANY_MAP'],
      returns: (args) => T.array(args[0]?.type === 'MAP' ? args[0].value : T.STRING),
      invoke: (a) => [...(a[0] as Map<unknown, unknown>).values()],
    }),
    def('MAP_UNION', {
      params: ['ANY_MAP', 'ANY_MAP'],
      returns: same,
      nullPropagating: false,
      invoke: (a) => {
        if (a[0] === null && a[1] === null) return null;
        return new Map([
          ...((a[0] as Map<unknown, unknown> | null) ?? []),
          ...((a[1] as Map<unknown, unknown> | null) ?? []),
        ]);
      },
    }),
    def('AS_MAP', {
      params: ['ANY_ARRAY', 'ANY_ARRAY'],
      returns: (args) => T.map(T.STRING, itemOf(args.slice(1))),
      invoke: (a) => {
        const keys = a[0] as unknown[];
        const values = a[1] as unknown[];
        const m = new Map<unknown, unknown>();
        keys.forEach((k, i) => m.set(k, values[i] ?? null));
        return m;
      },
    }),

    // ---- date and time -----------------------------------------------------------------------
    def(
      'UNIX_TIMESTAMP',
      { params: [], returns: L, invoke: (_a, ctx) => BigInt(ctx.now()) },
      { params: [T.TIMESTAMP], returns: L, invoke: (a) => BigInt(num(a, 0)) },
    ),
    def(
      'UNIX_DATE',
      { params: [], returns: I, invoke: (_a, ctx) => Math.floor(ctx.now() / MS_PER_DAY) },
      {
        params: [T.DATE],
        returns: I,
        invoke: (a) => a[0],
      },
    ),
    def(
      'TIMESTAMPTOSTRING',
      { params: [L, S], returns: S, invoke: (a) => tsToString(Number(a[0]), str(a, 1)) },
      { params: [L, S, S], returns: S, invoke: (a) => tsToString(Number(a[0]), str(a, 1), str(a, 2)) },
    ),
    def(
      'STRINGTOTIMESTAMP',
      { params: [S, S], returns: L, invoke: (a) => BigInt(stringToTs(str(a, 0), str(a, 1))) },
      { params: [S, S, S], returns: L, invoke: (a) => BigInt(stringToTs(str(a, 0), str(a, 1), str(a, 2))) },
    ),
    def(
      'FORMAT_TIMESTAMP',
      { params: [T.TIMESTAMP, S], returns: S, invoke: (a) => tsToString(num(a, 0), str(a, 1)) },
      { params: [T.TIMESTAMP, S, S], returns: S, invoke: (a) => tsToString(num(a, 0), str(a, 1), str(a, 2)) },
    ),
    def(
      'PARSE_TIMESTAMP',
      { params: [S, S], returns: T.TIMESTAMP, invoke: (a) => stringToTs(str(a, 0), str(a, 1)) },
      { params: [S, S, S], returns: T.TIMESTAMP, invoke: (a) => stringToTs(str(a, 0), str(a, 1), str(a, 2)) },
    ),
    def('FROM_UNIXTIME', { params: [L], returns: T.TIMESTAMP, invoke: (a) => Number(a[0]) }),
    def('STRINGTODATE', {
      params: [S, S],
      returns: I,
      invoke: (a) => Math.floor(stringToTs(str(a, 0), str(a, 1)) / MS_PER_DAY),
    }),
    def('DATETOSTRING', {
      params: [I, S],
      returns: S,
      invoke: (a) => tsToString(num(a, 0) * MS_PER_DAY, str(a, 1)),
    }),
    def('PARSE_DATE', {
      params: [S, S],
      returns: T.DATE,
      // Text after the pattern is ignored (ksqlDB's ParseDate parses a prefix).
      invoke: (a) => Math.floor(parseToMillis(str(a, 0), str(a, 1), 'UTC', true) / MS_PER_DAY),
    }),
    def('FORMAT_DATE', {
      params: [T.DATE, S],
      returns: S,
      invoke: (a) => tsToString(num(a, 0) * MS_PER_DAY, str(a, 1)),
    }),
    def('PARSE_TIME', {
      params: [S, S],
      returns: T.TIME,
      invoke: (a) => ((stringToTs(str(a, 0), str(a, 1)) % MS_PER_DAY) + MS_PER_DAY) % MS_PER_DAY,
    }),
    def('FORMAT_TIME', { params: [T.TIME, S], returns: S, invoke: (a) => tsToString(num(a, 0), str(a, 1)) }),
    def('CONVERT_TZ', {
      params: [T.TIMESTAMP, S, S],
      returns: T.TIMESTAMP,
      invoke: (a) => {
        const ms = num(a, 0);
        const local = formatMillis(ms, "yyyy-MM-dd'T'HH:mm:ss.SSS", str(a, 1));
        return parseToMillis(local, "yyyy-MM-dd'T'HH:mm:ss.SSS", str(a, 2));
      },
    }),
  ];
  return fns;
}

function nullIf0(a: readonly unknown[], f: () => unknown): unknown {
  return a[0] === null ? null : f();
}

function maskPart(name: string, f: (s: string, n: number, m: (x: string) => string) => string): FunctionDef {
  const impl = (a: readonly unknown[]): unknown => {
    if (a[0] === null) return null;
    const n = a[1] === null ? 0 : num(a, 1);
    if (n < 0)
      throw new Error(`function ${name} requires a non-negative number of characters to mask or skip`);
    return f(str(a, 0), n, (x) => maskWith(x, a.slice(2)));
  };
  return {
    name,
    overloads: [2, 6].map((n) => ({
      params: [S, I, ...new Array<SqlType>(n - 2).fill(S)],
      returns: S,
      nullPropagating: false,
      invoke: impl,
    })),
  };
}

function padBytes(b: Uint8Array, len: number, padding: Uint8Array, left: boolean): Uint8Array | null {
  if (len < 0 || padding.length === 0) return null;
  if (b.length >= len) return b.slice(0, len);
  const fill: number[] = [];
  while (fill.length < len - b.length) fill.push(...padding);
  const f = Uint8Array.from(fill.slice(0, len - b.length));
  return left ? Buffer.concat([f, b]) : Buffer.concat([b, f]);
}

function joinText(x: unknown): string {
  if (x === null) return 'null';
  if (typeof x === 'number' && !Number.isInteger(x)) return javaDoubleToString(x);
  if (x instanceof Decimal) return x.toPlainString();
  return primitiveText(x);
}

function series(start: number, end: number, step: number): number[] {
  if (step === 0) throw new Error('GENERATE_SERIES step cannot be zero');
  if ((end > start && step < 0) || (end < start && step > 0)) {
    throw new Error('GENERATE_SERIES step has wrong sign');
  }
  const out: number[] = [];
  if (step > 0) for (let x = start; x <= end; x += step) out.push(x);
  else for (let x = start; x >= end; x += step) out.push(x);
  return out;
}

function uniformExtreme(name: string, sign: 1 | -1): FunctionDef {
  return {
    name,
    overloads: [],
    resolve: (args) => {
      const t = commonType(args);
      if (t === undefined || t.type === 'NULL') return undefined;
      const rt = t;
      return {
        returnType: rt,
        paramTypes: args.map(() => rt),
        nullPropagating: false,
        invoke: (a) => {
          const vals = a.filter((x) => x !== null);
          if (vals.length === 0) return null;
          return vals.reduce((x, y) => (compareValues(y, x) * sign > 0 ? y : x));
        },
      };
    },
  };
}

/** The registry every engine starts with. */
export function createFunctionRegistry(extra: readonly FunctionDef[] = []): FunctionRegistry {
  const r = new FunctionRegistry();
  for (const f of builtinFunctions()) r.register(f);
  for (const f of extra) r.register(f);
  return r;
}
