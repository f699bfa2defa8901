/**
 * The schemas ksqlDB registers for a source in a schema-registry format (Avro, JSON schema), per
 * subject: `<topic>-key` then `<topic>-value`.
 */
import type { SourceDefinition } from '../planner/steps.ts';
import type { Column } from '../schema/logical.ts';
import { avroSchemaForColumns } from '../serde/avro.ts';
import {
  DEFAULT_VALUE_SCHEMA_NAME,
  defaultKeySchemaName,
  isKeyUnwrapped,
  isValueUnwrapped,
  type FormatInfo,
} from '../serde/formats.ts';
import { jsonSchemaForColumns } from '../serde/json.ts';
import { protoSchemaForColumns } from '../serde/protobuf.ts';
import { keySubject, valueSubject, type RegisteredSchema } from '../serde/registry.ts';

export interface SchemaRegistration {
  readonly subject: string;
  readonly isKey: boolean;
  readonly schema: RegisteredSchema;
}

export function schemasFor(source: SourceDefinition): SchemaRegistration[] {
  const sides: { format: FormatInfo; columns: readonly Column[]; isKey: boolean; unwrapped: boolean }[] = [
    {
      format: source.formats.key,
      columns: source.schema.key,
      isKey: true,
      unwrapped: isKeyUnwrapped(source.schema.key.length),
    },
    {
      format: source.formats.value,
      columns: source.schema.value,
      isKey: false,
      unwrapped: isValueUnwrapped(source.formats.value, source.schema.value.length),
    },
  ];
  const out: SchemaRegistration[] = [];
  for (const side of sides) {
    if (side.columns.length === 0 || side.format.properties.schemaId !== undefined) continue;
    const subject = side.isKey ? keySubject(source.topic) : valueSubject(source.topic);
    if (side.format.format === 'AVRO') {
      const name =
        side.format.properties.fullSchemaName ??
        (side.isKey ? defaultKeySchemaName(source.name) : DEFAULT_VALUE_SCHEMA_NAME);
      out.push({
        subject,
        isKey: side.isKey,
        schema: {
          schemaType: 'AVRO',
          schema: JSON.stringify(avroSchemaForColumns(side.columns, side.unwrapped, name, side.isKey)),
        },
      });
    } else if (side.format.format === 'PROTOBUF') {
      out.push({
        subject,
        isKey: side.isKey,
        schema: {
          schemaType: 'PROTOBUF',
          schema: protoSchemaForColumns(
            side.columns,
            side.format.properties.fullSchemaName ?? 'ConnectDefault1',
          ),
        },
      });
    } else if (side.format.format === 'JSON_SR') {
      out.push({
        subject,
        isKey: side.isKey,
        schema: {
          schemaType: 'JSON',
          schema: JSON.stringify(jsonSchemaForColumns(side.columns, side.unwrapped)),
        },
      });
    }
  }
  return out;
}
