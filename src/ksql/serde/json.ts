/**
 * JSON and JSON_SR formats (ksqlDB's KsqlJsonDeserializer coercions): object fields match by exact
 * name first, then by the upper-cased key; numbers and strings coerce into the declared type.
 * JSON_SR adds the Confluent wire header and registers a JSON schema.
 */
import { Decimal, decimalValue, primitiveText } from '../schema/decimal.ts';
import type { Column } from '../schema/logical.ts';
import type { SqlType } from '../schema/types.ts';
import { javaDoubleToString, type Struct } from '../schema/values.ts';
import {
  isJsonObject,
  JsonNumber,
  parseJsonFast,
  stringifyJson,
  type JsonObject,
  type JsonValue,
} from './json-text.ts';
import { asBuffer, SerdeError, syncSerde, unwrapWire, wrapWire, type RowSerde } from './serde.ts';

function fail(node: JsonValue, t: SqlType): never {
  const source =
    node === null
      ? 'NullNode'
      : node instanceof JsonNumber
        ? node.isIntegral()
          ? 'IntNode'
          : 'DecimalNode'
        : typeof node === 'string'
          ? 'TextNode'
          : typeof node === 'boolean'
            ? 'BooleanNode'
            : Array.isArray(node)
              ? 'ArrayNode'
              : 'ObjectNode';
  throw new SerdeError(`Can't convert type. sourceType: ${source}, requiredType: ${t.type}`);
}

function javaInt(text: string): number {
  if (!/^[+-]?\d+$/.test(text)) throw new SerdeError("Can't coerce string to type. targetType: INTEGER");
  const n = Number(text);
  if (n > 2147483647 || n < -2147483648)
    throw new SerdeError("Can't coerce string to type. targetType: INTEGER");
  return n;
}

/** Jackson's asText() for scalars; arrays of strings as Java's List.toString. */
function asText(node: JsonValue): string {
  if (node instanceof JsonNumber) return node.text;
  if (typeof node === 'string') return node;
  if (typeof node === 'boolean') return node ? 'true' : 'false';
  if (node === null) return 'null';
  if (Array.isArray(node)) return `[${node.map((x) => (x === null ? 'null' : asText(x))).join(', ')}]`;
  return stringifyJson(node);
}

/** JSON value → ksqlDB value of type `t`. */
export function fromJson(node: JsonValue | undefined, t: SqlType): unknown {
  if (node === null || node === undefined) return null;
  switch (t.type) {
    case 'BOOLEAN':
      if (typeof node === 'boolean') return node;
      return fail(node, t);
    case 'INTEGER':
      if (node instanceof JsonNumber) {
        if (node.isIntegral()) return Number(BigInt.asIntN(32, BigInt(node.text)));
        return Math.trunc(node.toNumber()) | 0;
      }
      if (typeof node === 'string') return javaInt(node);
      return fail(node, t);
    case 'BIGINT':
      if (node instanceof JsonNumber) {
        if (node.isIntegral()) return BigInt.asIntN(64, BigInt(node.text));
        return BigInt(Math.trunc(node.toNumber()));
      }
      if (typeof node === 'string') {
        if (!/^[+-]?\d+$/.test(node)) throw new SerdeError("Can't coerce string to type. targetType: BIGINT");
        return BigInt.asIntN(64, BigInt(node));
      }
      return fail(node, t);
    case 'TIMESTAMP':
    case 'DATE':
    case 'TIME':
      if (node instanceof JsonNumber) return Math.trunc(node.toNumber());
      if (typeof node === 'string' && /^[+-]?\d+$/.test(node)) return Number(node);
      return fail(node, t);
    case 'DOUBLE':
      if (node instanceof JsonNumber) return node.toNumber();
      if (typeof node === 'string') {
        const n = Number(node);
        if (node.trim() === '' || (Number.isNaN(n) && node.trim() !== 'NaN')) {
          throw new SerdeError("Can't coerce string to type. targetType: DOUBLE");
        }
        return n;
      }
      return fail(node, t);
    case 'DECIMAL': {
      let d: Decimal;
      if (node instanceof JsonNumber) d = Decimal.parse(node.text);
      else if (typeof node === 'string') d = Decimal.parse(node);
      else return fail(node, t);
      if (d.precision() - d.scale > t.precision - t.scale) {
        throw new SerdeError(
          `Cannot fit decimal '${d.toPlainString()}' into DECIMAL(${t.precision}, ${t.scale})`,
        );
      }
      return d;
    }
    case 'STRING':
      return asText(node);
    case 'BYTES':
      if (typeof node === 'string') return Uint8Array.from(Buffer.from(node, 'base64'));
      return fail(node, t);
    case 'ARRAY':
      if (!Array.isArray(node)) return fail(node, t);
      return node.map((x) => fromJson(x, t.item));
    case 'MAP': {
      if (!isJsonObject(node)) return fail(node, t);
      const m = new Map<unknown, unknown>();
      for (const k of Object.keys(node)) m.set(k, fromJson(node[k], t.value));
      return m;
    }
    case 'STRUCT': {
      if (!isJsonObject(node)) return fail(node, t);
      return readStruct(node, t.fields);
    }
  }
}

function upperKeys(obj: JsonObject): Map<string, JsonValue> {
  const m = new Map<string, JsonValue>();
  for (const k of Object.keys(obj)) m.set(k.toUpperCase(), obj[k] ?? null);
  return m;
}

function readStruct(obj: JsonObject, fields: readonly { name: string; type: SqlType }[]): Struct {
  const upper = upperKeys(obj);
  const s: Struct = {};
  for (const f of fields) {
    const v = Object.hasOwn(obj, f.name) ? obj[f.name] : upper.get(f.name);
    s[f.name] = fromJson(v, f.type);
  }
  return s;
}

/** ksqlDB value → JSON value (numbers exact; doubles in Java's text form). */
export function toJson(v: unknown, t: SqlType): JsonValue {
  if (v === null || v === undefined) return null;
  switch (t.type) {
    case 'BOOLEAN':
      return v as boolean;
    case 'INTEGER':
    case 'TIMESTAMP':
    case 'DATE':
    case 'TIME':
      return new JsonNumber(primitiveText(v));
    case 'BIGINT':
      return new JsonNumber((v as bigint).toString());
    case 'DOUBLE': {
      const d = v as number;
      if (!Number.isFinite(d)) return javaDoubleToString(d);
      return new JsonNumber(javaDoubleToString(d));
    }
    case 'DECIMAL':
      return new JsonNumber(decimalValue(v).toString());
    case 'STRING':
      return v as string;
    case 'BYTES':
      return Buffer.from(v as Uint8Array).toString('base64');
    case 'ARRAY':
      return (v as unknown[]).map((x) => toJson(x, t.item));
    case 'MAP': {
      const o: JsonObject = {};
      for (const [k, x] of v as Map<unknown, unknown>) {
        Object.defineProperty(o, String(k), { value: toJson(x, t.value), enumerable: true, writable: true });
      }
      return o;
    }
    case 'STRUCT': {
      const s = v as Struct;
      const o: JsonObject = {};
      for (const f of t.fields) {
        Object.defineProperty(o, f.name, {
          value: toJson(s[f.name], f.type),
          enumerable: true,
          writable: true,
        });
      }
      return o;
    }
  }
}

// ---- fast paths ----------------------------------------------------------------------------------
//
// Reading with parseJsonFast keeps every number's source text (a reviver call and a JsonNumber per
// number), which made JSON parsing the largest cost of a JSON query. Most numbers do not need their
// text: a DOUBLE is the same double either way, and an integer that is a safe integer in a double
// reads the same as from its text. So values are first read from the plain JSON.parse result; where
// the text could matter (a number read as STRING or DECIMAL, an integer beyond 2^53, anything
// unusual), the reader gives up (NEEDS_TEXT) and the record is read again the exact way. Either way
// the result is what fromJson gives.

const NEEDS_TEXT: unique symbol = Symbol('needs the exact reader');
type FastReader = (x: unknown) => unknown;

/** Reads a plain JSON.parse value as type `t`, or NEEDS_TEXT when only fromJson can tell. */
function fastReader(t: SqlType): FastReader {
  if (t.type === 'STRING') {
    // asText: strings as they are, booleans as words; numbers keep their text, containers too.
    return (x) =>
      typeof x === 'string'
        ? x
        : x === null || x === undefined
          ? null
          : typeof x === 'boolean'
            ? fromJson(x, t)
            : NEEDS_TEXT;
  }
  const fromNumber = numberReader(t);
  const container = containerReader(t);
  return (x) => {
    if (x === null || x === undefined) return null;
    if (typeof x === 'number') return fromNumber(x);
    // Strings and booleans are the same values in both readers: fromJson itself converts them.
    if (typeof x === 'string' || typeof x === 'boolean') return fromJson(x, t);
    return container(x);
  };
}

function numberReader(t: SqlType): (x: number) => unknown {
  switch (t.type) {
    case 'INTEGER':
      // Integral text wraps like Java's int; fractional text truncates: the same for a safe integer.
      return (x) =>
        Number.isSafeInteger(x)
          ? x | 0
          : Number.isInteger(x) || !Number.isFinite(x)
            ? NEEDS_TEXT
            : Math.trunc(x) | 0;
    case 'BIGINT':
      return (x) =>
        Number.isSafeInteger(x)
          ? BigInt(x)
          : Number.isInteger(x) || !Number.isFinite(x)
            ? NEEDS_TEXT
            : BigInt(Math.trunc(x));
    case 'TIMESTAMP':
    case 'DATE':
    case 'TIME':
      return (x) => (Number.isFinite(x) ? Math.trunc(x) : NEEDS_TEXT);
    case 'DOUBLE':
      return (x) => x;
    default:
      // STRING and DECIMAL keep the text; other types refuse numbers with a message naming the node.
      return () => NEEDS_TEXT;
  }
}

function isPlainObject(x: object): x is Record<string, unknown> {
  return !Array.isArray(x);
}

function containerReader(t: SqlType): (x: object) => unknown {
  switch (t.type) {
    case 'ARRAY': {
      const item = fastReader(t.item);
      return (x) => {
        if (!Array.isArray(x)) return NEEDS_TEXT;
        const out = new Array<unknown>(x.length);
        for (let i = 0; i < x.length; i++) {
          const v = item(x[i]);
          if (v === NEEDS_TEXT) return NEEDS_TEXT;
          out[i] = v;
        }
        return out;
      };
    }
    case 'MAP': {
      const value = fastReader(t.value);
      return (x) => {
        if (!isPlainObject(x)) return NEEDS_TEXT;
        const m = new Map<unknown, unknown>();
        for (const k of Object.keys(x)) {
          const v = value(x[k]);
          if (v === NEEDS_TEXT) return NEEDS_TEXT;
          m.set(k, v);
        }
        return m;
      };
    }
    case 'STRUCT': {
      const fields = t.fields.map((f) => ({ name: f.name, read: fastReader(f.type) }));
      return (x) => {
        if (!isPlainObject(x)) return NEEDS_TEXT;
        let upper: Map<string, unknown> | undefined;
        const s: Struct = {};
        for (const f of fields) {
          const v = f.read(Object.hasOwn(x, f.name) ? x[f.name] : (upper ??= upperCased(x)).get(f.name));
          if (v === NEEDS_TEXT) return NEEDS_TEXT;
          s[f.name] = v;
        }
        return s;
      };
    }
    default:
      return () => NEEDS_TEXT;
  }
}

/** Like upperKeys, over a plain JSON.parse object. */
function upperCased(obj: Record<string, unknown>): Map<string, unknown> {
  const m = new Map<string, unknown>();
  for (const k of Object.keys(obj)) m.set(k.toUpperCase(), obj[k] ?? null);
  return m;
}

/** Reads a record's columns from a plain JSON.parse value, or NEEDS_TEXT. */
function fastRowReader(columns: readonly Column[], unwrapped: boolean): (node: unknown) => unknown {
  const single = columns[0];
  if (unwrapped && single !== undefined) {
    const read = fastReader(single.type);
    return (node) => {
      const v = read(node);
      return v === NEEDS_TEXT ? NEEDS_TEXT : [v];
    };
  }
  // JSON.parse never gives undefined, so for a name no object inherits, `node[name] !== undefined`
  // says what Object.hasOwn says, with one lookup instead of two.
  const readers = columns.map((c) => ({
    name: c.name,
    inherited: c.name in Object.prototype,
    read: fastReader(c.type),
  }));
  return (node) => {
    if (typeof node !== 'object' || node === null || !isPlainObject(node)) return NEEDS_TEXT;
    let upper: Map<string, unknown> | undefined;
    const row = new Array<unknown>(readers.length);
    for (let i = 0; i < readers.length; i++) {
      const c = readers[i] as (typeof readers)[number];
      const own = c.inherited ? (Object.hasOwn(node, c.name) ? node[c.name] : undefined) : node[c.name];
      const v = c.read(own !== undefined ? own : (upper ??= upperCased(node)).get(c.name));
      if (v === NEEDS_TEXT) return NEEDS_TEXT;
      row[i] = v;
    }
    return row;
  };
}

/** `stringifyJson(toJson(v, t))`, written directly for the common types. */
export function jsonWriter(t: SqlType): (v: unknown) => string {
  const generic = (v: unknown): string => stringifyJson(toJson(v, t));
  let write: (v: unknown) => string;
  switch (t.type) {
    case 'BOOLEAN':
      write = (v) => (v === true ? 'true' : v === false ? 'false' : generic(v));
      break;
    case 'INTEGER':
    case 'TIMESTAMP':
    case 'DATE':
    case 'TIME':
      write = primitiveText;
      break;
    case 'BIGINT':
      write = (v) => (v as bigint).toString();
      break;
    case 'DOUBLE':
      write = (v) => {
        const d = v as number;
        return Number.isFinite(d) ? javaDoubleToString(d) : JSON.stringify(javaDoubleToString(d));
      };
      break;
    case 'DECIMAL':
      write = (v) => decimalValue(v).toString();
      break;
    case 'STRING':
      write = (v) => (typeof v === 'string' ? JSON.stringify(v) : generic(v));
      break;
    case 'ARRAY': {
      const item = jsonWriter(t.item);
      write = (v) => `[${(v as unknown[]).map(item).join(',')}]`;
      break;
    }
    default:
      write = generic;
  }
  return (v) => (v === null || v === undefined ? 'null' : write(v));
}

/** Whether a property name is an array index (objects list those first, so field order would change). */
function isArrayIndex(name: string): boolean {
  return /^(?:0|[1-9]\d*)$/.test(name) && Number(name) < 4294967295;
}

export interface JsonSerdeOptions {
  readonly columns: readonly Column[];
  readonly unwrapped: boolean;
  /** JSON_SR: the schema id written in the wire header (resolved lazily). */
  readonly schemaId?: () => Promise<number>;
  /** JSON_SR with a pre-registered schema: its top-level properties, written as null when not columns. */
  readonly schemaFields?: () => Promise<readonly string[]>;
}

export function jsonSerde(options: JsonSerdeOptions): RowSerde {
  const { columns, unwrapped, schemaId } = options;
  const single = columns[0];

  /** The exact reader (numbers with their source text). */
  const readExact = (text: string): unknown[] | null => {
    const node = parseJsonFast(text);
    if (node === null) return null;
    if (unwrapped && single !== undefined) return [fromJson(node, single.type)];
    if (!isJsonObject(node)) {
      fail(node, { type: 'STRUCT', fields: columns });
    }
    const s = readStruct(node, columns);
    return columns.map((c) => s[c.name] ?? null);
  };
  const readFast = fastRowReader(columns, unwrapped);
  const read = (text: string): unknown[] | null => {
    let node: unknown;
    try {
      node = JSON.parse(text);
    } catch {
      return readExact(text); // NaN and other text Jackson accepts, and the error messages
    }
    if (node === null) return null;
    try {
      const row = readFast(node);
      if (row !== NEEDS_TEXT) return row as unknown[];
    } catch {
      // the exact reader fails the same way, with its own message
    }
    return readExact(text);
  };
  const deserializeSync = (bytes: Uint8Array | null): unknown[] | null => {
    if (bytes === null) return null;
    try {
      let payload: Uint8Array = bytes;
      if (schemaId !== undefined) {
        if (bytes.length === 0 || bytes[0] !== 0) {
          throw new SerdeError(
            'Got unexpected JSON serialization format that did not start with the magic byte. If this stream was not serialized using the JsonSchemaConverter, then make sure the stream is declared with JSON format (not JSON_SR).',
          );
        }
        payload = unwrapWire(bytes).payload;
      }
      return read(asBuffer(payload).toString());
    } catch (error) {
      throw error instanceof Error ? error : new SerdeError(String(error));
    }
  };

  const fieldWriters =
    unwrapped || columns.some((c) => isArrayIndex(c.name))
      ? undefined
      : columns.map((c) => ({ prefix: `${JSON.stringify(c.name)}:`, write: jsonWriter(c.type) }));
  const singleWriter = single === undefined ? undefined : jsonWriter(single.type);
  /** The JSON text of a row (null: no record), like stringifyJson over toJson's object. */
  const text = (row: readonly unknown[]): string | null => {
    if (unwrapped && single !== undefined && singleWriter !== undefined) {
      const v = row[0];
      return v === null || v === undefined ? null : singleWriter(v);
    }
    if (fieldWriters !== undefined) {
      let out = '{';
      for (let i = 0; i < fieldWriters.length; i++) {
        const f = fieldWriters[i] as (typeof fieldWriters)[number];
        out += (i === 0 ? f.prefix : `,${f.prefix}`) + f.write(row[i]);
      }
      return `${out}}`;
    }
    const o: JsonObject = {};
    columns.forEach((c, i) => {
      Object.defineProperty(o, c.name, { value: toJson(row[i], c.type), enumerable: true, writable: true });
    });
    return stringifyJson(o);
  };

  if (schemaId === undefined) {
    const serializeSync = (row: readonly unknown[] | null): Buffer | null => {
      if (row === null) return null;
      const t = text(row);
      return t === null ? null : Buffer.from(t, 'utf8');
    };
    return syncSerde(serializeSync, deserializeSync);
  }
  return {
    async serialize(row) {
      if (row === null) return null;
      let node: JsonValue;
      if (unwrapped && single !== undefined) {
        node = toJson(row[0], single.type);
      } else {
        const o: JsonObject = {};
        columns.forEach((c, i) => {
          Object.defineProperty(o, c.name, {
            value: toJson(row[i], c.type),
            enumerable: true,
            writable: true,
          });
        });
        for (const f of (await options.schemaFields?.()) ?? []) {
          if (!Object.hasOwn(o, f))
            Object.defineProperty(o, f, { value: null, enumerable: true, writable: true });
        }
        node = o;
      }
      if (unwrapped && node === null) return null;
      const payload = Buffer.from(stringifyJson(node), 'utf8');
      return wrapWire(await schemaId(), payload);
    },
    deserialize(bytes) {
      try {
        return Promise.resolve(deserializeSync(bytes));
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new SerdeError(String(error)));
      }
    },
    deserializeSync,
  };
}

/** A JSON schema for JSON_SR (connect-style, as ksqlDB registers it). */
export function jsonSchemaFor(t: SqlType): Record<string, unknown> {
  const nullable = (inner: Record<string, unknown>): Record<string, unknown> => ({
    oneOf: [{ type: 'null' }, inner],
  });
  switch (t.type) {
    case 'BOOLEAN':
      return nullable({ type: 'boolean' });
    case 'INTEGER':
      return nullable({ type: 'integer', 'connect.type': 'int32' });
    case 'BIGINT':
      return nullable({ type: 'integer', 'connect.type': 'int64' });
    case 'DOUBLE':
      return nullable({ type: 'number', 'connect.type': 'float64' });
    case 'DECIMAL':
      return nullable({
        type: 'number',
        title: 'org.apache.kafka.connect.data.Decimal',
        'connect.version': 1,
        'connect.type': 'bytes',
        'connect.parameters': { scale: String(t.scale), 'connect.decimal.precision': String(t.precision) },
      });
    case 'STRING':
      return nullable({ type: 'string' });
    case 'BYTES':
      return nullable({ type: 'string', 'connect.type': 'bytes' });
    case 'TIMESTAMP':
      return nullable({
        type: 'integer',
        title: 'org.apache.kafka.connect.data.Timestamp',
        'connect.version': 1,
        'connect.type': 'int64',
      });
    case 'DATE':
      return nullable({
        type: 'integer',
        title: 'org.apache.kafka.connect.data.Date',
        'connect.type': 'int32',
      });
    case 'TIME':
      return nullable({
        type: 'integer',
        title: 'org.apache.kafka.connect.data.Time',
        'connect.type': 'int32',
      });
    case 'ARRAY':
      return nullable({ type: 'array', items: jsonSchemaFor(t.item) });
    case 'MAP':
      return nullable({
        type: 'object',
        additionalProperties: jsonSchemaFor(t.value),
        'connect.type': 'map',
      });
    case 'STRUCT':
      return nullable(structSchema(t.fields));
  }
}

function structSchema(fields: readonly { name: string; type: SqlType }[]): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  fields.forEach((f, i) => {
    properties[f.name] = { ...jsonSchemaFor(f.type), 'connect.index': i };
  });
  return { type: 'object', properties };
}

export function jsonSchemaForColumns(
  columns: readonly Column[],
  unwrapped: boolean,
): Record<string, unknown> {
  const single = columns[0];
  if (unwrapped && single !== undefined) return jsonSchemaFor(single.type);
  return structSchema(columns);
}
