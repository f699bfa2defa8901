/**
 * PROTOBUF (schema registry, Confluent wire format with message indexes) and PROTOBUF_NOSR (bare
 * payload, schema from the columns) formats. Generated schemas follow ksqlDB/Connect: message
 * `ConnectDefault1`, fields numbered in column order, nested messages for structs, well-known types
 * for DECIMAL / TIMESTAMP / DATE / TIME. Reading follows proto3: absent scalars read as defaults.
 */
import { Decimal, decimalValue, primitiveText } from '../schema/decimal.ts';
import type { Column } from '../schema/logical.ts';
import { T, type SqlType } from '../schema/types.ts';
import type { Struct } from '../schema/values.ts';
import { bigIntToBuffer, bufferToBigInt } from './avro.ts';
import {
  decodeMessage,
  decodeMessageIndexes,
  defaultScalar,
  encodeMessage,
  encodeMessageIndexes,
  ProtoSchema,
  SCALARS,
  type ProtoField,
  type ProtoMessage,
  type ProtoObject,
} from './proto-schema.ts';
import type { RegisteredSchema, SchemaRegistryPort } from './registry.ts';
import { SerdeError, unwrapWire, wrapWire, type RowSerde } from './serde.ts';

const WKT = {
  timestamp: 'google.protobuf.Timestamp',
  date: 'google.type.Date',
  time: 'google.type.TimeOfDay',
  decimal: 'confluent.type.Decimal',
};

// ---- generation ------------------------------------------------------------------------------

/** The .proto text ksqlDB would register for these columns. */
export function protoSchemaForColumns(columns: readonly Column[], fullName = 'ConnectDefault1'): string {
  const imports = new Set<string>();
  let counter = 1;
  const dot = fullName.lastIndexOf('.');
  const pkg = dot < 0 ? undefined : fullName.slice(0, dot);
  const rootName = dot < 0 ? fullName : fullName.slice(dot + 1);

  const message = (
    name: string,
    fields: readonly { name: string; type: SqlType }[],
    indent: string,
  ): string => {
    const nested: string[] = [];
    const lines: string[] = [];
    fields.forEach((f, i) => {
      const { decl, defs } = fieldType(f.type, indent + '  ');
      nested.push(...defs);
      lines.push(
        `${indent}  ${decl.startsWith('repeated ') || decl.startsWith('map<') ? decl : decl} ${f.name} = ${i + 1};`,
      );
    });
    return [`${indent}message ${name} {`, ...lines, ...nested, `${indent}}`].join('\n');
  };

  const scalar = (t: SqlType): string | undefined => {
    switch (t.type) {
      case 'BOOLEAN':
        return 'bool';
      case 'INTEGER':
        return 'int32';
      case 'BIGINT':
        return 'int64';
      case 'DOUBLE':
        return 'double';
      case 'STRING':
        return 'string';
      case 'BYTES':
        return 'bytes';
      case 'DECIMAL':
        imports.add('confluent/type/decimal.proto');
        return WKT.decimal;
      case 'TIMESTAMP':
        imports.add('google/protobuf/timestamp.proto');
        return WKT.timestamp;
      case 'DATE':
        imports.add('google/type/date.proto');
        return WKT.date;
      case 'TIME':
        imports.add('google/type/timeofday.proto');
        return WKT.time;
      default:
        return undefined;
    }
  };

  const fieldType = (t: SqlType, indent: string): { decl: string; defs: string[] } => {
    const s = scalar(t);
    if (s !== undefined) return { decl: s, defs: [] };
    if (t.type === 'STRUCT') {
      const name = `ConnectDefault${++counter}`;
      return { decl: name, defs: [message(name, t.fields, indent)] };
    }
    if (t.type === 'ARRAY') {
      const inner = fieldType(t.item, indent);
      if (inner.decl.startsWith('repeated ') || inner.decl.startsWith('map<')) {
        throw new SerdeError('PROTOBUF does not support nested arrays or arrays of maps');
      }
      return { decl: `repeated ${inner.decl}`, defs: inner.defs };
    }
    if (t.type === 'MAP') {
      const k = scalar(t.key) ?? 'string';
      const v = fieldType(t.value, indent);
      return { decl: `map<${k}, ${v.decl}>`, defs: v.defs };
    }
    throw new SerdeError(`PROTOBUF does not support type ${t.type}`);
  };

  const body = message(rootName, columns, '');
  const header = ['syntax = "proto3";', '', ...(pkg === undefined ? [] : [`package ${pkg};`, ''])];
  const imp = [...imports].sort().map((i) => `import "${i}";`);
  return [...header, ...imp, ...(imp.length > 0 ? [''] : []), body, ''].join('\n');
}

// ---- inference -------------------------------------------------------------------------------

function wrapperType(fullName: string): SqlType | undefined {
  const m = /^google\.protobuf\.(\w+)Value$/.exec(fullName);
  switch (m?.[1]) {
    case 'Double':
    case 'Float':
      return T.DOUBLE;
    case 'Int64':
    case 'UInt64':
    case 'UInt32':
      return T.BIGINT;
    case 'Int32':
      return T.INTEGER;
    case 'Bool':
      return T.BOOLEAN;
    case 'String':
      return T.STRING;
    case 'Bytes':
      return T.BYTES;
    default:
      return undefined;
  }
}

function scalarSqlType(type: string): SqlType {
  switch (type) {
    case 'bool':
      return T.BOOLEAN;
    case 'int32':
    case 'sint32':
    case 'sfixed32':
      return T.INTEGER;
    case 'uint32':
    case 'fixed32':
    case 'int64':
    case 'sint64':
    case 'sfixed64':
    case 'uint64':
    case 'fixed64':
      return T.BIGINT;
    case 'float':
    case 'double':
      return T.DOUBLE;
    case 'bytes':
      return T.BYTES;
    default:
      return T.STRING;
  }
}

export function sqlTypeOfField(schema: ProtoSchema, from: ProtoMessage, f: ProtoField): SqlType {
  if (f.map !== undefined) {
    const valueType = SCALARS.has(f.map.value)
      ? scalarSqlType(f.map.value)
      : typeOfRef(schema, from, f.map.value);
    return T.map(scalarSqlType(f.map.key), valueType);
  }
  const base = SCALARS.has(f.type) ? scalarSqlType(f.type) : typeOfRef(schema, from, f.type);
  return f.repeated ? T.array(base) : base;
}

function typeOfRef(schema: ProtoSchema, from: ProtoMessage, ref: string): SqlType {
  const t = schema.resolve(ref, from);
  if (t.kind === 'enum') return T.STRING;
  return messageSqlType(schema, t);
}

export function messageSqlType(schema: ProtoSchema, m: ProtoMessage): SqlType {
  switch (m.fullName) {
    case WKT.timestamp:
      return T.TIMESTAMP;
    case WKT.date:
      return T.DATE;
    case WKT.time:
      return T.TIME;
    case WKT.decimal:
      return T.decimal(64, 0);
    default: {
      const w = wrapperType(m.fullName);
      if (w !== undefined) return w;
      return T.struct(m.fields.map((f) => ({ name: f.name, type: sqlTypeOfField(schema, m, f) })));
    }
  }
}

/** Columns of a registered protobuf schema's record message. */
export function protoColumns(schema: ProtoSchema, fullName?: string): Column[] {
  const m = schema.message(fullName);
  return m.fields.map((f) => ({ name: f.name, type: sqlTypeOfField(schema, m, f) }));
}

// ---- conversion --------------------------------------------------------------------------------

function findField(m: ProtoMessage, name: string): ProtoField | undefined {
  return (
    m.fields.find((f) => f.name === name) ?? m.fields.find((f) => f.name.toUpperCase() === name.toUpperCase())
  );
}

/** ksqlDB value → protobuf field value. */
function toProto(schema: ProtoSchema, from: ProtoMessage, type: string, v: unknown, t: SqlType): unknown {
  if (v === null || v === undefined) return null;
  if (SCALARS.has(type)) {
    switch (type) {
      case 'int64':
      case 'uint64':
      case 'sint64':
      case 'fixed64':
      case 'sfixed64':
        return typeof v === 'bigint' ? v : BigInt(Math.trunc(Number(v)));
      case 'int32':
      case 'uint32':
      case 'sint32':
      case 'fixed32':
      case 'sfixed32':
      case 'float':
      case 'double':
        return typeof v === 'bigint' ? Number(v) : v instanceof Decimal ? v.toNumber() : v;
      case 'string':
        return typeof v === 'string' ? v : primitiveText(v);
      default:
        return v;
    }
  }
  const r = schema.resolve(type, from);
  if (r.kind === 'enum') return v;
  switch (r.fullName) {
    case WKT.timestamp: {
      const ms = Number(v);
      const seconds = Math.floor(ms / 1000);
      return { seconds: BigInt(seconds), nanos: (ms - seconds * 1000) * 1_000_000 };
    }
    case WKT.date: {
      const d = new Date(Number(v) * 86_400_000);
      return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
    }
    case WKT.time: {
      const ms = Number(v);
      return {
        hours: Math.floor(ms / 3_600_000),
        minutes: Math.floor((ms % 3_600_000) / 60_000),
        seconds: Math.floor((ms % 60_000) / 1000),
        nanos: (ms % 1000) * 1_000_000,
      };
    }
    case WKT.decimal: {
      const d = decimalValue(v);
      return {
        value: bigIntToBuffer(d.unscaled),
        precision: t.type === 'DECIMAL' ? t.precision : d.precision(),
        scale: d.scale,
      };
    }
    default: {
      const w = wrapperType(r.fullName);
      if (w !== undefined) return { value: toProto(schema, r, r.fields[0]?.type ?? 'string', v, w) };
      return structToProto(schema, r, v as Struct, t);
    }
  }
}

function structToProto(schema: ProtoSchema, m: ProtoMessage, s: Struct, t: SqlType): ProtoObject {
  const fields = t.type === 'STRUCT' ? t.fields : [];
  const out: ProtoObject = {};
  for (const pf of m.fields) {
    const f =
      fields.find((x) => x.name === pf.name) ??
      fields.find((x) => x.name.toUpperCase() === pf.name.toUpperCase());
    if (f === undefined) continue;
    out[pf.name] = fieldToProto(schema, m, pf, s[f.name] ?? null, f.type);
  }
  return out;
}

function fieldToProto(schema: ProtoSchema, m: ProtoMessage, pf: ProtoField, v: unknown, t: SqlType): unknown {
  if (v === null || v === undefined) return null;
  if (pf.map !== undefined) {
    const { key, value } = pf.map;
    const vt = t.type === 'MAP' ? t.value : T.STRING;
    const out = new Map<unknown, unknown>();
    for (const [k, x] of v as Map<unknown, unknown>)
      out.set(toProto(schema, m, key, k, T.STRING), toProto(schema, m, value, x, vt));
    return out;
  }
  if (pf.repeated) {
    const it = t.type === 'ARRAY' ? t.item : T.STRING;
    return (v as unknown[]).map((x) => toProto(schema, m, pf.type, x, it));
  }
  return toProto(schema, m, pf.type, v, t);
}

/** Protobuf field value → ksqlDB value of type t (absent scalars are their proto3 defaults). */
function fromProto(schema: ProtoSchema, from: ProtoMessage, type: string, v: unknown, t: SqlType): unknown {
  if (v === null || v === undefined) {
    if (SCALARS.has(type)) v = defaultScalar(type);
    else {
      const r = schema.resolve(type, from);
      if (r.kind === 'enum') v = r.values.get(0) ?? '';
      else return null;
    }
  }
  if (SCALARS.has(type)) {
    switch (t.type) {
      case 'INTEGER':
        return Number(v) | 0;
      case 'BIGINT':
        return typeof v === 'bigint' ? v : BigInt(Math.trunc(Number(v)));
      case 'DOUBLE':
        return type === 'float' ? Math.fround(Number(v)) : Number(v);
      case 'STRING':
        return typeof v === 'string' ? v : String(v);
      case 'BOOLEAN':
        return v === true;
      case 'TIMESTAMP':
      case 'DATE':
      case 'TIME':
        return Number(v);
      case 'DECIMAL':
        return Decimal.fromNumber(Number(v)).setScale(t.scale);
      default:
        return v;
    }
  }
  const r = schema.resolve(type, from);
  if (r.kind === 'enum') return v;
  const o = v as ProtoObject;
  switch (r.fullName) {
    case WKT.timestamp:
      return (
        Number((o.seconds as bigint | undefined) ?? 0n) * 1000 + Math.floor(Number(o.nanos ?? 0) / 1_000_000)
      );
    case WKT.date:
      return Math.floor(
        Date.UTC(Number(o.year ?? 0), Number(o.month ?? 1) - 1, Number(o.day ?? 1)) / 86_400_000,
      );
    case WKT.time:
      return (
        ((Number(o.hours ?? 0) * 60 + Number(o.minutes ?? 0)) * 60 + Number(o.seconds ?? 0)) * 1000 +
        Math.floor(Number(o.nanos ?? 0) / 1_000_000)
      );
    case WKT.decimal: {
      const d = new Decimal(
        bufferToBigInt((o.value as Uint8Array | undefined) ?? new Uint8Array()),
        Number(o.scale ?? 0),
      );
      return t.type === 'DECIMAL' ? d.setScale(t.scale) : d;
    }
    default: {
      const w = wrapperType(r.fullName);
      if (w !== undefined) return fromProto(schema, r, r.fields[0]?.type ?? 'string', o.value, t);
      return structFromProto(schema, r, o, t);
    }
  }
}

function structFromProto(schema: ProtoSchema, m: ProtoMessage, o: ProtoObject, t: SqlType): Struct {
  const out: Struct = {};
  const fields = t.type === 'STRUCT' ? t.fields : [];
  for (const f of fields) {
    const pf = findField(m, f.name);
    out[f.name] = pf === undefined ? null : fieldFromProto(schema, m, pf, o[pf.name], f.type);
  }
  return out;
}

function fieldFromProto(
  schema: ProtoSchema,
  m: ProtoMessage,
  pf: ProtoField,
  v: unknown,
  t: SqlType,
): unknown {
  if (pf.map !== undefined) {
    const { key, value } = pf.map;
    const out = new Map<unknown, unknown>();
    const kt = t.type === 'MAP' ? t.key : T.STRING;
    const vt = t.type === 'MAP' ? t.value : T.STRING;
    for (const [k, x] of (v as Map<unknown, unknown> | undefined) ?? new Map<unknown, unknown>()) {
      out.set(fromProto(schema, m, key, k, kt), fromProto(schema, m, value, x, vt));
    }
    return out;
  }
  if (pf.repeated) {
    const it = t.type === 'ARRAY' ? t.item : T.STRING;
    return ((v as unknown[] | undefined) ?? []).map((x) => fromProto(schema, m, pf.type, x, it));
  }
  return fromProto(schema, m, pf.type, v, t);
}

// ---- serde -------------------------------------------------------------------------------------

export interface ProtobufSerdeOptions {
  readonly columns: readonly Column[];
  readonly unwrapped: boolean;
  readonly registry: SchemaRegistryPort;
  readonly subject: string;
  readonly isKey: boolean;
  /** PROTOBUF (true) or PROTOBUF_NOSR (false). */
  readonly useRegistry: boolean;
  readonly fullSchemaName?: string;
  readonly schemaId?: number;
}

/** Loads a registered protobuf schema with its references. */
export async function loadProtoSchema(
  registry: SchemaRegistryPort,
  schema: RegisteredSchema,
): Promise<ProtoSchema> {
  const refs = new Map<string, string>();
  for (const r of schema.references ?? []) {
    const v = await registry.version?.(r.subject, r.version);
    if (v !== undefined) refs.set(r.name, v.schema.schema);
  }
  return new ProtoSchema(schema.schema, refs);
}

function rowType(columns: readonly Column[]): SqlType {
  return T.struct(columns.map((c) => ({ name: c.name, type: c.type })));
}

export function protobufSerde(options: ProtobufSerdeOptions): RowSerde {
  const { columns, registry, subject, useRegistry } = options;
  const rt = rowType(columns);
  let writer: Promise<{ id: number; schema: ProtoSchema; message: ProtoMessage }> | undefined;
  const readers = new Map<number, Promise<ProtoSchema>>();
  const generated = (): ProtoSchema =>
    new ProtoSchema(protoSchemaForColumns(columns, options.fullSchemaName ?? 'ConnectDefault1'));

  const getWriter = (): Promise<{ id: number; schema: ProtoSchema; message: ProtoMessage }> => {
    writer ??= (async () => {
      if (!useRegistry) {
        const schema = generated();
        return { id: 0, schema, message: schema.message() };
      }
      if (options.schemaId !== undefined) {
        const schema = await loadProtoSchema(registry, await registry.getById(options.schemaId));
        return { id: options.schemaId, schema, message: schema.message(options.fullSchemaName) };
      }
      const text = protoSchemaForColumns(columns, options.fullSchemaName ?? 'ConnectDefault1');
      const id = await registry.register(subject, { schemaType: 'PROTOBUF', schema: text });
      const schema = new ProtoSchema(text);
      return { id, schema, message: schema.message() };
    })();
    return writer;
  };

  return {
    async serialize(row) {
      if (row === null) return null;
      const w = await getWriter();
      const struct: Struct = {};
      columns.forEach((c, i) => {
        struct[c.name] = row[i] ?? null;
      });
      let payload: Buffer;
      try {
        payload = encodeMessage(w.schema, w.message, structToProto(w.schema, w.message, struct, rt));
      } catch (error) {
        throw new SerdeError(`Failed to serialize Protobuf record: ${(error as Error).message}`, {
          cause: error,
        });
      }
      if (!useRegistry) return payload;
      return wrapWire(
        w.id,
        Buffer.concat([encodeMessageIndexes(w.schema.messageIndexes(w.message)), payload]),
      );
    },
    async deserialize(bytes) {
      if (bytes === null) return null;
      let schema: ProtoSchema;
      let message: ProtoMessage;
      let payload: Buffer;
      if (useRegistry) {
        const { schemaId, payload: rest } = unwrapWire(bytes);
        let s = readers.get(schemaId);
        if (s === undefined) {
          s = registry.getById(schemaId).then((r) => loadProtoSchema(registry, r));
          readers.set(schemaId, s);
        }
        schema = await s;
        const idx = decodeMessageIndexes(rest);
        message = schema.messageByIndexes(idx.indexes);
        payload = idx.rest;
      } else {
        schema = generated();
        message = schema.message();
        payload = Buffer.from(bytes);
      }
      let decoded: ProtoObject;
      try {
        decoded = decodeMessage(schema, message, payload);
      } catch (error) {
        throw new SerdeError(`Failed to deserialize Protobuf record: ${(error as Error).message}`, {
          cause: error,
        });
      }
      const s = structFromProto(schema, message, decoded, rt);
      return columns.map((c) => s[c.name] ?? null);
    },
  };
}
