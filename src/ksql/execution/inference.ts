/**
 * Schema inference from the schema registry (ksqlDB's DefaultSchemaInjector): a CREATE statement in
 * an SR format without value (or key) columns gets them from the registered schema, either the latest
 * version of `<topic>-value` or the schema given by VALUE_SCHEMA_ID.
 */
import { statementError, unsupported } from '../errors.ts';
import type { Property, Statement, TableElement } from '../parser/ast.ts';
import type { Column } from '../schema/logical.ts';
import { T, type SqlType } from '../schema/types.ts';
import { isAvroRecord, sqlTypeFromAvro, type AvroSchema } from '../serde/avro.ts';
import { parseFormatName, supportsSchemaInference, type FormatName } from '../serde/formats.ts';
import {
  keySubject,
  valueSubject,
  type RegisteredSchema,
  type SchemaRegistryPort,
} from '../serde/registry.ts';
import { parseWithProperties } from '../analyzer/properties.ts';
import { loadProtoSchema, protoColumns } from '../serde/protobuf.ts';

function upperFields(t: SqlType): SqlType {
  switch (t.type) {
    case 'STRUCT':
      return T.struct(t.fields.map((f) => ({ name: f.name.toUpperCase(), type: upperFields(f.type) })));
    case 'ARRAY':
      return T.array(upperFields(t.item));
    case 'MAP':
      return T.map(t.key, upperFields(t.value));
    default:
      return t;
  }
}

interface JsonSchemaNode {
  readonly type?: string | readonly string[];
  readonly oneOf?: readonly JsonSchemaNode[];
  readonly anyOf?: readonly JsonSchemaNode[];
  readonly properties?: Record<string, JsonSchemaNode>;
  readonly additionalProperties?: JsonSchemaNode | boolean;
  readonly items?: JsonSchemaNode;
  readonly title?: string;
  readonly 'connect.type'?: string;
  readonly 'connect.parameters'?: Record<string, string>;
}

/** SQL type of a JSON schema node (Connect's JSON schema conventions). */
export function sqlTypeFromJsonSchema(node: JsonSchemaNode): SqlType {
  const alts = node.oneOf ?? node.anyOf;
  if (alts !== undefined) {
    const nonNull = alts.filter((a) => a.type !== 'null');
    if (nonNull.length === 1) return sqlTypeFromJsonSchema(nonNull[0] as JsonSchemaNode);
    throw unsupported('JSON schema unions');
  }
  const type = Array.isArray(node.type)
    ? (node.type as string[]).find((t) => t !== 'null')
    : (node.type as string | undefined);
  switch (type) {
    case 'boolean':
      return T.BOOLEAN;
    case 'integer':
      if (node.title === 'org.apache.kafka.connect.data.Timestamp') return T.TIMESTAMP;
      if (node.title === 'org.apache.kafka.connect.data.Date') return T.DATE;
      if (node.title === 'org.apache.kafka.connect.data.Time') return T.TIME;
      return node['connect.type'] === 'int32' ||
        node['connect.type'] === 'int16' ||
        node['connect.type'] === 'int8'
        ? T.INTEGER
        : T.BIGINT;
    case 'number':
      if (node.title === 'org.apache.kafka.connect.data.Decimal') {
        const p = node['connect.parameters'] ?? {};
        return T.decimal(Number(p['connect.decimal.precision'] ?? '64'), Number(p.scale ?? '0'));
      }
      return T.DOUBLE;
    case 'string':
      return node['connect.type'] === 'bytes' ? T.BYTES : T.STRING;
    case 'array':
      return T.array(sqlTypeFromJsonSchema(node.items ?? { type: 'string' }));
    case 'object':
      if (node.properties !== undefined && node['connect.type'] !== 'map') {
        return T.struct(
          Object.entries(node.properties).map(([name, n]) => ({ name, type: sqlTypeFromJsonSchema(n) })),
        );
      }
      if (typeof node.additionalProperties === 'object')
        return T.map(T.STRING, sqlTypeFromJsonSchema(node.additionalProperties));
      return T.map(T.STRING, T.STRING);
    default:
      throw statementError(`Unsupported JSON schema type: ${String(type)}`);
  }
}

export interface InferredColumns {
  readonly columns: Column[];
  /** The schema is not a record/object: one column named ROWVAL/ROWKEY, written unwrapped. */
  readonly anonymous: boolean;
}

export function columnsFromSchema(
  format: FormatName,
  registered: RegisteredSchema,
  isKey: boolean,
  exactNames: boolean,
  unwrapped = false,
): InferredColumns {
  const anonymousName = isKey ? 'ROWKEY' : 'ROWVAL';
  const fix = (t: SqlType): SqlType => (exactNames ? t : upperFields(t));
  const name = (n: string): string => (exactNames ? n : n.toUpperCase());
  if (format === 'AVRO') {
    if (registered.schemaType !== 'AVRO')
      throw statementError(`Schema ${registered.schemaType} is not an AVRO schema`);
    const schema = JSON.parse(registered.schema) as AvroSchema;
    const t = sqlTypeFromAvro(schema);
    if (isAvroRecord(schema) && t.type === 'STRUCT' && !unwrapped) {
      return { columns: t.fields.map((f) => ({ name: name(f.name), type: fix(f.type) })), anonymous: false };
    }
    return { columns: [{ name: anonymousName, type: fix(t) }], anonymous: true };
  }
  if (format === 'JSON_SR') {
    const node = JSON.parse(registered.schema) as JsonSchemaNode;
    const t = sqlTypeFromJsonSchema(node);
    if (t.type === 'STRUCT' && (node.type === 'object' || node.properties !== undefined) && !unwrapped) {
      return { columns: t.fields.map((f) => ({ name: name(f.name), type: fix(f.type) })), anonymous: false };
    }
    return { columns: [{ name: anonymousName, type: fix(t) }], anonymous: true };
  }
  throw unsupported(`schema inference for ${format}`);
}

/** Columns from a registered protobuf schema: the record message's fields (keys too, not ROWKEY). */
async function protobufColumns(
  registry: SchemaRegistryPort,
  registered: RegisteredSchema,
  fullName: string | undefined,
  exactNames: boolean,
): Promise<Column[]> {
  if (registered.schemaType !== 'PROTOBUF')
    throw statementError(`Schema ${registered.schemaType} is not a PROTOBUF schema`);
  const schema = await loadProtoSchema(registry, registered);
  return protoColumns(schema, fullName).map((c) =>
    exactNames ? c : { name: c.name.toUpperCase(), type: upperFields(c.type) },
  );
}

function prop(name: string, value: string | number | boolean): Property {
  return {
    name,
    value:
      typeof value === 'boolean'
        ? { kind: 'Literal', type: 'BOOLEAN', value }
        : typeof value === 'number'
          ? { kind: 'Literal', type: 'INTEGER', value: String(value) }
          : { kind: 'Literal', type: 'STRING', value },
  };
}

/**
 * Fills in columns of a CREATE statement from the registry. Returns the statement unchanged when no
 * inference applies.
 */
export async function injectSchemas(
  stmt: Extract<Statement, { kind: 'CreateSource' }>,
  registry: SchemaRegistryPort,
  config: Readonly<Record<string, string>>,
): Promise<Extract<Statement, { kind: 'CreateSource' }>> {
  const w = parseWithProperties(stmt.properties);
  const valueFormatName = w.format ?? w.valueFormat ?? config['ksql.persistence.default.format.value'];
  const keyFormatName = w.format ?? w.keyFormat ?? config['ksql.persistence.default.format.key'] ?? 'KAFKA';
  if (valueFormatName === undefined || w.kafkaTopic === undefined) return stmt;
  const valueFormat = parseFormatName(valueFormatName);
  const keyFormat = parseFormatName(keyFormatName);
  const hasKey = stmt.elements.some((e) => e.constraint === 'KEY' || e.constraint === 'PRIMARY KEY');
  const hasValue = stmt.elements.some((e) => e.constraint === undefined);

  if (w.keySchemaId !== undefined) {
    if (!supportsSchemaInference(keyFormat)) {
      throw statementError(
        `KEY_FORMAT should support schema inference when KEY_SCHEMA_ID is provided. Current format is ${keyFormat}.`,
      );
    }
    if (hasKey)
      throw statementError('Table elements and KEY_SCHEMA_ID cannot both exist for create statement.');
  }
  if (w.valueSchemaId !== undefined) {
    if (!supportsSchemaInference(valueFormat)) {
      throw statementError(
        `VALUE_FORMAT should support schema inference when VALUE_SCHEMA_ID is provided. Current format is ${valueFormat}.`,
      );
    }
    if (hasValue)
      throw statementError('Table elements and VALUE_SCHEMA_ID cannot both exist for create statement.');
  }

  const elements: TableElement[] = [...stmt.elements];
  const properties: Property[] = [...stmt.properties];
  const constraint: 'PRIMARY KEY' | 'KEY' = stmt.sourceType === 'TABLE' ? 'PRIMARY KEY' : 'KEY';

  if (!hasKey && supportsSchemaInference(keyFormat)) {
    const fetched =
      w.keySchemaId !== undefined
        ? await registry.getById(w.keySchemaId).catch(() => {
            throw statementError(
              `Key schema with id ${w.keySchemaId ?? ''} does not exist in the Schema Registry.`,
            );
          })
        : (await registry.latest(keySubject(w.kafkaTopic)))?.schema;
    if (fetched !== undefined) {
      let keyCols: Column[];
      if (keyFormat === 'PROTOBUF') {
        keyCols = await protobufColumns(registry, fetched, w.keySchemaFullName, w.keySchemaId !== undefined);
      } else {
        const inferred = columnsFromSchema(keyFormat, fetched, true, w.keySchemaId !== undefined);
        keyCols = inferred.anonymous
          ? inferred.columns
          : [{ name: 'ROWKEY', type: T.struct(inferred.columns) }];
      }
      elements.unshift(...keyCols.map((c) => ({ name: c.name, type: c.type, constraint })));
    }
  }
  if (!hasValue && supportsSchemaInference(valueFormat)) {
    let fetched: RegisteredSchema | undefined;
    if (w.valueSchemaId !== undefined) {
      fetched = await registry.getById(w.valueSchemaId).catch(() => {
        throw statementError(
          `Value schema with id ${w.valueSchemaId ?? ''} does not exist in the Schema Registry.`,
        );
      });
    } else {
      fetched = (await registry.latest(valueSubject(w.kafkaTopic)))?.schema;
      if (fetched === undefined) {
        throw statementError(
          `Schema for message values on topic '${w.kafkaTopic}' does not exist in the Schema Registry.\nSubject: ${valueSubject(w.kafkaTopic)}\n\nPossible causes include:\n- The topic itself does not exist\n\t-> Use SHOW TOPICS; to check\n- Messages on the topic are not serialized using a format Schema Registry supports\n\t-> Use PRINT '${w.kafkaTopic}' FROM BEGINNING; to verify\n- Messages on the topic have not been serialized using a Confluent Schema Registry supported serializer\n\t-> See https://docs.confluent.io/current/schema-registry/docs/serializer-formatter.html\n- The schema is registered on a different instance of the Schema Registry\n\t-> Use the REST API to list available subjects\thttps://docs.confluent.io/current/schema-registry/docs/api.html#get--subjects\n- You do not have permissions to access the Schema Registry.Subject: ${valueSubject(w.kafkaTopic)}\n\t-> See https://docs.confluent.io/current/schema-registry/docs/security.html`,
        );
      }
    }
    if (valueFormat === 'PROTOBUF') {
      const cols = await protobufColumns(
        registry,
        fetched,
        w.valueSchemaFullName,
        w.valueSchemaId !== undefined,
      );
      for (const c of cols) elements.push({ name: c.name, type: c.type });
    } else {
      const inferred = columnsFromSchema(
        valueFormat,
        fetched,
        false,
        w.valueSchemaId !== undefined,
        w.wrapSingleValue === false,
      );
      for (const c of inferred.columns) elements.push({ name: c.name, type: c.type });
      if (inferred.anonymous && w.wrapSingleValue === undefined)
        properties.push(prop('WRAP_SINGLE_VALUE', false));
    }
  }
  return { ...stmt, elements, properties };
}

/** Value columns of a registered schema, exact names (CSAS with VALUE_SCHEMA_ID). */
export async function registeredValueColumns(
  format: FormatName,
  schemaId: number,
  registry: SchemaRegistryPort,
  fullName?: string,
): Promise<Column[]> {
  const fetched = await registry.getById(schemaId);
  if (format === 'PROTOBUF') return protobufColumns(registry, fetched, fullName, true);
  return columnsFromSchema(format, fetched, false, true).columns;
}
