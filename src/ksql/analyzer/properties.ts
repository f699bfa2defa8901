/**
 * WITH (...) properties of CREATE / CSAS / INSERT statements: names, value types and ksqlDB's
 * validation messages.
 */
import { statementError } from '../errors.ts';
import type { Property } from '../parser/ast.ts';
import { validatePattern } from '../functions/datetime-format.ts';

export interface WithProperties {
  readonly kafkaTopic?: string;
  readonly keyFormat?: string;
  readonly valueFormat?: string;
  readonly format?: string;
  readonly partitions?: number;
  readonly replicas?: number;
  readonly timestamp?: string;
  readonly timestampFormat?: string;
  readonly keySchemaId?: number;
  readonly valueSchemaId?: number;
  readonly keySchemaFullName?: string;
  readonly valueSchemaFullName?: string;
  readonly wrapSingleValue?: boolean;
  readonly keyDelimiter?: string;
  readonly valueDelimiter?: string;
  readonly windowType?: string;
  readonly windowSize?: string;
  readonly retentionMs?: number;
}

const KNOWN: Record<string, keyof WithProperties> = {
  KAFKA_TOPIC: 'kafkaTopic',
  KEY_FORMAT: 'keyFormat',
  VALUE_FORMAT: 'valueFormat',
  FORMAT: 'format',
  PARTITIONS: 'partitions',
  REPLICAS: 'replicas',
  TIMESTAMP: 'timestamp',
  TIMESTAMP_FORMAT: 'timestampFormat',
  KEY_SCHEMA_ID: 'keySchemaId',
  VALUE_SCHEMA_ID: 'valueSchemaId',
  KEY_SCHEMA_FULL_NAME: 'keySchemaFullName',
  VALUE_SCHEMA_FULL_NAME: 'valueSchemaFullName',
  // Legacy spelling, still accepted by ksqlDB.
  VALUE_AVRO_SCHEMA_FULL_NAME: 'valueSchemaFullName',
  WRAP_SINGLE_VALUE: 'wrapSingleValue',
  KEY_DELIMITER: 'keyDelimiter',
  VALUE_DELIMITER: 'valueDelimiter',
  WINDOW_TYPE: 'windowType',
  WINDOW_SIZE: 'windowSize',
  RETENTION_MS: 'retentionMs',
};

const NUMERIC = new Set<keyof WithProperties>([
  'partitions',
  'replicas',
  'keySchemaId',
  'valueSchemaId',
  'retentionMs',
]);

function literalText(p: Property): string {
  const v = p.value;
  if (v.kind !== 'Literal' || v.value === null)
    throw statementError(`Invalid value for property ${p.name}: null`);
  return String(v.value);
}

function checkDelimiter(name: string, value: string): void {
  if (value === 'TAB' || value === 'SPACE') return;
  if (value.trim() === '') {
    throw statementError(
      `Failed to prepare statement: Configuration ${name} is invalid: Delimiter cannot be empty, if you meant to have a tab or space for delimiter, please use the special values 'TAB' or 'SPACE'\nExample valid value: ';'`,
    );
  }
  if (value.length !== 1) {
    throw statementError(
      `Failed to prepare statement: Configuration ${name} is invalid: Invalid delimiter value: '${value}'. Delimiter must be a single character or TAB,SPACE\nExample valid value: ';'`,
    );
  }
}

export function parseWithProperties(props: readonly Property[]): WithProperties {
  const out: Record<string, unknown> = {};
  const unknown: string[] = [];
  for (const p of props) {
    const key = KNOWN[p.name];
    if (key === undefined) {
      unknown.push(p.name);
      continue;
    }
    const text = literalText(p);
    if (NUMERIC.has(key)) {
      const n = Number(text);
      if (!Number.isInteger(n))
        throw statementError(`Invalid value for ${p.name}: '${text}' is not an integer`);
      out[key] = n;
    } else if (key === 'wrapSingleValue') {
      const b = text.toLowerCase();
      if (b !== 'true' && b !== 'false') {
        throw statementError(`Property WRAP_SINGLE_VALUE must be either 'true' or 'false', got '${text}'`);
      }
      out[key] = b === 'true';
    } else {
      out[key] = text;
    }
  }
  if (unknown.length > 0) {
    throw statementError(`Invalid config variable(s) in the WITH clause: ${unknown.join(',')}`);
  }
  const w = out as WithProperties;
  if (w.format !== undefined && w.keyFormat !== undefined) {
    throw statementError(
      "Cannot supply both 'KEY_FORMAT' and 'FORMAT' properties, as 'FORMAT' sets both key and value formats. Either use just 'FORMAT', or use 'KEY_FORMAT' and 'VALUE_FORMAT'.",
    );
  }
  if (w.format !== undefined && w.valueFormat !== undefined) {
    throw statementError(
      "Cannot supply both 'VALUE_FORMAT' and 'FORMAT' properties, as 'FORMAT' sets both key and value formats. Either use just 'FORMAT', or use 'KEY_FORMAT' and 'VALUE_FORMAT'.",
    );
  }
  if (w.valueDelimiter !== undefined) checkDelimiter('VALUE_DELIMITER', w.valueDelimiter);
  if (w.keyDelimiter !== undefined) checkDelimiter('KEY_DELIMITER', w.keyDelimiter);
  if (w.timestampFormat !== undefined) {
    try {
      validatePattern(w.timestampFormat);
    } catch (error) {
      throw statementError(`Invalid datetime format: ${w.timestampFormat} ${(error as Error).message}`);
    }
  }
  if (w.partitions !== undefined && w.partitions < 1) {
    throw statementError(`Invalid number of partitions: ${w.partitions}`);
  }
  return w;
}

/** The engine settings ksqlDB statements read (ksql.* keys of the config and SET). */
export interface EngineSettings {
  readonly defaultKeyFormat: string;
  readonly defaultValueFormat?: string;
  readonly wrapSingleValues?: boolean;
  readonly outputTopicPrefix: string;
  readonly defaultPartitions?: number;
}

export function engineSettings(config: Readonly<Record<string, string>>): EngineSettings {
  const wrap = config['ksql.persistence.wrap.single.values'];
  const value = config['ksql.persistence.default.format.value'];
  return {
    defaultKeyFormat: config['ksql.persistence.default.format.key'] ?? 'KAFKA',
    ...(value === undefined ? {} : { defaultValueFormat: value }),
    ...(wrap === undefined ? {} : { wrapSingleValues: wrap.toLowerCase() === 'true' }),
    outputTopicPrefix: config['ksql.output.topic.name.prefix'] ?? '',
  };
}
