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
import { SerdeError, unwrapWire, wrapWire, type RowSerde } from './serde.ts';

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
      if (schemaId === undefined) return payload;
      return wrapWire(await schemaId(), payload);
    },
    deserialize(bytes) {
      if (bytes === null) return Promise.resolve(null);
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
        const node = parseJsonFast(Buffer.from(payload).toString('utf8'));
        if (node === null) return Promise.resolve(null);
        if (unwrapped && single !== undefined) return Promise.resolve([fromJson(node, single.type)]);
        if (!isJsonObject(node)) {
          fail(node, { type: 'STRUCT', fields: columns });
        }
        const s = readStruct(node, columns);
        return Promise.resolve(columns.map((c) => s[c.name] ?? null));
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new SerdeError(String(error)));
      }
    },
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
