/**
 * AVRO format through a schema registry (Confluent wire format). Writes with ksqlDB's generated schema
 * (record `io.confluent.ksql.avro_schemas.KsqlDataSourceSchema`, nullable fields, maps as arrays of
 * MapEntry records, decimal/timestamp logical types) or with a pre-registered schema (schema id);
 * reads with the writer schema named in each record and coerces into the declared column types.
 */
import avro from 'avsc';
import { Decimal, primitiveText } from '../schema/decimal.ts';
import type { Column } from '../schema/logical.ts';
import { T, type SqlType } from '../schema/types.ts';
import { javaDoubleToString, type Struct } from '../schema/values.ts';
import type { SchemaRegistryPort } from './registry.ts';
import { SerdeError, unwrapWire, wrapWire, type RowSerde } from './serde.ts';

/** Avro schema JSON (loosely typed: it comes from users and registries). */
export type AvroSchema = string | AvroSchemaObject | AvroSchema[];
export interface AvroField {
  readonly name: string;
  readonly type: AvroSchema;
  readonly default?: unknown;
}
export interface AvroSchemaObject {
  readonly type: AvroSchema;
  readonly name?: string;
  readonly namespace?: string;
  readonly fields?: readonly AvroField[];
  readonly items?: AvroSchema;
  readonly values?: AvroSchema;
  readonly symbols?: readonly string[];
  readonly logicalType?: string;
  readonly precision?: number;
  readonly scale?: number;
  readonly [key: string]: unknown;
}

const longType = avro.types.LongType.__with({
  fromBuffer: (buf: Buffer) => buf.readBigInt64LE(),
  toBuffer: (n: bigint | number) => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(BigInt(n));
    return buf;
  },
  fromJSON: (x: unknown) => BigInt(x as number),
  toJSON: (n: bigint) => Number(n),
  isValid: (n: unknown) => typeof n === 'bigint' || (typeof n === 'number' && Number.isInteger(n)),
  compare: (a: bigint, b: bigint) => (a === b ? 0 : a < b ? -1 : 1),
});

const typeCache = new Map<string, avro.Type>();

export function avroType(schema: AvroSchema): avro.Type {
  const key = JSON.stringify(schema);
  let t = typeCache.get(key);
  if (t === undefined) {
    t = avro.Type.forSchema(
      schema as avro.Schema,
      {
        wrapUnions: 'auto',
        // Longs as bigint, whatever form the schema spells them in ("long" or {"type": "long", ...}).
        typeHook: (s: unknown) =>
          s === 'long' || (typeof s === 'object' && s !== null && (s as { type?: unknown }).type === 'long')
            ? longType
            : undefined,
      } as unknown as avro.ForSchemaOptions,
    );
    typeCache.set(key, t);
  }
  return t;
}

function nullable(s: AvroSchema): AvroSchema {
  return ['null', s];
}

/** ksqlDB's Avro field name for a column (characters Avro forbids become '_'). */
export function avroFieldName(name: string): string {
  return name.replace(/[^A-Za-z0-9_]/g, '_');
}

function splitName(full: string): { name: string; namespace?: string } {
  const i = full.lastIndexOf('.');
  return i < 0 ? { name: full } : { name: full.slice(i + 1), namespace: full.slice(0, i) };
}

/** The Avro schema ksqlDB generates for a SQL type; `name` names nested records. */
export function avroSchemaFor(t: SqlType, name: string): AvroSchema {
  switch (t.type) {
    case 'BOOLEAN':
      return 'boolean';
    case 'INTEGER':
      return 'int';
    case 'BIGINT':
      return 'long';
    case 'DOUBLE':
      return 'double';
    case 'STRING':
      return 'string';
    case 'BYTES':
      return 'bytes';
    case 'DECIMAL':
      return {
        type: 'bytes',
        scale: t.scale,
        precision: t.precision,
        'connect.version': 1,
        'connect.parameters': { scale: String(t.scale), 'connect.decimal.precision': String(t.precision) },
        'connect.name': 'org.apache.kafka.connect.data.Decimal',
        logicalType: 'decimal',
      };
    case 'TIMESTAMP':
      return {
        type: 'long',
        'connect.version': 1,
        'connect.name': 'org.apache.kafka.connect.data.Timestamp',
        logicalType: 'timestamp-millis',
      };
    case 'DATE':
      return {
        type: 'int',
        'connect.version': 1,
        'connect.name': 'org.apache.kafka.connect.data.Date',
        logicalType: 'date',
      };
    case 'TIME':
      return {
        type: 'int',
        'connect.version': 1,
        'connect.name': 'org.apache.kafka.connect.data.Time',
        logicalType: 'time-millis',
      };
    case 'ARRAY':
      return { type: 'array', items: nullable(avroSchemaFor(t.item, name)) };
    case 'MAP':
      return {
        type: 'array',
        items: {
          type: 'record',
          ...splitName(`${name}_MapEntry`),
          fields: [
            { name: 'key', type: nullable('string'), default: null },
            { name: 'value', type: nullable(avroSchemaFor(t.value, `${name}_value`)), default: null },
          ],
          'connect.internal.type': 'MapEntry',
        },
      };
    case 'STRUCT':
      return recordSchema(name, t.fields);
  }
}

function recordSchema(
  fullName: string,
  fields: readonly { name: string; type: SqlType }[],
): AvroSchemaObject {
  return {
    type: 'record',
    ...splitName(fullName),
    fields: fields.map((f) => ({
      name: avroFieldName(f.name),
      type: nullable(avroSchemaFor(f.type, `${fullName}_${avroFieldName(f.name)}`)),
      default: null,
    })),
    'connect.name': fullName,
  };
}

/** The schema ksqlDB registers for a key or value with these columns. */
export function avroSchemaForColumns(
  columns: readonly Column[],
  unwrapped: boolean,
  fullName: string,
  isKey: boolean,
): AvroSchema {
  const single = columns[0];
  if (unwrapped && single !== undefined) {
    const s = avroSchemaFor(single.type, fullName);
    return isKey ? s : nullable(s);
  }
  return recordSchema(fullName, columns);
}

// ---- reading ---------------------------------------------------------------------------------

function schemaObject(s: AvroSchema): AvroSchemaObject | undefined {
  return typeof s === 'object' && !Array.isArray(s) ? s : undefined;
}

function baseType(s: AvroSchema): string {
  if (typeof s === 'string') return s;
  if (Array.isArray(s)) return 'union';
  return typeof s.type === 'string' ? s.type : baseType(s.type);
}

/** Named types seen in a schema, for resolving references by name. */
function collectNamed(s: AvroSchema, ns: string | undefined, out: Map<string, AvroSchema>): void {
  if (Array.isArray(s)) {
    for (const b of s) collectNamed(b, ns, out);
    return;
  }
  const o = schemaObject(s);
  if (o === undefined) return;
  const namespace = o.namespace ?? ns;
  if (o.name !== undefined && ['record', 'enum', 'fixed'].includes(baseType(o))) {
    const full = o.name.includes('.') || namespace === undefined ? o.name : `${namespace}.${o.name}`;
    out.set(full, o);
    out.set(o.name, o);
  }
  if (typeof o.type === 'object') collectNamed(o.type, namespace, out);
  for (const f of o.fields ?? []) collectNamed(f.type, namespace, out);
  if (o.items !== undefined) collectNamed(o.items, namespace, out);
  if (o.values !== undefined) collectNamed(o.values, namespace, out);
}

class AvroReader {
  private readonly named = new Map<string, AvroSchema>();

  constructor(schema: AvroSchema) {
    collectNamed(schema, undefined, this.named);
  }

  resolve(s: AvroSchema): AvroSchema {
    if (typeof s === 'string' && !PRIMITIVES.has(s)) return this.named.get(s) ?? s;
    return s;
  }

  /** Converts a decoded Avro value into a ksqlDB value of type t. */
  read(v: unknown, schema: AvroSchema, t: SqlType): unknown {
    if (v === null || v === undefined) return null;
    const s = this.resolve(schema);
    if (Array.isArray(s)) {
      const branches = s.map((b) => this.resolve(b)).filter((b) => b !== 'null');
      if (branches.length === 1) return this.read(v, branches[0] as AvroSchema, t);
      // A wrapped union value: { branchName: value }.
      const obj = v as Record<string, unknown>;
      const k = Object.keys(obj)[0];
      if (k === undefined) return null;
      const branch = branches.find((b) => branchName(b) === k) ?? branches[0];
      return this.read(obj[k], branch as AvroSchema, t);
    }
    const o = schemaObject(s);
    const type = baseType(s);
    const logical = o?.logicalType;
    switch (t.type) {
      case 'STRING':
        if (typeof v === 'string') return v;
        if (typeof v === 'bigint' || typeof v === 'number' || typeof v === 'boolean') {
          if (type === 'double' || type === 'float') return javaDoubleToString(v as number);
          return String(v);
        }
        break;
      case 'BOOLEAN':
        if (typeof v === 'boolean') return v;
        break;
      case 'INTEGER':
        if (typeof v === 'number') return Math.trunc(v) | 0;
        if (typeof v === 'bigint') return Number(BigInt.asIntN(32, v));
        break;
      case 'BIGINT':
        if (typeof v === 'bigint') return v;
        if (typeof v === 'number') return BigInt(Math.trunc(v));
        break;
      case 'DOUBLE':
        if (typeof v === 'number') return type === 'float' ? Math.fround(v) : v;
        if (typeof v === 'bigint') return Number(v);
        if (Buffer.isBuffer(v) && logical === 'decimal') return this.decimal(v, o).toNumber();
        break;
      case 'DECIMAL':
        if (Buffer.isBuffer(v) && logical === 'decimal') return this.decimal(v, o);
        if (typeof v === 'number') return Decimal.fromNumber(v).setScale(t.scale);
        if (typeof v === 'bigint') return new Decimal(v, 0).setScale(t.scale);
        break;
      case 'TIMESTAMP':
      case 'DATE':
      case 'TIME':
        if (typeof v === 'bigint') return Number(v);
        if (typeof v === 'number') return v;
        break;
      case 'BYTES':
        if (Buffer.isBuffer(v)) return Uint8Array.from(v);
        break;
      case 'ARRAY':
        if (Array.isArray(v) && o?.items !== undefined) {
          const items = o.items;
          return v.map((x) => this.read(x, items, t.item));
        }
        break;
      case 'MAP':
        if (type === 'map' && o?.values !== undefined) {
          const values = o.values;
          const m = new Map<unknown, unknown>();
          for (const [k, x] of Object.entries(v as Record<string, unknown>))
            m.set(k, this.read(x, values, t.value));
          return m;
        }
        if (type === 'array' && Array.isArray(v) && o?.items !== undefined) {
          const entry = schemaObject(this.resolve(o.items));
          const kf = entry?.fields?.find((f) => f.name === 'key');
          const vf = entry?.fields?.find((f) => f.name === 'value');
          if (kf !== undefined && vf !== undefined) {
            const m = new Map<unknown, unknown>();
            for (const e of v as Record<string, unknown>[]) {
              m.set(this.read(e.key, kf.type, t.key), this.read(e.value, vf.type, t.value));
            }
            return m;
          }
        }
        break;
      case 'STRUCT':
        if (type === 'record' && o?.fields !== undefined) {
          const rec = v as Record<string, unknown>;
          const out: Struct = {};
          for (const f of t.fields) {
            const af =
              o.fields.find((x) => x.name === f.name) ??
              o.fields.find((x) => x.name === avroFieldName(f.name)) ??
              o.fields.find((x) => x.name.toUpperCase() === f.name.toUpperCase());
            out[f.name] = af === undefined ? null : this.read(rec[af.name], af.type, f.type);
          }
          return out;
        }
        break;
    }
    throw new SerdeError(`Cannot convert Avro ${type} to ${t.type}`);
  }

  private decimal(buf: Buffer, o: AvroSchemaObject | undefined): Decimal {
    return new Decimal(bufferToBigInt(buf), o?.scale ?? 0);
  }

  /**
   * `read(v, schema, STRUCT of columns)` of a whole row as the column values, with what depends only
   * on the schema (field matching, union branches, which conversion) decided once here instead of per
   * record. Undefined when the schema is not a plain record: such rows go through `read`.
   */
  compileRow(schema: AvroSchema, columns: readonly Column[]): ((v: unknown) => unknown[] | null) | undefined {
    const o = schemaObject(this.resolve(schema));
    if (o === undefined || baseType(o) !== 'record' || o.fields === undefined) return undefined;
    const fields = o.fields;
    const readers = columns.map((c) => this.compileField(fields, c.name, c.type));
    const n = readers.length;
    return (v) => {
      if (v === null || v === undefined) return null;
      const rec = v as Record<string, unknown>;
      const out = new Array<unknown>(n);
      for (let i = 0; i < n; i++)
        out[i] = (readers[i] as (r: Record<string, unknown>) => unknown)(rec) ?? null;
      return out;
    };
  }

  /** The reader of one column out of a decoded record: the Avro field matched as `read` matches it. */
  private compileField(
    fields: readonly AvroField[],
    name: string,
    t: SqlType,
  ): (rec: Record<string, unknown>) => unknown {
    const af =
      fields.find((x) => x.name === name) ??
      fields.find((x) => x.name === avroFieldName(name)) ??
      fields.find((x) => x.name.toUpperCase() === name.toUpperCase());
    if (af === undefined) return () => null;
    const field = af.name;
    const convert = this.compileValue(af.type, t);
    return (rec) => convert(rec[field]);
  }

  /**
   * `(v) => read(v, schema, t)`, with the common cases decided ahead: the value kinds that `read`
   * converts the same way whatever the Avro type (strings, booleans, ints, bigints), arrays and
   * records. Anything else, and any value of an unexpected kind, goes through `read` itself, so
   * results and errors are the same.
   */
  private compileValue(schema: AvroSchema, t: SqlType): (v: unknown) => unknown {
    const generic = (v: unknown): unknown => this.read(v, schema, t);
    let s = this.resolve(schema);
    if (Array.isArray(s)) {
      const branches = s.map((b) => this.resolve(b)).filter((b) => b !== 'null');
      if (branches.length !== 1) return generic;
      s = branches[0] as AvroSchema;
    }
    const o = schemaObject(s);
    switch (t.type) {
      case 'STRING':
        return (v) => (v === null || v === undefined ? null : typeof v === 'string' ? v : generic(v));
      case 'BOOLEAN':
        return (v) => (v === null || v === undefined ? null : typeof v === 'boolean' ? v : generic(v));
      case 'INTEGER':
        return (v) =>
          v === null || v === undefined ? null : typeof v === 'number' ? Math.trunc(v) | 0 : generic(v);
      case 'BIGINT':
        return (v) => (v === null || v === undefined ? null : typeof v === 'bigint' ? v : generic(v));
      case 'ARRAY': {
        if (o?.items === undefined) return generic;
        const item = this.compileValue(o.items, t.item);
        return (v) =>
          v === null || v === undefined ? null : Array.isArray(v) ? v.map((x) => item(x)) : generic(v);
      }
      case 'STRUCT': {
        if (baseType(s) !== 'record' || o?.fields === undefined) return generic;
        const fields = o.fields;
        const readers = t.fields.map((f) => [f.name, this.compileField(fields, f.name, f.type)] as const);
        return (v) => {
          if (v === null || v === undefined) return null;
          const rec = v as Record<string, unknown>;
          const out: Struct = {};
          for (const [name, read] of readers) out[name] = read(rec);
          return out;
        };
      }
      default:
        return generic;
    }
  }
}

const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);

function branchName(s: AvroSchema): string {
  if (typeof s === 'string') return s;
  const o = schemaObject(s);
  if (o?.name !== undefined) return o.namespace !== undefined ? `${o.namespace}.${o.name}` : o.name;
  return baseType(s);
}

export function bufferToBigInt(buf: Uint8Array): bigint {
  if (buf.length === 0) return 0n;
  let n = 0n;
  for (const b of buf) n = (n << 8n) | BigInt(b);
  if ((buf[0] ?? 0) & 0x80) n -= 1n << BigInt(buf.length * 8);
  return n;
}

export function bigIntToBuffer(n: bigint): Buffer {
  // Minimal two's complement, big-endian (Java BigInteger.toByteArray).
  const bytes: number[] = [];
  let x = n;
  for (;;) {
    bytes.unshift(Number(x & 0xffn));
    x >>= 8n;
    const top = bytes[0] ?? 0;
    if ((x === 0n && (top & 0x80) === 0) || (x === -1n && (top & 0x80) !== 0)) break;
  }
  return Buffer.from(bytes);
}

// ---- writing ---------------------------------------------------------------------------------

class AvroWriter {
  private readonly named = new Map<string, AvroSchema>();

  constructor(schema: AvroSchema) {
    collectNamed(schema, undefined, this.named);
  }

  nullable(s: AvroSchema): boolean {
    const r = this.resolve(s);
    return r === 'null' || (Array.isArray(r) && r.some((b) => this.resolve(b) === 'null'));
  }

  private resolve(s: AvroSchema): AvroSchema {
    if (typeof s === 'string' && !PRIMITIVES.has(s)) return this.named.get(s) ?? s;
    return s;
  }

  write(v: unknown, schema: AvroSchema, t: SqlType): unknown {
    const s = this.resolve(schema);
    if (Array.isArray(s)) {
      if (v === null || v === undefined) return null;
      const branches = s.filter((b) => this.resolve(b) !== 'null');
      const branch = branches[0];
      if (branch === undefined) return null;
      const out = this.write(v, branch, t);
      return branches.length > 1 ? { [branchName(this.resolve(branch))]: out } : out;
    }
    if (v === null || v === undefined) {
      if (baseType(s) === 'null') return null;
      throw new SerdeError(`Cannot write NULL into a non-optional Avro ${baseType(s)}`);
    }
    const o = schemaObject(s);
    const type = baseType(s);
    switch (type) {
      case 'boolean':
        return v;
      case 'int':
        return typeof v === 'bigint' ? Number(v) : v;
      case 'long':
        return typeof v === 'bigint' ? v : BigInt(Math.trunc(v as number));
      case 'float':
      case 'double':
        if (v instanceof Decimal) return v.toNumber();
        return typeof v === 'bigint' ? Number(v) : v;
      case 'string':
        return t.type === 'STRING' ? v : primitiveText(v);
      case 'enum':
        return v;
      case 'bytes':
      case 'fixed':
        if (o?.logicalType === 'decimal' && v instanceof Decimal) {
          return bigIntToBuffer(v.setScale(o.scale ?? 0).unscaled);
        }
        return Buffer.from(v as Uint8Array);
      case 'array': {
        const items = o?.items ?? 'null';
        if (t.type === 'MAP') {
          const entry = schemaObject(this.resolve(items));
          const kf = entry?.fields?.find((f) => f.name === 'key');
          const vf = entry?.fields?.find((f) => f.name === 'value');
          return [...(v as Map<unknown, unknown>)].map(([k, x]) => ({
            key: kf === undefined ? k : this.write(k, kf.type, t.key),
            value: vf === undefined ? x : this.write(x, vf.type, t.value),
          }));
        }
        const item = t.type === 'ARRAY' ? t.item : T.STRING;
        return (v as unknown[]).map((x) => this.write(x, items, item));
      }
      case 'map': {
        const values = o?.values ?? 'null';
        const out: Record<string, unknown> = {};
        const vt = t.type === 'MAP' ? t.value : T.STRING;
        for (const [k, x] of v as Map<unknown, unknown>) out[String(k)] = this.write(x, values, vt);
        return out;
      }
      case 'record': {
        const rec: Record<string, unknown> = {};
        const struct = v as Struct;
        const fields = t.type === 'STRUCT' ? t.fields : [];
        for (const af of o?.fields ?? []) {
          const f =
            fields.find((x) => x.name === af.name) ??
            fields.find((x) => avroFieldName(x.name) === af.name) ??
            fields.find((x) => x.name.toUpperCase() === af.name.toUpperCase());
          if (f === undefined) {
            rec[af.name] = af.default === undefined ? null : af.default;
            continue;
          }
          const v = struct[f.name] ?? null;
          // A NULL for a non-optional field with a default writes the default (ksqlDB's Avro translator).
          rec[af.name] =
            v === null && af.default !== undefined && !this.nullable(af.type)
              ? af.default
              : this.write(v, af.type, f.type);
        }
        return rec;
      }
      default:
        return v;
    }
  }

  /**
   * `write(struct of the row, schema, STRUCT of columns)` from the column values, with the field
   * matching and the conversions decided once here instead of per record. Undefined when the schema
   * is not a plain record: such rows go through `write`.
   */
  compileRow(
    schema: AvroSchema,
    columns: readonly Column[],
  ): ((row: readonly unknown[]) => unknown) | undefined {
    const o = schemaObject(this.resolve(schema));
    if (o === undefined || baseType(o) !== 'record' || o.fields === undefined) return undefined;
    const writers = o.fields.map((af): ((row: readonly unknown[]) => unknown) => {
      const i = [
        columns.findIndex((x) => x.name === af.name),
        columns.findIndex((x) => avroFieldName(x.name) === af.name),
        columns.findIndex((x) => x.name.toUpperCase() === af.name.toUpperCase()),
      ].find((x) => x >= 0);
      const column = i === undefined ? undefined : columns[i];
      if (i === undefined || column === undefined) {
        const fallback = af.default === undefined ? null : af.default;
        return () => fallback;
      }
      const convert = this.compileValue(af.type, column.type);
      // A NULL for a non-optional field with a default writes the default (ksqlDB's Avro translator).
      if (af.default !== undefined && !this.nullable(af.type)) {
        const fallback = af.default;
        return (row) => {
          const v = row[i] ?? null;
          return v === null ? fallback : convert(v);
        };
      }
      return (row) => convert(row[i] ?? null);
    });
    const names = o.fields.map((af) => af.name);
    const n = names.length;
    return (row) => {
      const rec: Record<string, unknown> = {};
      for (let k = 0; k < n; k++) {
        rec[names[k] as string] = (writers[k] as (r: readonly unknown[]) => unknown)(row);
      }
      return rec;
    };
  }

  /**
   * `(v) => write(v, schema, t)` with the union branch and the common primitive conversions decided
   * ahead; anything else, and nulls where the schema has no null, go through `write` itself.
   */
  private compileValue(schema: AvroSchema, t: SqlType): (v: unknown) => unknown {
    const generic = (v: unknown): unknown => this.write(v, schema, t);
    const s = this.resolve(schema);
    if (Array.isArray(s)) {
      const branches = s.filter((b) => this.resolve(b) !== 'null');
      const branch = branches[0];
      if (branches.length !== 1 || branch === undefined) return generic;
      const inner = this.compileValue(branch, t);
      return (v) => (v === null || v === undefined ? null : inner(v));
    }
    switch (baseType(s)) {
      case 'string':
        return t.type === 'STRING' ? (v) => (v === null || v === undefined ? generic(v) : v) : generic;
      case 'boolean':
        return (v) => (v === null || v === undefined ? generic(v) : v);
      case 'int':
        return (v) => (v === null || v === undefined ? generic(v) : typeof v === 'bigint' ? Number(v) : v);
      case 'long':
        return (v) =>
          v === null || v === undefined
            ? generic(v)
            : typeof v === 'bigint'
              ? v
              : BigInt(Math.trunc(v as number));
      default:
        return generic;
    }
  }
}

export interface AvroSerdeOptions {
  readonly columns: readonly Column[];
  readonly unwrapped: boolean;
  readonly registry: SchemaRegistryPort;
  readonly subject: string;
  /** Full name of the generated schema. */
  readonly fullSchemaName: string;
  readonly isKey: boolean;
  /** Write with this pre-registered schema instead of a generated one. */
  readonly schemaId?: number;
}

function rowType(columns: readonly Column[]): SqlType {
  return T.struct(columns.map((c) => ({ name: c.name, type: c.type })));
}

interface LoadedWriter {
  readonly id: number;
  readonly type: avro.Type;
  /** Column values → the value avsc encodes. */
  readonly toAvro: (row: readonly unknown[]) => unknown;
}

interface LoadedReader {
  readonly type: avro.Type;
  /** The value avsc decoded → column values (null: a null record). */
  readonly fromAvro: (decoded: unknown) => unknown[] | null;
}

export function avroSerde(options: AvroSerdeOptions): RowSerde {
  const { columns, unwrapped, registry, subject, fullSchemaName, isKey } = options;
  const single = columns[0];
  const isUnwrapped = unwrapped && single !== undefined;
  const struct = rowType(columns);
  // Schemas come from the registry once; after that a record needs no await (the sync methods below,
  // which the processor calls only when `canSerializeSync` / `canDeserializeSync` say so).
  let writer: Promise<LoadedWriter> | undefined;
  let loadedWriter: LoadedWriter | undefined;
  const readers = new Map<number, Promise<LoadedReader>>();
  const loadedReaders = new Map<number, LoadedReader>();

  const getWriter = (): Promise<LoadedWriter> => {
    writer ??= (async () => {
      let id: number;
      let schema: AvroSchema;
      if (options.schemaId !== undefined) {
        id = options.schemaId;
        schema = JSON.parse((await registry.getById(id)).schema) as AvroSchema;
      } else {
        schema = avroSchemaForColumns(columns, unwrapped, fullSchemaName, isKey);
        id = await registry.register(subject, { schemaType: 'AVRO', schema: JSON.stringify(schema) });
      }
      const w = new AvroWriter(schema);
      const toAvro = isUnwrapped
        ? (row: readonly unknown[]) => w.write(row[0] ?? null, schema, single.type)
        : (w.compileRow(schema, columns) ??
          ((row: readonly unknown[]) =>
            w.write(Object.fromEntries(columns.map((c, i) => [c.name, row[i] ?? null])), schema, struct)));
      loadedWriter = { id, type: avroType(schema), toAvro };
      return loadedWriter;
    })();
    // A failed load is tried again by the next record.
    writer.catch(() => (writer = undefined));
    return writer;
  };

  const getReader = (id: number): Promise<LoadedReader> => {
    let r = readers.get(id);
    if (r === undefined) {
      r = (async () => {
        const schema = JSON.parse((await registry.getById(id)).schema) as AvroSchema;
        const reader = new AvroReader(schema);
        const fromAvro = isUnwrapped
          ? (decoded: unknown) => [reader.read(decoded, schema, single.type)]
          : (reader.compileRow(schema, columns) ??
            ((decoded: unknown) => {
              if (decoded === null) return null;
              const s = reader.read(decoded, schema, struct) as Struct | null;
              if (s === null) return null;
              return columns.map((c) => s[c.name] ?? null);
            }));
        const loaded = { type: avroType(schema), fromAvro };
        loadedReaders.set(id, loaded);
        return loaded;
      })();
      readers.set(id, r);
      r.catch(() => readers.delete(id));
    }
    return r;
  };

  const encode = (w: LoadedWriter, row: readonly unknown[]): Buffer | null => {
    const value = w.toAvro(row);
    if (isUnwrapped && value === null && isKey) return null;
    try {
      return wrapWire(w.id, w.type.toBuffer(value));
    } catch (error) {
      throw new SerdeError(`Failed to serialize Avro record: ${(error as Error).message}`, { cause: error });
    }
  };

  const decode = (r: LoadedReader, payload: Buffer): unknown[] | null => {
    let decoded: unknown;
    try {
      decoded = r.type.fromBuffer(payload);
    } catch (error) {
      throw new SerdeError(`Failed to deserialize Avro record: ${(error as Error).message}`, {
        cause: error,
      });
    }
    return r.fromAvro(decoded);
  };

  /** The writer schema id of framed bytes, or undefined when they are not framed (decoding will say so). */
  const schemaIdOf = (bytes: Uint8Array): number | undefined =>
    bytes.length >= 5 && bytes[0] === 0
      ? Buffer.from(bytes.buffer, bytes.byteOffset, 5).readInt32BE(1)
      : undefined;

  return {
    async serialize(row) {
      if (row === null) return null;
      return encode(await getWriter(), row);
    },
    async deserialize(bytes) {
      if (bytes === null) return null;
      const { schemaId, payload } = unwrapWire(bytes);
      return decode(await getReader(schemaId), payload);
    },
    canSerializeSync: () => loadedWriter !== undefined,
    async prepareSerializeSync() {
      await getWriter();
    },
    canDeserializeSync(bytes) {
      if (bytes === null) return true;
      const id = schemaIdOf(bytes);
      return id === undefined || loadedReaders.has(id);
    },
    serializeSync(row) {
      if (row === null) return null;
      if (loadedWriter === undefined) throw new SerdeError('Avro writer schema not loaded yet');
      return encode(loadedWriter, row);
    },
    deserializeSync(bytes) {
      if (bytes === null) return null;
      const { schemaId, payload } = unwrapWire(bytes);
      const r = loadedReaders.get(schemaId);
      if (r === undefined) throw new SerdeError(`Avro schema ${schemaId} not loaded yet`);
      return decode(r, payload);
    },
  };
}

/** Infers ksqlDB column types from an Avro schema (CREATE without columns). */
export function sqlTypeFromAvro(schema: AvroSchema, named = new Map<string, AvroSchema>()): SqlType {
  collectNamed(schema, undefined, named);
  const resolve = (s: AvroSchema): AvroSchema =>
    typeof s === 'string' && !PRIMITIVES.has(s) ? (named.get(s) ?? s) : s;
  const s = resolve(schema);
  if (Array.isArray(s)) {
    const branches = s.filter((b) => resolve(b) !== 'null');
    if (branches.length === 1) return sqlTypeFromAvro(branches[0] as AvroSchema, named);
    // Multi-type unions become a struct of optional branches (ksqlDB/Connect).
    return T.struct(
      branches.map((b, i) => ({
        name: (typeof resolve(b) === 'string'
          ? (resolve(b) as string)
          : (schemaObject(resolve(b))?.name ?? `branch${i}`)
        ).toUpperCase(),
        type: sqlTypeFromAvro(b, named),
      })),
    );
  }
  const o = schemaObject(s);
  const type = baseType(s);
  switch (type) {
    case 'boolean':
      return T.BOOLEAN;
    case 'int':
      if (o?.logicalType === 'date') return T.DATE;
      if (o?.logicalType === 'time-millis') return T.TIME;
      return T.INTEGER;
    case 'long':
      if (o?.logicalType === 'timestamp-millis') return T.TIMESTAMP;
      return T.BIGINT;
    case 'float':
    case 'double':
      return T.DOUBLE;
    case 'string':
    case 'enum':
      return T.STRING;
    case 'bytes':
    case 'fixed':
      if (o?.logicalType === 'decimal') return T.decimal(o.precision ?? 64, o.scale ?? 0);
      return T.BYTES;
    case 'array': {
      const items = resolve(o?.items ?? 'null');
      const entry = schemaObject(items);
      if (entry?.['connect.internal.type'] === 'MapEntry' && entry.fields !== undefined) {
        const k = entry.fields.find((f) => f.name === 'key');
        const v = entry.fields.find((f) => f.name === 'value');
        if (k !== undefined && v !== undefined)
          return T.map(sqlTypeFromAvro(k.type, named), sqlTypeFromAvro(v.type, named));
      }
      return T.array(sqlTypeFromAvro(items, named));
    }
    case 'map':
      return T.map(T.STRING, sqlTypeFromAvro(o?.values ?? 'null', named));
    case 'record':
      return T.struct((o?.fields ?? []).map((f) => ({ name: f.name, type: sqlTypeFromAvro(f.type, named) })));
    default:
      throw new SerdeError(`Unsupported Avro type: ${type}`);
  }
}

/** Whether the Avro schema is a record (multi-field value) rather than an anonymous type. */
export function isAvroRecord(schema: AvroSchema): boolean {
  return baseType(Array.isArray(schema) ? (schema.find((b) => b !== 'null') ?? 'null') : schema) === 'record';
}
