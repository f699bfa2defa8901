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
