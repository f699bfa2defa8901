/**
 * PROTOBUF and PROTOBUF_NOSR formats: not implemented yet; creating a serde fails clearly.
 */
import { unsupported } from '../errors.ts';
import type { Column } from '../schema/logical.ts';
import type { SchemaRegistryPort } from './registry.ts';
import type { RowSerde } from './serde.ts';

export interface ProtobufSerdeOptions {
  readonly columns: readonly Column[];
  readonly unwrapped: boolean;
  readonly registry: SchemaRegistryPort;
  readonly subject: string;
  readonly isKey: boolean;
  readonly useRegistry: boolean;
  readonly fullSchemaName?: string;
  readonly schemaId?: number;
}

export function protobufSerde(_options: ProtobufSerdeOptions): RowSerde {
  throw unsupported('PROTOBUF format');
}
