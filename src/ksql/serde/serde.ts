/**
 * Row serdes: turn the values of a list of columns (a key or a value) into record bytes and back.
 * Async because registry-backed formats may need to fetch or register schemas; everything else
 * resolves immediately.
 */
import type { Column } from '../schema/logical.ts';
import type { FormatInfo } from './formats.ts';
import type { SchemaRegistryPort } from './registry.ts';

export interface RowSerde {
  /** Values of the columns, in order; null writes a null record (tombstone). */
  serialize(row: readonly unknown[] | null): Promise<Buffer | null>;
  /** Null bytes read as a null row. Throws `SerdeError` on bytes that do not fit the schema. */
  deserialize(bytes: Uint8Array | null): Promise<unknown[] | null>;
  /**
   * The same as `serialize`, without a promise: present on formats that never wait for the registry.
   * A query whose serdes all have it runs a record without awaiting anything (a promise per record
   * and per serde showed up as a large share of the engine's CPU).
   */
  readonly serializeSync?: (row: readonly unknown[] | null) => Buffer | null;
  /** The same as `deserialize`, without a promise (throws instead of rejecting). */
  readonly deserializeSync?: (bytes: Uint8Array | null) => unknown[] | null;
  /**
   * On serdes whose sync methods need something loaded first (registry-backed schemas): whether
   * `serializeSync` can run now. The async methods load what is missing. Absent: always.
   */
  readonly canSerializeSync?: () => boolean;
  /** Loads what `serializeSync` needs (with `canSerializeSync`); rejects when the registry fails. */
  readonly prepareSerializeSync?: () => Promise<void>;
  /** Whether `deserializeSync` can run on these bytes now (their writer schema is loaded). */
  readonly canDeserializeSync?: (bytes: Uint8Array | null) => boolean;
}

/** A serde whose work is synchronous: the async methods wrap the sync ones. */
export function syncSerde(
  serialize: (row: readonly unknown[] | null) => Buffer | null,
  deserialize: (bytes: Uint8Array | null) => unknown[] | null,
): RowSerde {
  return {
    serialize(row) {
      try {
        return Promise.resolve(serialize(row));
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new SerdeError(String(error)));
      }
    },
    deserialize(bytes) {
      try {
        return Promise.resolve(deserialize(bytes));
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new SerdeError(String(error)));
      }
    },
    serializeSync: serialize,
    deserializeSync: deserialize,
  };
}

/** A Buffer over the same bytes (no copy). */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export interface SerdeOptions {
  readonly format: FormatInfo;
  readonly columns: readonly Column[];
  readonly isKey: boolean;
  /** Single column written bare (not inside a record/object). */
  readonly unwrapped: boolean;
  readonly topic: string;
  readonly registry: SchemaRegistryPort;
  /** The source/sink name (for generated Avro key schema names). */
  readonly sourceName?: string;
}

export class SerdeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SerdeError';
  }
}

/** Confluent wire format: magic byte 0, 4-byte big-endian schema id, payload. */
export function wrapWire(schemaId: number, payload: Uint8Array): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt8(0, 0);
  header.writeInt32BE(schemaId, 1);
  return Buffer.concat([header, payload]);
}

export function unwrapWire(bytes: Uint8Array): { schemaId: number; payload: Buffer } {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length < 5 || b.readUInt8(0) !== 0) throw new SerdeError('Unknown magic byte!');
  return { schemaId: b.readInt32BE(1), payload: b.subarray(5) };
}
