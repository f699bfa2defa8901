/**
 * Serialization formats: names, what each supports, and ksqlDB's validation messages. Pure (used by
 * the analyzer when a statement declares formats).
 */
import { statementError } from '../errors.ts';
import { persistenceColumnsText, type Column } from '../schema/logical.ts';
import { formatType, type SqlType } from '../schema/types.ts';

export const FORMAT_NAMES = [
  'KAFKA',
  'JSON',
  'JSON_SR',
  'AVRO',
  'PROTOBUF',
  'PROTOBUF_NOSR',
  'DELIMITED',
  'NONE',
] as const;
export type FormatName = (typeof FORMAT_NAMES)[number];

export interface FormatProperties {
  /** DELIMITED: the single-character delimiter. */
  readonly delimiter?: string;
  /** AVRO/PROTOBUF: the full name of the (generated or chosen) schema. */
  readonly fullSchemaName?: string;
  /** SR formats: a pre-registered schema id to read/write with. */
  readonly schemaId?: number;
}

export interface FormatInfo {
  readonly format: FormatName;
  readonly properties: FormatProperties;
}

export interface ValueFormatInfo extends FormatInfo {
  /** WRAP_SINGLE_VALUE: undefined = format default (wrapped for structured formats). */
  readonly wrapSingleValue?: boolean;
}

export function parseFormatName(text: string): FormatName {
  const upper = text.toUpperCase();
  if ((FORMAT_NAMES as readonly string[]).includes(upper)) return upper as FormatName;
  throw statementError(`Unknown format: ${upper}`);
}

/** Formats that read and write through a schema registry. */
export function usesSchemaRegistry(f: FormatName): boolean {
  return f === 'AVRO' || f === 'JSON_SR' || f === 'PROTOBUF';
}

export function supportsSchemaInference(f: FormatName): boolean {
  return usesSchemaRegistry(f);
}

/** Whether the format can hold several columns in one record (a struct). */
function supportsMultipleColumns(f: FormatName): boolean {
  return f !== 'KAFKA' && f !== 'NONE';
}

export function supportsWrapping(f: FormatName): boolean {
  return f === 'JSON' || f === 'JSON_SR' || f === 'AVRO' || f === 'PROTOBUF' || f === 'PROTOBUF_NOSR';
}

function unsupportedType(f: FormatName, t: SqlType): string | undefined {
  if (f === 'KAFKA') {
    return ['INTEGER', 'BIGINT', 'DOUBLE', 'STRING', 'BYTES'].includes(t.type) ? undefined : t.type;
  }
  if (f === 'DELIMITED') {
    return ['ARRAY', 'MAP', 'STRUCT'].includes(t.type) ? t.type : undefined;
  }
  return undefined;
}

function containsMap(t: SqlType): boolean {
  if (t.type === 'MAP') return true;
  if (t.type === 'ARRAY') return containsMap(t.item);
  if (t.type === 'STRUCT') return t.fields.some((f) => containsMap(f.type));
  return false;
}

function nonStringMapKey(t: SqlType): boolean {
  if (t.type === 'MAP') return t.key.type !== 'STRING' || nonStringMapKey(t.value);
  if (t.type === 'ARRAY') return nonStringMapKey(t.item);
  if (t.type === 'STRUCT') return t.fields.some((f) => nonStringMapKey(f.type));
  return false;
}

/** Checks the types of columns a format has to (de)serialize; throws ksqlDB's messages. */
function checkTypes(f: FormatName, columns: readonly Column[]): string | undefined {
  for (const c of columns) {
    const bad = unsupportedType(f, c.type);
    if (bad !== undefined) return `The '${f}' format does not support type '${bad}'`;
  }
  return undefined;
}

export function validateKeyFormat(format: FormatInfo, columns: readonly Column[]): void {
  for (const c of columns) {
    if (containsMap(c.type)) {
      throw statementError(
        `Map keys, including types that contain maps, are not supported as they may lead to unexpected behavior due to inconsistent serialization. Key column name: \`${c.name}\`. Column type: ${formatType(
          c.type,
        )}. See https://github.com/confluentinc/ksql/issues/6621 for more.`,
      );
    }
  }
  const f = format.format;
  let reason: string | undefined;
  if (f === 'NONE' && columns.length > 0)
    reason = "The 'NONE' format can only be used when no columns are defined";
  if (reason === undefined && columns.length > 1 && !supportsMultipleColumns(f)) {
    reason = `The '${f}' format only supports a single field. Got: ${persistenceColumnsText(columns, true)}`;
  }
  const complex = columns.find((c) => ['ARRAY', 'MAP', 'STRUCT'].includes(c.type.type));
  if (reason === undefined && f === 'DELIMITED' && complex !== undefined) {
    reason = `The '${f}' format does not support type '${complex.type.type}', column: \`${complex.name}\``;
  }
  reason ??= checkTypes(f, columns);
  if (reason !== undefined) {
    throw statementError(
      `Key format does not support schema.\nformat: ${f}\nschema: Persistence{columns=${persistenceColumnsText(
        columns,
        true,
      )}, features=[]}\nreason: ${reason}`,
    );
  }
}

export function validateValueFormat(format: ValueFormatInfo, columns: readonly Column[]): void {
  const f = format.format;
  if (format.wrapSingleValue !== undefined && columns.length !== 1) {
    throw statementError("'WRAP_SINGLE_VALUE' is only valid for single-field value schemas");
  }
  if (f === 'DELIMITED' && format.wrapSingleValue === true) {
    throw statementError("Format 'DELIMITED' does not support 'WRAP_SINGLE_VALUE' set to 'true'.");
  }
  if (f === 'KAFKA' && format.wrapSingleValue === true) {
    throw statementError("Format 'KAFKA' does not support 'WRAP_SINGLE_VALUE' set to 'true'.");
  }
  if (columns.length > 1 && !supportsMultipleColumns(f)) {
    throw statementError(
      `The '${f}' format only supports a single field. Got: ${persistenceColumnsText(columns, false)}`,
    );
  }
  const bad = checkTypes(f, columns);
  if (bad !== undefined) throw statementError(bad);
  if ((f === 'JSON' || f === 'JSON_SR') && columns.some((c) => nonStringMapKey(c.type))) {
    throw statementError('JSON only supports MAP types with STRING keys');
  }
  if (f === 'AVRO' && columns.some((c) => nonStringMapKey(c.type))) {
    throw statementError('Avro only supports MAPs with STRING keys');
  }
  if (f === 'AVRO') {
    for (const c of columns) {
      if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(c.name)) {
        const first = c.name[0] ?? '';
        if (!/[A-Za-z_]/.test(first)) {
          throw statementError(`Schema is not compatible with Avro: Illegal initial character: ${c.name}`);
        }
      }
    }
  }
}

/** Checks that format properties are legal for the format (ksqlDB's "does not support the following configs"). */
export function validateFormatProperties(format: FormatInfo): void {
  const p = format.properties;
  const f = format.format;
  const bad: string[] = [];
  if (p.delimiter !== undefined && f !== 'DELIMITED') bad.push('delimiter');
  if (p.fullSchemaName !== undefined && f !== 'AVRO' && f !== 'PROTOBUF' && f !== 'PROTOBUF_NOSR') {
    bad.push('fullSchemaName');
  }
  if (bad.length > 0) {
    throw statementError(
      `${f === 'JSON_SR' ? 'JSON_SR' : f} does not support the following configs: [${bad.join(', ')}]`,
    );
  }
  if (p.fullSchemaName !== undefined && p.fullSchemaName.trim() === '') {
    throw statementError('fullSchemaName cannot be empty. Format configuration: {fullSchemaName=}');
  }
}

/** ksqlDB's generated Avro key schema name for a sink: `io.confluent.ksql.avro_schemas.<UpperCamel>Key`. */
export function defaultKeySchemaName(sourceName: string): string {
  const camel = sourceName
    .split(/[^A-Za-z0-9]+/)
    .filter((p) => p !== '')
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1).toLowerCase())
    .join('');
  return `io.confluent.ksql.avro_schemas.${camel}Key`;
}

export const DEFAULT_VALUE_SCHEMA_NAME = 'io.confluent.ksql.avro_schemas.KsqlDataSourceSchema';

/** Whether a single value column is written bare rather than inside a record/object. */
export function isValueUnwrapped(format: ValueFormatInfo, columnCount: number): boolean {
  if (columnCount !== 1) return false;
  if (format.format === 'KAFKA') return true;
  if (format.format === 'DELIMITED') return false;
  return format.wrapSingleValue === false;
}

/** Keys with one column are written bare (ksqlDB's UNWRAP_SINGLES key feature). */
export function isKeyUnwrapped(columnCount: number): boolean {
  return columnCount === 1;
}
