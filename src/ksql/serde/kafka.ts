/**
 * KAFKA format: Kafka's own serializers for a single column (IntegerSerializer: 4-byte big-endian,
 * LongSerializer: 8 bytes, DoubleSerializer: IEEE 754 big-endian, StringSerializer: UTF-8, bytes raw).
 */
import type { SqlType } from '../schema/types.ts';
import { asBuffer, SerdeError, syncSerde, type RowSerde } from './serde.ts';

export function encodeKafka(value: unknown, type: SqlType): Buffer {
  switch (type.type) {
    case 'INTEGER': {
      const b = Buffer.alloc(4);
      b.writeInt32BE(value as number);
      return b;
    }
    case 'BIGINT': {
      const b = Buffer.alloc(8);
      b.writeBigInt64BE(value as bigint);
      return b;
    }
    case 'DOUBLE': {
      const b = Buffer.alloc(8);
      b.writeDoubleBE(value as number);
      return b;
    }
    case 'STRING':
      return Buffer.from(value as string, 'utf8');
    case 'BYTES':
      return Buffer.from(value as Uint8Array);
    default:
      throw new SerdeError(`The 'KAFKA' format does not support type '${type.type}'`);
  }
}

export function decodeKafka(bytes: Uint8Array, type: SqlType): unknown {
  const b = asBuffer(bytes);
  switch (type.type) {
    case 'INTEGER':
      if (b.length !== 4) throw new SerdeError('Size of data received by IntegerDeserializer is not 4');
      return b.readInt32BE(0);
    case 'BIGINT':
      if (b.length !== 8) throw new SerdeError('Size of data received by LongDeserializer is not 8');
      return b.readBigInt64BE(0);
    case 'DOUBLE':
      if (b.length !== 8) throw new SerdeError('Size of data received by Deserializer is not 8');
      return b.readDoubleBE(0);
    case 'STRING':
      return b.toString(); // UTF-8; without arguments Node skips the encoding lookup
    case 'BYTES':
      return Uint8Array.from(b);
    default:
      throw new SerdeError(`The 'KAFKA' format does not support type '${type.type}'`);
  }
}

export function kafkaSerde(type: SqlType | undefined): RowSerde {
  return syncSerde(
    (row) => {
      if (row === null || type === undefined) return null;
      const v = row[0] ?? null;
      return v === null ? null : encodeKafka(v, type);
    },
    (bytes) => {
      if (type === undefined) return bytes === null ? null : [];
      if (bytes === null) return null;
      return [decodeKafka(bytes, type)];
    },
  );
}
