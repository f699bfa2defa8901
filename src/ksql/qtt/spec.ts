/**
 * The QTT side of serialization: turns the JSON "spec" values of case files into record bytes and
 * reads produced bytes back into spec values, independently of the engine's own serdes where ksqlDB's
 * test framework is independent too (ValueSpec*SerdeSupplier, ConnectSerdeSupplier).
 *
 * Spec values read back: JSON integers → number (fits int) or bigint; JSON decimals → Decimal;
 * Avro int → number, long → bigint, float/double → number, decimal → Decimal, bytes → base64 string.
 */
import { Decimal } from '../schema/decimal.ts';
import type { Column } from '../schema/logical.ts';
import type { SqlType } from '../schema/types.ts';
import {
  avroSchemaForColumns,
  avroType,
  bigIntToBuffer,
  bufferToBigInt,
  type AvroSchema,
  type AvroSchemaObject,
} from '../serde/avro.ts';
import { DEFAULT_VALUE_SCHEMA_NAME, defaultKeySchemaName, type FormatInfo } from '../serde/formats.ts';
import { isJsonObject, JsonNumber, parseJson, stringifyJson, type JsonValue } from '../serde/json-text.ts';
import { decodeKafka, encodeKafka } from '../serde/kafka.ts';
import { keySubject, valueSubject, type SchemaRegistryPort } from '../serde/registry.ts';
import { unwrapWire, wrapWire } from '../serde/serde.ts';
import { unsupported } from '../errors.ts';
import {
  decodeMessage,
  decodeMessageIndexes,
  defaultScalar,
  encodeMessage,
  encodeMessageIndexes,
  ProtoSchema,
  SCALARS,
  type ProtoMessage,
} from '../serde/proto-schema.ts';
import { loadProtoSchema, protoSchemaForColumns } from '../serde/protobuf.ts';

/** A value read back from a topic, typed the way ksqlDB's test framework sees it. */
export type Spec = null | boolean | number | bigint | string | Decimal | Spec[] | { [k: string]: Spec };

export interface SideInfo {
  readonly topic: string;
  readonly isKey: boolean;
  readonly format: FormatInfo;
  /** Columns of the key or value (from the source using the topic), when known. */
  readonly columns?: readonly Column[];
  readonly unwrapped: boolean;
  readonly sourceName?: string;
}

function specText(spec: JsonValue): string {
  if (spec instanceof JsonNumber) return spec.text;
  if (typeof spec === 'string') return spec;
  if (typeof spec === 'boolean') return spec ? 'true' : 'false';
  return stringifyJson(spec);
}

/** Spec → ksqlDB value for the KAFKA format (coercing like DefaultSqlValueCoercer). */
function specToKafkaValue(spec: JsonValue, t: SqlType): unknown {
  const text = specText(spec);
  switch (t.type) {
    case 'INTEGER':
      return Number(text);
    case 'BIGINT':
      return BigInt(text.replace(/\.0+$/, ''));
    case 'DOUBLE':
      return Number(text);
    case 'BYTES':
      return Buffer.from(text, 'base64');
    default:
      return text;
  }
}

function collectNamed(s: AvroSchema, ns: string | undefined, out: Map<string, AvroSchema>): void {
  if (Array.isArray(s)) {
    for (const b of s) collectNamed(b, ns, out);
    return;
  }
  if (typeof s !== 'object') return;
  const namespace = s.namespace ?? ns;
  if (typeof s.name === 'string') {
    out.set(s.name, s);
    if (namespace !== undefined) out.set(`${namespace}.${s.name}`, s);
  }
  if (typeof s.type === 'object') collectNamed(s.type, namespace, out);
  for (const f of s.fields ?? []) collectNamed(f.type, namespace, out);
  if (s.items !== undefined) collectNamed(s.items, namespace, out);
  if (s.values !== undefined) collectNamed(s.values, namespace, out);
}

function baseType(s: AvroSchema): string {
  if (typeof s === 'string') return s;
  if (Array.isArray(s)) return 'union';
  return typeof s.type === 'string' ? s.type : baseType(s.type);
}

class AvroSpec {
  private readonly named = new Map<string, AvroSchema>();

  constructor(schema: AvroSchema) {
    collectNamed(schema, undefined, this.named);
  }

  private resolve(s: AvroSchema): AvroSchema {
    if (typeof s === 'string' && this.named.has(s)) return this.named.get(s) as AvroSchema;
    return s;
  }

  toAvro(spec: JsonValue, schema: AvroSchema): unknown {
    const s = this.resolve(schema);
    if (Array.isArray(s)) {
      if (spec === null) return null;
      const branches = s.filter((b) => this.resolve(b) !== 'null');
      const b = branches[0];
      if (b === undefined) return null;
      const v = this.toAvro(spec, b);
      if (branches.length > 1) {
        const r = this.resolve(b);
        const name = typeof r === 'string' ? r : ((r as AvroSchemaObject).name ?? baseType(r));
        return { [name]: v };
      }
      return v;
    }
    if (spec === null) return null;
    const o = typeof s === 'object' ? s : undefined;
    switch (baseType(s)) {
      case 'int':
        return Number(specText(spec));
      case 'long':
        return BigInt(specText(spec).replace(/\.0+$/, ''));
      case 'float':
      case 'double':
        return Number(specText(spec));
      case 'boolean':
        return specText(spec) === 'true';
      case 'string':
      case 'enum':
        return specText(spec);
      case 'bytes':
      case 'fixed':
        if (o?.logicalType === 'decimal') {
          return bigIntToBuffer(Decimal.parse(specText(spec)).setScale(o.scale ?? 0, 'HALF_UP').unscaled);
        }
        return Buffer.from(specText(spec), 'base64');
      case 'array': {
        const items = this.resolve(o?.items ?? 'null');
        const entry = typeof items === 'object' && !Array.isArray(items) ? items : undefined;
        if (isJsonObject(spec) && entry?.fields !== undefined) {
          const kf = entry.fields.find((f) => f.name === 'key');
          const vf = entry.fields.find((f) => f.name === 'value');
          return Object.keys(spec).map((k) => ({
            key: kf === undefined ? k : this.toAvro(k, kf.type),
            value: vf === undefined ? null : this.toAvro(spec[k] ?? null, vf.type),
          }));
        }
        if (!Array.isArray(spec)) throw new Error(`expected an array for ${JSON.stringify(o)}`);
        return spec.map((x) => this.toAvro(x, o?.items ?? 'null'));
      }
      case 'map': {
        if (!isJsonObject(spec)) throw new Error('expected an object for an Avro map');
        const out: Record<string, unknown> = {};
        for (const k of Object.keys(spec)) out[k] = this.toAvro(spec[k] ?? null, o?.values ?? 'null');
        return out;
      }
      case 'record': {
        if (!isJsonObject(spec)) throw new Error('expected an object for an Avro record');
        const upper = new Map(Object.keys(spec).map((k) => [k.toUpperCase(), k]));
        const rec: Record<string, unknown> = {};
        for (const f of o?.fields ?? []) {
          const k = upper.get(f.name.toUpperCase());
          rec[f.name] =
            k === undefined
              ? f.default === undefined
                ? null
                : f.default
              : this.toAvro(spec[k] ?? null, f.type);
        }
        return rec;
      }
      default:
        return null;
    }
  }

  toSpec(v: unknown, schema: AvroSchema): Spec {
    if (v === null || v === undefined) return null;
    const s = this.resolve(schema);
    if (Array.isArray(s)) {
      const branches = s.filter((b) => this.resolve(b) !== 'null');
      if (branches.length === 1) return this.toSpec(v, branches[0] as AvroSchema);
      const obj = v as Record<string, unknown>;
      const k = Object.keys(obj)[0] ?? '';
      const b = branches.find((x) => {
        const r = this.resolve(x);
        return (typeof r === 'string' ? r : ((r as AvroSchemaObject).name ?? baseType(r))) === k;
      });
      return this.toSpec(obj[k], b ?? 'null');
    }
    const o = typeof s === 'object' ? s : undefined;
    switch (baseType(s)) {
      case 'int':
        return v as number;
      case 'long':
        return typeof v === 'bigint' ? v : BigInt(v as number);
      case 'float':
        return Math.fround(v as number);
      case 'double':
        return v as number;
      case 'boolean':
        return v as boolean;
      case 'string':
      case 'enum':
        return v as string;
      case 'bytes':
      case 'fixed':
        if (o?.logicalType === 'decimal') return new Decimal(bufferToBigInt(v as Buffer), o.scale ?? 0);
        return Buffer.from(v as Buffer).toString('base64');
      case 'array': {
        const items = this.resolve(o?.items ?? 'null');
        const entry = typeof items === 'object' && !Array.isArray(items) ? items : undefined;
        const kf = entry?.fields?.find((f) => f.name === 'key');
        const vf = entry?.fields?.find((f) => f.name === 'value');
        if (
          entry?.['connect.internal.type'] === 'MapEntry' ||
          (kf !== undefined && vf !== undefined && entry?.fields?.length === 2)
        ) {
          const out: { [k: string]: Spec } = {};
          for (const e of v as Record<string, unknown>[]) {
            const key = kf === undefined ? null : this.toSpec(e.key, kf.type);
            out[showKey(key)] = vf === undefined ? null : this.toSpec(e.value, vf.type);
          }
          return out;
        }
        return (v as unknown[]).map((x) => this.toSpec(x, o?.items ?? 'null'));
      }
      case 'map': {
        const out: { [k: string]: Spec } = {};
        for (const [k, x] of Object.entries(v as Record<string, unknown>))
          out[k] = this.toSpec(x, o?.values ?? 'null');
        return out;
      }
      case 'record': {
        const out: { [k: string]: Spec } = {};
        const rec = v as Record<string, unknown>;
        for (const f of o?.fields ?? []) out[f.name] = this.toSpec(rec[f.name], f.type);
        return out;
      }
      default:
        return null;
    }
  }
}

function generatedAvroSchema(side: SideInfo): AvroSchema | undefined {
  if (side.columns === undefined) return undefined;
  const name =
    side.format.properties.fullSchemaName ??
    (side.isKey ? defaultKeySchemaName(side.sourceName ?? side.topic) : DEFAULT_VALUE_SCHEMA_NAME);
  return avroSchemaForColumns(side.columns, side.unwrapped, name, side.isKey);
}

/** Serializes a spec value as ksqlDB's test framework would for the topic's format. */
export async function specToBytes(
  spec: JsonValue | undefined,
  side: SideInfo,
  registry: SchemaRegistryPort,
): Promise<Buffer | null> {
  if (spec === null || spec === undefined) return null;
  switch (side.format.format) {
    case 'DELIMITED':
      return Buffer.from(specText(spec), 'utf8');
    case 'KAFKA': {
      const t = side.columns?.[0]?.type;
      if (t === undefined) return Buffer.from(specText(spec), 'utf8');
      return encodeKafka(specToKafkaValue(spec, t), t);
    }
    case 'JSON':
      return Buffer.from(stringifyJson(spec), 'utf8');
    case 'JSON_SR':
      return wrapWire(1, Buffer.from(stringifyJson(spec), 'utf8'));
    case 'AVRO': {
      const subject = side.isKey ? keySubject(side.topic) : valueSubject(side.topic);
      const latest = await registry.latest(subject);
      let schema: AvroSchema;
      let id: number;
      if (latest !== undefined && latest.schema.schemaType === 'AVRO') {
        schema = JSON.parse(latest.schema.schema) as AvroSchema;
        id = latest.id;
      } else {
        const generated = generatedAvroSchema(side);
        if (generated === undefined) throw new Error(`no Avro schema for ${subject}`);
        schema = generated;
        id = await registry.register(subject, { schemaType: 'AVRO', schema: JSON.stringify(schema) });
      }
      const value = new AvroSpec(schema).toAvro(spec, schema);
      return wrapWire(id, avroType(schema).toBuffer(value));
    }
    case 'PROTOBUF':
    case 'PROTOBUF_NOSR': {
      const { schema, id } = await protoWriterSchema(side, registry);
      const message = schema.message(
        side.format.format === 'PROTOBUF' ? side.format.properties.fullSchemaName : undefined,
      );
      const payload = encodeMessage(schema, message, specToProto(schema, message, spec));
      if (side.format.format === 'PROTOBUF_NOSR') return payload;
      return wrapWire(id, Buffer.concat([encodeMessageIndexes(schema.messageIndexes(message)), payload]));
    }
    case 'NONE':
      return null;
    default:
      throw unsupported(`${String(side.format.format)} test data`);
  }
}

async function protoWriterSchema(
  side: SideInfo,
  registry: SchemaRegistryPort,
): Promise<{ schema: ProtoSchema; id: number }> {
  const generatedText = (): string => {
    if (side.columns === undefined) throw new Error(`no protobuf schema for ${side.topic}`);
    return protoSchemaForColumns(side.columns, side.format.properties.fullSchemaName ?? 'ConnectDefault1');
  };
  if (side.format.format === 'PROTOBUF_NOSR') return { schema: new ProtoSchema(generatedText()), id: 0 };
  const subject = side.isKey ? keySubject(side.topic) : valueSubject(side.topic);
  const latest = await registry.latest(subject);
  if (latest !== undefined && latest.schema.schemaType === 'PROTOBUF') {
    return { schema: await loadProtoSchema(registry, latest.schema), id: latest.id };
  }
  const text = generatedText();
  const id = await registry.register(subject, { schemaType: 'PROTOBUF', schema: text });
  return { schema: new ProtoSchema(text), id };
}

const TIMESTAMP = 'google.protobuf.Timestamp';
const DATE = 'google.type.Date';
const TIME = 'google.type.TimeOfDay';
const DECIMAL = 'confluent.type.Decimal';

function specToProtoValue(schema: ProtoSchema, from: ProtoMessage, type: string, spec: JsonValue): unknown {
  if (spec === null) return null;
  if (SCALARS.has(type)) {
    const text = specText(spec);
    switch (type) {
      case 'int64':
      case 'uint64':
      case 'sint64':
      case 'fixed64':
      case 'sfixed64':
        return BigInt(text.replace(/\.0+$/, ''));
      case 'bool':
        return text === 'true';
      case 'string':
        return text;
      case 'bytes':
        return Buffer.from(text, 'base64');
      default:
        return Number(text);
    }
  }
  const t = schema.resolve(type, from);
  if (t.kind === 'enum') return specText(spec);
  switch (t.fullName) {
    case TIMESTAMP: {
      const ms = Number(specText(spec));
      const seconds = Math.floor(ms / 1000);
      return { seconds: BigInt(seconds), nanos: (ms - seconds * 1000) * 1_000_000 };
    }
    case DATE: {
      const d = new Date(Number(specText(spec)) * 86_400_000);
      return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
    }
    case TIME: {
      const ms = Number(specText(spec));
      return {
        hours: Math.floor(ms / 3_600_000),
        minutes: Math.floor((ms % 3_600_000) / 60_000),
        seconds: Math.floor((ms % 60_000) / 1000),
        nanos: (ms % 1000) * 1_000_000,
      };
    }
    case DECIMAL: {
      const d = Decimal.parse(specText(spec));
      return { value: bigIntToBuffer(d.unscaled), precision: d.precision(), scale: d.scale };
    }
    default:
      if (t.fullName.startsWith('google.protobuf.') && t.fullName.endsWith('Value')) {
        return { value: specToProtoValue(schema, t, t.fields[0]?.type ?? 'string', spec) };
      }
      return specToProto(schema, t, spec);
  }
}

function specToProto(schema: ProtoSchema, message: ProtoMessage, spec: JsonValue): Record<string, unknown> {
  if (!isJsonObject(spec)) throw new Error('expected an object for a protobuf message');
  const upper = new Map(Object.keys(spec).map((k) => [k.toUpperCase(), k]));
  const out: Record<string, unknown> = {};
  for (const f of message.fields) {
    const k = upper.get(f.name.toUpperCase());
    if (k === undefined) continue;
    const v = spec[k] ?? null;
    if (v === null) continue;
    if (f.map !== undefined) {
      const { key, value } = f.map;
      if (!isJsonObject(v)) throw new Error('expected an object for a protobuf map');
      out[f.name] = new Map(
        Object.keys(v).map((mk) => [
          specToProtoValue(schema, message, key, mk),
          specToProtoValue(schema, message, value, v[mk] ?? null),
        ]),
      );
    } else if (f.repeated) {
      if (!Array.isArray(v)) throw new Error('expected an array for a repeated protobuf field');
      out[f.name] = v.map((x) => specToProtoValue(schema, message, f.type, x));
    } else {
      out[f.name] = specToProtoValue(schema, message, f.type, v);
    }
  }
  return out;
}

function protoValueToSpec(schema: ProtoSchema, from: ProtoMessage, type: string, v: unknown): Spec {
  if (SCALARS.has(type)) {
    if (v === null || v === undefined) v = defaultScalar(type);
    if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
    if (type === 'float') return Math.fround(v as number);
    if (type === 'uint32' || type === 'fixed32') return BigInt(v as number);
    return v as Spec;
  }
  const t = schema.resolve(type, from);
  if (t.kind === 'enum') return (v ?? t.values.get(0) ?? '') as string;
  if (v === null || v === undefined) return null;
  const o = v as Record<string, unknown>;
  switch (t.fullName) {
    case TIMESTAMP:
      return (
        ((o.seconds as bigint | undefined) ?? 0n) * 1000n +
        BigInt(Math.floor(Number(o.nanos ?? 0) / 1_000_000))
      );
    case DATE:
      return Math.floor(
        Date.UTC(Number(o.year ?? 0), Number(o.month ?? 1) - 1, Number(o.day ?? 1)) / 86_400_000,
      );
    case TIME:
      return (
        ((Number(o.hours ?? 0) * 60 + Number(o.minutes ?? 0)) * 60 + Number(o.seconds ?? 0)) * 1000 +
        Math.floor(Number(o.nanos ?? 0) / 1_000_000)
      );
    case DECIMAL:
      return new Decimal(
        bufferToBigInt((o.value as Uint8Array | undefined) ?? new Uint8Array()),
        Number(o.scale ?? 0),
      );
    default:
      if (t.fullName.startsWith('google.protobuf.') && t.fullName.endsWith('Value')) {
        return protoValueToSpec(schema, t, t.fields[0]?.type ?? 'string', o.value);
      }
      return protoToSpec(schema, t, o);
  }
}

function protoToSpec(schema: ProtoSchema, message: ProtoMessage, obj: Record<string, unknown>): Spec {
  const out: { [k: string]: Spec } = {};
  for (const f of message.fields) {
    const v = obj[f.name];
    if (f.map !== undefined) {
      const m: { [k: string]: Spec } = {};
      for (const [k, x] of (v as Map<unknown, unknown> | undefined) ?? new Map<unknown, unknown>()) {
        m[String(k)] = protoValueToSpec(schema, message, f.map.value, x);
      }
      out[f.name] = m;
    } else if (f.repeated) {
      out[f.name] = ((v as unknown[] | undefined) ?? []).map((x) =>
        protoValueToSpec(schema, message, f.type, x),
      );
    } else {
      out[f.name] = protoValueToSpec(schema, message, f.type, v);
    }
  }
  return out;
}

function showKey(k: Spec): string {
  if (k === null) return 'null';
  if (typeof k === 'object') return JSON.stringify(k);
  return String(k);
}

function jsonToSpec(v: JsonValue): Spec {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (v instanceof JsonNumber) {
    if (v.isIntegral()) {
      const n = BigInt(v.text);
      return n >= -2147483648n && n <= 2147483647n ? Number(n) : n;
    }
    return Decimal.parse(v.text);
  }
  if (Array.isArray(v)) return v.map(jsonToSpec);
  const out: { [k: string]: Spec } = {};
  for (const k of Object.keys(v)) out[k] = jsonToSpec(v[k] ?? null);
  return out;
}

function doublesAsNumbers(v: Spec, t: SqlType | undefined): Spec {
  if (t === undefined || v === null) return v;
  if (t.type === 'DOUBLE' && v instanceof Decimal) return v.toNumber();
  if (t.type === 'ARRAY' && Array.isArray(v)) return v.map((x) => doublesAsNumbers(x, t.item));
  return v;
}

/** Reads produced bytes back into a spec value. */
export async function bytesToSpec(
  bytes: Buffer | null,
  side: SideInfo,
  registry: SchemaRegistryPort,
): Promise<Spec> {
  if (bytes === null) return null;
  switch (side.format.format) {
    case 'DELIMITED':
      return bytes.toString('utf8');
    case 'KAFKA': {
      const t = side.columns?.[0]?.type;
      if (t === undefined) return bytes.toString('utf8');
      const v = decodeKafka(bytes, t);
      return v instanceof Uint8Array ? Buffer.from(v).toString('base64') : (v as Spec);
    }
    case 'JSON':
      return jsonToSpec(parseJson(bytes.toString('utf8')));
    case 'JSON_SR': {
      // ksqlDB reads JSON_SR back with its schema: a DOUBLE is a double, whatever its text.
      const spec = jsonToSpec(parseJson(unwrapWire(bytes).payload.toString('utf8')));
      const columns = side.columns ?? [];
      if (side.unwrapped) return doublesAsNumbers(spec, columns[0]?.type);
      if (spec === null || typeof spec !== 'object' || Array.isArray(spec) || spec instanceof Decimal)
        return spec;
      const out: { [k: string]: Spec } = {};
      for (const [k, v] of Object.entries(spec)) {
        out[k] = doublesAsNumbers(v, columns.find((c) => c.name === k || c.name === k.toUpperCase())?.type);
      }
      return out;
    }
    case 'AVRO': {
      const { schemaId, payload } = unwrapWire(bytes);
      const schema = JSON.parse((await registry.getById(schemaId)).schema) as AvroSchema;
      const decoded: unknown = avroType(schema).fromBuffer(payload);
      return new AvroSpec(schema).toSpec(decoded, schema);
    }
    case 'PROTOBUF':
    case 'PROTOBUF_NOSR': {
      if (side.format.format === 'PROTOBUF_NOSR') {
        const { schema } = await protoWriterSchema(side, registry);
        const message = schema.message();
        return protoToSpec(schema, message, decodeMessage(schema, message, bytes));
      }
      const { schemaId, payload } = unwrapWire(bytes);
      const schema = await loadProtoSchema(registry, await registry.getById(schemaId));
      const idx = decodeMessageIndexes(payload);
      const message = schema.messageByIndexes(idx.indexes);
      return protoToSpec(schema, message, decodeMessage(schema, message, idx.rest));
    }
    case 'NONE':
      return null;
    default:
      throw unsupported(`${String(side.format.format)} test data`);
  }
}
