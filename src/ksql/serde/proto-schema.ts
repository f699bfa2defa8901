/**
 * A proto3 schema reader and wire codec, enough for ksqlDB's PROTOBUF formats: messages (nested),
 * enums, scalar fields, repeated, map<K, V>, oneof, imports of referenced files and of the well-known
 * types ksqlDB uses (google.protobuf.Timestamp, google.type.Date / TimeOfDay, confluent.type.Decimal,
 * google.protobuf wrappers). No dependency: protobuf is simple enough on the wire.
 */

export interface ProtoField {
  readonly name: string;
  readonly number: number;
  /** Scalar type name or a (possibly qualified) message/enum type reference. */
  readonly type: string;
  readonly repeated: boolean;
  readonly optional: boolean;
  readonly map?: { readonly key: string; readonly value: string };
  readonly oneof?: string;
}

export interface ProtoEnum {
  readonly kind: 'enum';
  readonly fullName: string;
  readonly values: ReadonlyMap<number, string>;
  readonly numbers: ReadonlyMap<string, number>;
}

export interface ProtoMessage {
  readonly kind: 'message';
  readonly fullName: string;
  readonly name: string;
  readonly fields: ProtoField[];
}

export type ProtoType = ProtoMessage | ProtoEnum;

export const SCALARS = new Set([
  'double',
  'float',
  'int32',
  'int64',
  'uint32',
  'uint64',
  'sint32',
  'sint64',
  'fixed32',
  'fixed64',
  'sfixed32',
  'sfixed64',
  'bool',
  'string',
  'bytes',
]);

const WELL_KNOWN: Record<string, string> = {
  'google/protobuf/timestamp.proto':
    'syntax = "proto3"; package google.protobuf; message Timestamp { int64 seconds = 1; int32 nanos = 2; }',
  'google/type/date.proto':
    'syntax = "proto3"; package google.type; message Date { int32 year = 1; int32 month = 2; int32 day = 3; }',
  'google/type/timeofday.proto':
    'syntax = "proto3"; package google.type; message TimeOfDay { int32 hours = 1; int32 minutes = 2; int32 seconds = 3; int32 nanos = 4; }',
  'confluent/type/decimal.proto':
    'syntax = "proto3"; package confluent.type; message Decimal { bytes value = 1; uint32 precision = 2; int32 scale = 3; }',
  'google/protobuf/wrappers.proto':
    'syntax = "proto3"; package google.protobuf; message DoubleValue { double value = 1; } message FloatValue { float value = 1; } message Int64Value { int64 value = 1; } message UInt64Value { uint64 value = 1; } message Int32Value { int32 value = 1; } message UInt32Value { uint32 value = 1; } message BoolValue { bool value = 1; } message StringValue { string value = 1; } message BytesValue { bytes value = 1; }',
  'confluent/meta.proto': 'syntax = "proto3"; package confluent;',
};

class Tokens {
  private readonly list: string[];
  private i = 0;

  constructor(text: string) {
    const cleaned = text.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/[^\n]*/g, ' ');
    this.list =
      cleaned.match(
        /"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[A-Za-z_][A-Za-z0-9_.]*|-?\d+(?:\.\d+)?|[{}[\]()<>=;,]/g,
      ) ?? [];
  }

  peek(): string | undefined {
    return this.list[this.i];
  }

  next(): string {
    const t = this.list[this.i++];
    if (t === undefined) throw new Error('unexpected end of proto schema');
    return t;
  }

  expect(t: string): void {
    const n = this.next();
    if (n !== t) throw new Error(`proto schema: expected '${t}' but got '${n}'`);
  }

  done(): boolean {
    return this.i >= this.list.length;
  }

  /** Skips to the end of the current statement or balanced block. */
  skipStatement(): void {
    let depth = 0;
    while (!this.done()) {
      const t = this.next();
      if (t === '{') depth++;
      else if (t === '}') {
        depth--;
        if (depth <= 0) return;
      } else if (t === ';' && depth === 0) return;
    }
  }
}

function unquote(s: string): string {
  return s.slice(1, -1);
}

interface ParsedFile {
  readonly pkg: string;
  readonly imports: string[];
  /** Top-level and nested types, in declaration order. */
  readonly types: { fullName: string; type: ProtoType; scope: string }[];
  /** Top-level messages in order (message indexes count these). */
  readonly topLevel: string[];
}

function parseFile(text: string): ParsedFile {
  const t = new Tokens(text);
  let pkg = '';
  const imports: string[] = [];
  const types: ParsedFile['types'] = [];
  const topLevel: string[] = [];

  const parseEnum = (scope: string): void => {
    const name = t.next();
    const fullName = scope === '' ? name : `${scope}.${name}`;
    t.expect('{');
    const values = new Map<number, string>();
    const numbers = new Map<string, number>();
    while (t.peek() !== '}') {
      const first = t.next();
      if (first === 'option' || first === 'reserved') {
        t.skipStatement();
        continue;
      }
      if (first === ';') continue;
      t.expect('=');
      const n = Number(t.next());
      if (t.peek() === '[') while (t.next() !== ']');
      t.expect(';');
      if (!values.has(n)) values.set(n, first);
      numbers.set(first, n);
    }
    t.expect('}');
    types.push({ fullName, type: { kind: 'enum', fullName, values, numbers }, scope });
  };

  const parseMessage = (scope: string, top: boolean): void => {
    const name = t.next();
    const fullName = scope === '' ? name : `${scope}.${name}`;
    if (top) topLevel.push(fullName);
    t.expect('{');
    const fields: ProtoField[] = [];
    const message: ProtoMessage = { kind: 'message', fullName, name, fields };
    types.push({ fullName, type: message, scope });
    const field = (first: string, oneof?: string): void => {
      let repeated = false;
      let optional = false;
      let type = first;
      if (type === 'repeated') {
        repeated = true;
        type = t.next();
      } else if (type === 'optional' || type === 'required') {
        optional = true;
        type = t.next();
      }
      let map: ProtoField['map'];
      if (type === 'map') {
        t.expect('<');
        const key = t.next();
        t.expect(',');
        const value = t.next();
        t.expect('>');
        map = { key, value };
      }
      const fname = t.next();
      t.expect('=');
      const number = Number(t.next());
      if (t.peek() === '[') while (t.next() !== ']');
      t.expect(';');
      fields.push({
        name: fname,
        number,
        type: map === undefined ? type : 'map',
        repeated,
        optional,
        ...(map === undefined ? {} : { map }),
        ...(oneof === undefined ? {} : { oneof }),
      });
    };
    while (t.peek() !== '}') {
      const first = t.next();
      switch (first) {
        case ';':
          break;
        case 'message':
          parseMessage(fullName, false);
          break;
        case 'enum':
          parseEnum(fullName);
          break;
        case 'option':
        case 'reserved':
        case 'extensions':
        case 'extend':
          t.skipStatement();
          break;
        case 'oneof': {
          const oneofName = t.next();
          t.expect('{');
          while (t.peek() !== '}') {
            const f = t.next();
            if (f === 'option') {
              t.skipStatement();
              continue;
            }
            field(f, oneofName);
          }
          t.expect('}');
          break;
        }
        default:
          field(first);
      }
    }
    t.expect('}');
  };

  while (!t.done()) {
    const w = t.next();
    switch (w) {
      case 'syntax':
        t.expect('=');
        t.next();
        t.expect(';');
        break;
      case 'package':
        pkg = t.next();
        t.expect(';');
        break;
      case 'import': {
        let f = t.next();
        if (f === 'public' || f === 'weak') f = t.next();
        imports.push(unquote(f));
        t.expect(';');
        break;
      }
      case 'message':
        parseMessage(pkg, true);
        break;
      case 'enum':
        parseEnum(pkg);
        break;
      case ';':
        break;
      default:
        t.skipStatement();
    }
  }
  return { pkg, imports, types, topLevel };
}

/** A parsed schema with its imports resolved: look up types and choose the record message. */
export class ProtoSchema {
  private readonly types = new Map<string, { type: ProtoType; scope: string }>();
  private readonly topLevel: string[];
  readonly text: string;

  /** @param references file name → schema text, for `import` of referenced schemas. */
  constructor(text: string, references: ReadonlyMap<string, string> = new Map()) {
    this.text = text;
    const main = parseFile(text);
    this.topLevel = main.topLevel;
    const seen = new Set<string>();
    const load = (file: ParsedFile): void => {
      for (const t of file.types) this.types.set(t.fullName, { type: t.type, scope: t.scope });
      for (const imp of file.imports) {
        if (seen.has(imp)) continue;
        seen.add(imp);
        const src = references.get(imp) ?? WELL_KNOWN[imp];
        if (src !== undefined) load(parseFile(src));
      }
    };
    load(main);
    // Well-known types are resolvable even when not imported explicitly.
    for (const src of Object.values(WELL_KNOWN)) {
      for (const t of parseFile(src).types)
        if (!this.types.has(t.fullName)) this.types.set(t.fullName, { type: t.type, scope: t.scope });
    }
  }

  /** The message a record uses: by full name, else the first top-level message. */
  message(fullName?: string): ProtoMessage {
    const name = fullName ?? this.topLevel[0];
    if (name === undefined) throw new Error('proto schema has no message');
    const candidates = [name, ...this.topLevel.filter((n) => n.endsWith(`.${name}`))];
    for (const c of candidates) {
      const t = this.types.get(c);
      if (t?.type.kind === 'message') return t.type;
    }
    throw new Error(`proto schema has no message ${name}`);
  }

  /** Index path of a top-level message (Confluent wire format message indexes). */
  messageIndexes(message: ProtoMessage): number[] {
    const i = this.topLevel.indexOf(message.fullName);
    return [i < 0 ? 0 : i];
  }

  messageByIndexes(indexes: readonly number[]): ProtoMessage {
    const name = this.topLevel[indexes[0] ?? 0];
    return this.message(name);
  }

  /** Resolves a type reference as protoc would, from the scope of `from`. */
  resolve(ref: string, from: ProtoMessage): ProtoType {
    if (ref.startsWith('.')) {
      const t = this.types.get(ref.slice(1));
      if (t !== undefined) return t.type;
    }
    let scope = from.fullName;
    for (;;) {
      const candidate = scope === '' ? ref : `${scope}.${ref}`;
      const t = this.types.get(candidate);
      if (t !== undefined) return t.type;
      if (scope === '') break;
      const i = scope.lastIndexOf('.');
      scope = i < 0 ? '' : scope.slice(0, i);
    }
    const t = this.types.get(ref);
    if (t !== undefined) return t.type;
    throw new Error(`proto schema: unknown type ${ref}`);
  }
}

// ---- wire codec ----------------------------------------------------------------------------

class Writer {
  private readonly parts: number[] = [];

  varint(n: bigint): void {
    let v = BigInt.asUintN(64, n);
    while (v >= 0x80n) {
      this.parts.push(Number((v & 0x7fn) | 0x80n));
      v >>= 7n;
    }
    this.parts.push(Number(v));
  }

  tag(number: number, wire: number): void {
    this.varint(BigInt((number << 3) | wire));
  }

  bytes(b: Uint8Array): void {
    this.varint(BigInt(b.length));
    for (const x of b) this.parts.push(x);
  }

  fixed(b: Buffer): void {
    for (const x of b) this.parts.push(x);
  }

  buffer(): Buffer {
    return Buffer.from(this.parts);
  }
}

class Reader {
  private pos = 0;
  private readonly buf: Buffer;

  constructor(buf: Buffer) {
    this.buf = buf;
  }

  done(): boolean {
    return this.pos >= this.buf.length;
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.buf[this.pos++];
      if (b === undefined) throw new Error('truncated protobuf varint');
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  }

  take(n: number): Buffer {
    if (this.pos + n > this.buf.length) throw new Error('truncated protobuf field');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.take(8);
    else if (wire === 2) this.take(Number(this.varint()));
    else if (wire === 5) this.take(4);
    else throw new Error(`unsupported protobuf wire type ${wire}`);
  }
}

function zigzag(n: bigint): bigint {
  return BigInt.asUintN(64, (n << 1n) ^ (n >> 63n));
}

function unzigzag(n: bigint): bigint {
  return (n >> 1n) ^ -(n & 1n);
}

function wireType(type: string): number {
  switch (type) {
    case 'double':
    case 'fixed64':
    case 'sfixed64':
      return 1;
    case 'float':
    case 'fixed32':
    case 'sfixed32':
      return 5;
    case 'string':
    case 'bytes':
      return 2;
    default:
      return SCALARS.has(type) ? 0 : 2;
  }
}

/** Decoded message: field name → value; absent fields are absent. */
export type ProtoObject = Record<string, unknown>;

function writeScalar(w: Writer, type: string, v: unknown): void {
  switch (type) {
    case 'double': {
      const b = Buffer.alloc(8);
      b.writeDoubleLE(Number(v));
      w.fixed(b);
      return;
    }
    case 'float': {
      const b = Buffer.alloc(4);
      b.writeFloatLE(Number(v));
      w.fixed(b);
      return;
    }
    case 'fixed32':
    case 'sfixed32': {
      const b = Buffer.alloc(4);
      if (type === 'fixed32') b.writeUInt32LE(Number(v) >>> 0);
      else b.writeInt32LE(Number(v) | 0);
      w.fixed(b);
      return;
    }
    case 'fixed64':
    case 'sfixed64': {
      const b = Buffer.alloc(8);
      b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(v as bigint | number)));
      w.fixed(b);
      return;
    }
    case 'sint32':
    case 'sint64':
      w.varint(zigzag(BigInt(v as bigint | number)));
      return;
    case 'bool':
      w.varint(v === true ? 1n : 0n);
      return;
    case 'string':
      w.bytes(Buffer.from(v as string, 'utf8'));
      return;
    case 'bytes':
      w.bytes(v as Uint8Array);
      return;
    default:
      w.varint(BigInt(v as bigint | number));
  }
}

function readScalar(r: Reader, type: string, wire: number): unknown {
  switch (type) {
    case 'double':
      return r.take(8).readDoubleLE(0);
    case 'float':
      return r.take(4).readFloatLE(0);
    case 'fixed32':
      return r.take(4).readUInt32LE(0);
    case 'sfixed32':
      return r.take(4).readInt32LE(0);
    case 'fixed64':
      return r.take(8).readBigUInt64LE(0);
    case 'sfixed64':
      return r.take(8).readBigInt64LE(0);
    case 'sint32':
      return Number(unzigzag(r.varint()));
    case 'sint64':
      return unzigzag(r.varint());
    case 'bool':
      return r.varint() !== 0n;
    case 'string':
      return r.take(Number(r.varint())).toString('utf8');
    case 'bytes':
      return Uint8Array.from(r.take(Number(r.varint())));
    case 'int32':
      return Number(BigInt.asIntN(32, r.varint()));
    case 'uint32':
      return Number(BigInt.asUintN(32, r.varint()));
    case 'int64':
      return BigInt.asIntN(64, r.varint());
    case 'uint64':
      return BigInt.asUintN(64, r.varint());
    default:
      // Enums and unknown varint types (wire type 0).
      if (wire !== 0) throw new Error(`unexpected wire type ${wire} for ${type}`);
      return Number(BigInt.asIntN(32, r.varint()));
  }
}

function isDefault(type: string, v: unknown): boolean {
  if (v === null || v === undefined) return true;
  if (type === 'string') return v === '';
  if (type === 'bytes') return (v as Uint8Array).length === 0;
  if (type === 'bool') return v === false;
  if (SCALARS.has(type)) return v === 0 || v === 0n;
  return false;
}

export function encodeMessage(schema: ProtoSchema, message: ProtoMessage, obj: ProtoObject): Buffer {
  const w = new Writer();
  for (const f of message.fields) {
    const v = obj[f.name];
    if (v === null || v === undefined) continue;
    if (f.map !== undefined) {
      const { key, value } = f.map;
      for (const [k, x] of v as Map<unknown, unknown>) {
        const e = new Writer();
        if (k !== null) {
          e.tag(1, wireType(key));
          writeScalar(e, key, k);
        }
        if (x !== null && x !== undefined) writeValue(schema, message, e, 2, value, x);
        w.tag(f.number, 2);
        w.bytes(e.buffer());
      }
      continue;
    }
    if (f.repeated) {
      for (const x of v as unknown[]) {
        if (x === null || x === undefined) continue;
        writeValue(schema, message, w, f.number, f.type, x);
      }
      continue;
    }
    if (SCALARS.has(f.type) && !f.optional && f.oneof === undefined && isDefault(f.type, v)) continue;
    writeValue(schema, message, w, f.number, f.type, v);
  }
  return w.buffer();
}

function writeValue(
  schema: ProtoSchema,
  from: ProtoMessage,
  w: Writer,
  number: number,
  type: string,
  v: unknown,
): void {
  if (SCALARS.has(type)) {
    w.tag(number, wireType(type));
    writeScalar(w, type, v);
    return;
  }
  const t = schema.resolve(type, from);
  if (t.kind === 'enum') {
    w.tag(number, 0);
    const n = typeof v === 'string' ? (t.numbers.get(v) ?? 0) : Number(v);
    w.varint(BigInt(n));
    return;
  }
  w.tag(number, 2);
  w.bytes(encodeMessage(schema, t, v as ProtoObject));
}

export function decodeMessage(schema: ProtoSchema, message: ProtoMessage, buf: Buffer): ProtoObject {
  const r = new Reader(buf);
  const out: ProtoObject = {};
  const byNumber = new Map(message.fields.map((f) => [f.number, f]));
  while (!r.done()) {
    const tag = Number(r.varint());
    const number = tag >>> 3;
    const wire = tag & 7;
    const f = byNumber.get(number);
    if (f === undefined) {
      r.skip(wire);
      continue;
    }
    if (f.map !== undefined) {
      const entry = new Reader(r.take(Number(r.varint())));
      let k: unknown = null;
      let x: unknown = null;
      while (!entry.done()) {
        const et = Number(entry.varint());
        if (et >>> 3 === 1) k = readScalar(entry, f.map.key, et & 7);
        else if (et >>> 3 === 2) x = readValue(schema, message, entry, f.map.value, et & 7);
        else entry.skip(et & 7);
      }
      const m = (out[f.name] as Map<unknown, unknown> | undefined) ?? new Map<unknown, unknown>();
      m.set(k ?? defaultScalar(f.map.key), x ?? defaultFor(schema, message, f.map.value));
      out[f.name] = m;
      continue;
    }
    if (f.repeated) {
      const list = (out[f.name] as unknown[] | undefined) ?? [];
      if (wire === 2 && SCALARS.has(f.type) && f.type !== 'string' && f.type !== 'bytes') {
        // Packed repeated scalars.
        const packed = new Reader(r.take(Number(r.varint())));
        while (!packed.done()) list.push(readScalar(packed, f.type, wireType(f.type)));
      } else {
        list.push(readValue(schema, message, r, f.type, wire));
      }
      out[f.name] = list;
      continue;
    }
    out[f.name] = readValue(schema, message, r, f.type, wire);
  }
  return out;
}

function readValue(schema: ProtoSchema, from: ProtoMessage, r: Reader, type: string, wire: number): unknown {
  if (SCALARS.has(type)) return readScalar(r, type, wire);
  const t = schema.resolve(type, from);
  if (t.kind === 'enum') {
    const n = Number(BigInt.asIntN(32, r.varint()));
    return t.values.get(n) ?? String(n);
  }
  return decodeMessage(schema, t, r.take(Number(r.varint())));
}

export function defaultScalar(type: string): unknown {
  switch (type) {
    case 'string':
      return '';
    case 'bytes':
      return new Uint8Array();
    case 'bool':
      return false;
    case 'int64':
    case 'uint64':
    case 'sint64':
    case 'fixed64':
    case 'sfixed64':
      return 0n;
    default:
      return 0;
  }
}

function defaultFor(schema: ProtoSchema, from: ProtoMessage, type: string): unknown {
  if (SCALARS.has(type)) return defaultScalar(type);
  const t = schema.resolve(type, from);
  return t.kind === 'enum' ? (t.values.get(0) ?? '') : null;
}

/** Confluent's message-index prefix: count then indexes (zigzag varints); [0] is the single byte 0. */
export function encodeMessageIndexes(indexes: readonly number[]): Buffer {
  if (indexes.length === 1 && indexes[0] === 0) return Buffer.from([0]);
  const w = new Writer();
  w.varint(zigzag(BigInt(indexes.length)));
  for (const i of indexes) w.varint(zigzag(BigInt(i)));
  return w.buffer();
}

export function decodeMessageIndexes(buf: Buffer): { indexes: number[]; rest: Buffer } {
  let pos = 0;
  const read = (): number => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = buf[pos++];
      if (b === undefined) throw new Error('truncated message indexes');
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return Number(unzigzag(result));
      shift += 7n;
    }
  };
  const count = read();
  if (count === 0) return { indexes: [0], rest: buf.subarray(pos) };
  const indexes: number[] = [];
  for (let i = 0; i < count; i++) indexes.push(read());
  return { indexes, rest: buf.subarray(pos) };
}
