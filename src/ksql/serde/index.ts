/**
 * Creates the serde for a key or a value from its format and columns.
 */
import { unsupported } from '../errors.ts';
import type { Column } from '../schema/logical.ts';
import { avroSerde } from './avro.ts';
import { delimitedSerde } from './delimited.ts';
import { DEFAULT_VALUE_SCHEMA_NAME, defaultKeySchemaName, type FormatInfo } from './formats.ts';
import { jsonSchemaForColumns, jsonSerde } from './json.ts';
import { kafkaSerde } from './kafka.ts';
import { protobufSerde } from './protobuf.ts';
import { keySubject, valueSubject, type SchemaRegistryPort } from './registry.ts';
import { syncSerde, type RowSerde } from './serde.ts';

export interface CreateSerdeOptions {
  readonly format: FormatInfo;
  readonly columns: readonly Column[];
  readonly isKey: boolean;
  /** Single column written bare. */
  readonly unwrapped: boolean;
  readonly topic: string;
  readonly registry: SchemaRegistryPort;
  /** Source name, used to name generated key schemas (`<Name>Key`). */
  readonly sourceName: string;
}

/** Delimiter names ksqlDB accepts besides single characters. */
export function delimiterChar(name: string | undefined): string {
  if (name === undefined) return ',';
  if (name === 'TAB') return '\t';
  if (name === 'SPACE') return ' ';
  return name;
}

export function createSerde(o: CreateSerdeOptions): RowSerde {
  const subject = o.isKey ? keySubject(o.topic) : valueSubject(o.topic);
  const { format, columns } = o;
  let serde: RowSerde;
  switch (format.format) {
    case 'NONE':
      serde = syncSerde(
        () => null,
        (bytes) => (bytes === null && !o.isKey ? null : []),
      );
      break;
    case 'KAFKA':
      serde = kafkaSerde(columns[0]?.type);
      break;
    case 'DELIMITED':
      serde = delimitedSerde(columns, delimiterChar(format.properties.delimiter));
      break;
    case 'JSON':
      serde = jsonSerde({ columns, unwrapped: o.unwrapped });
      break;
    case 'JSON_SR': {
      let id: Promise<number> | undefined;
      let fields: Promise<readonly string[]> | undefined;
      const fixedId = format.properties.schemaId;
      serde = jsonSerde({
        columns,
        unwrapped: o.unwrapped,
        ...(fixedId === undefined
          ? {}
          : {
              schemaFields: () => {
                fields ??= o.registry.getById(fixedId).then((s) => {
                  const parsed = JSON.parse(s.schema) as { properties?: Record<string, unknown> };
                  return Object.keys(parsed.properties ?? {});
                });
                return fields;
              },
            }),
        schemaId: () => {
          id ??=
            fixedId !== undefined
              ? Promise.resolve(fixedId)
              : o.registry.register(subject, {
                  schemaType: 'JSON',
                  schema: JSON.stringify(jsonSchemaForColumns(columns, o.unwrapped)),
                });
          return id;
        },
      });
      break;
    }
    case 'AVRO':
      serde = avroSerde({
        columns,
        unwrapped: o.unwrapped,
        registry: o.registry,
        subject,
        isKey: o.isKey,
        fullSchemaName:
          format.properties.fullSchemaName ??
          (o.isKey ? defaultKeySchemaName(o.sourceName) : DEFAULT_VALUE_SCHEMA_NAME),
        ...(format.properties.schemaId === undefined ? {} : { schemaId: format.properties.schemaId }),
      });
      break;
    case 'PROTOBUF':
    case 'PROTOBUF_NOSR':
      serde = protobufSerde({
        columns,
        unwrapped: o.unwrapped,
        registry: o.registry,
        subject,
        isKey: o.isKey,
        useRegistry: format.format === 'PROTOBUF',
        ...(format.properties.fullSchemaName === undefined
          ? {}
          : { fullSchemaName: format.properties.fullSchemaName }),
        ...(format.properties.schemaId === undefined ? {} : { schemaId: format.properties.schemaId }),
      });
      break;
    default:
      throw unsupported(`format ${String(format.format)}`);
  }
  if (!o.isKey) return serde;
  // A null key reads as a key whose columns are all NULL.
  const nullKey = (row: readonly unknown[] | null): boolean =>
    row === null || columns.length === 0 || (columns.length === 1 && row[0] === null);
  const { serializeSync, deserializeSync, canSerializeSync, canDeserializeSync, prepareSerializeSync } =
    serde;
  const nullRow = (): null[] => columns.map(() => null);
  return {
    serialize: (row) => (nullKey(row) ? Promise.resolve(null) : serde.serialize(row)),
    deserialize: async (bytes) => {
      if (bytes === null) return nullRow();
      const row = await serde.deserialize(bytes);
      return row ?? nullRow();
    },
    ...(serializeSync === undefined
      ? {}
      : { serializeSync: (row) => (nullKey(row) ? null : serializeSync(row)) }),
    ...(deserializeSync === undefined
      ? {}
      : {
          deserializeSync: (bytes) => (bytes === null ? nullRow() : (deserializeSync(bytes) ?? nullRow())),
        }),
    ...(canSerializeSync === undefined ? {} : { canSerializeSync }),
    ...(prepareSerializeSync === undefined ? {} : { prepareSerializeSync }),
    ...(canDeserializeSync === undefined ? {} : { canDeserializeSync }),
  };
}
