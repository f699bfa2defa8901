/**
 * ksqlDB's SQL types as plain data (JSON-serializable, so they can sit inside stored plans).
 *
 * Runtime values, by type: BOOLEAN boolean; INTEGER number (int32); BIGINT bigint; DOUBLE number;
 * DECIMAL `Decimal`; STRING string; BYTES Uint8Array; TIMESTAMP number (ms since epoch); DATE number
 * (days since epoch); TIME number (ms of day); ARRAY unknown[]; MAP `Map`; STRUCT a plain object keyed
 * by field name. SQL NULL is `null` for every type.
 */

export type SqlPrimitiveName =
  'BOOLEAN' | 'INTEGER' | 'BIGINT' | 'DOUBLE' | 'STRING' | 'BYTES' | 'TIMESTAMP' | 'DATE' | 'TIME';

export interface SqlPrimitive {
  readonly type: SqlPrimitiveName;
}
export interface SqlDecimal {
  readonly type: 'DECIMAL';
  readonly precision: number;
  readonly scale: number;
}
export interface SqlArray {
  readonly type: 'ARRAY';
  readonly item: SqlType;
}
export interface SqlMap {
  readonly type: 'MAP';
  readonly key: SqlType;
  readonly value: SqlType;
}
export interface SqlField {
  readonly name: string;
  readonly type: SqlType;
}
export interface SqlStruct {
  readonly type: 'STRUCT';
  readonly fields: readonly SqlField[];
}

export type SqlType = SqlPrimitive | SqlDecimal | SqlArray | SqlMap | SqlStruct;

/** The type of the NULL literal during analysis only; never a column type. */
export interface SqlNullType {
  readonly type: 'NULL';
}
export type ExprType = SqlType | SqlNullType;

export const T = {
  BOOLEAN: { type: 'BOOLEAN' } as SqlPrimitive,
  INTEGER: { type: 'INTEGER' } as SqlPrimitive,
  BIGINT: { type: 'BIGINT' } as SqlPrimitive,
  DOUBLE: { type: 'DOUBLE' } as SqlPrimitive,
  STRING: { type: 'STRING' } as SqlPrimitive,
  BYTES: { type: 'BYTES' } as SqlPrimitive,
  TIMESTAMP: { type: 'TIMESTAMP' } as SqlPrimitive,
  DATE: { type: 'DATE' } as SqlPrimitive,
  TIME: { type: 'TIME' } as SqlPrimitive,
  NULL: { type: 'NULL' } as SqlNullType,
  decimal: (precision: number, scale: number): SqlDecimal => ({ type: 'DECIMAL', precision, scale }),
  array: (item: SqlType): SqlArray => ({ type: 'ARRAY', item }),
  map: (key: SqlType, value: SqlType): SqlMap => ({ type: 'MAP', key, value }),
  struct: (fields: readonly SqlField[]): SqlStruct => ({ type: 'STRUCT', fields }),
} as const;

export function isNumeric(t: ExprType): boolean {
  return t.type === 'INTEGER' || t.type === 'BIGINT' || t.type === 'DOUBLE' || t.type === 'DECIMAL';
}

export function isPrimitive(t: ExprType): boolean {
  return t.type !== 'ARRAY' && t.type !== 'MAP' && t.type !== 'STRUCT';
}

export function typesEqual(a: ExprType, b: ExprType): boolean {
  if (a.type !== b.type) return false;
  switch (a.type) {
    case 'DECIMAL': {
      const d = b as SqlDecimal;
      return a.precision === d.precision && a.scale === d.scale;
    }
    case 'ARRAY':
      return typesEqual(a.item, (b as SqlArray).item);
    case 'MAP':
      return typesEqual(a.key, (b as SqlMap).key) && typesEqual(a.value, (b as SqlMap).value);
    case 'STRUCT': {
      const s = b as SqlStruct;
      return (
        a.fields.length === s.fields.length &&
        a.fields.every((f, i) => {
          const g = s.fields[i];
          return g !== undefined && f.name === g.name && typesEqual(f.type, g.type);
        })
      );
    }
    default:
      return true;
  }
}

/** True when the name needs backticks to be read back as the same identifier. */
export function needsQuoting(name: string): boolean {
  return !/^[A-Z_][A-Z0-9_@]*$/.test(name) || RESERVED_WORDS.has(name);
}

export function quoteIdentifier(name: string): string {
  return `\`${name.replaceAll('`', '``')}\``;
}

/** ksqlDB's SQL spelling of a type, e.g. `STRUCT<`A` INTEGER>`, `DECIMAL(4, 2)`. */
export function formatType(t: ExprType): string {
  switch (t.type) {
    case 'DECIMAL':
      return `DECIMAL(${t.precision}, ${t.scale})`;
    case 'ARRAY':
      return `ARRAY<${formatType(t.item)}>`;
    case 'MAP':
      return `MAP<${formatType(t.key)}, ${formatType(t.value)}>`;
    case 'STRUCT':
      return `STRUCT<${t.fields.map((f) => `${quoteIdentifier(f.name)} ${formatType(f.type)}`).join(', ')}>`;
    case 'NULL':
      return 'NULL';
    default:
      return t.type;
  }
}

/** Words that must be quoted to be used as identifiers (a subset of ksqlDB's reserved words). */
export const RESERVED_WORDS: ReadonlySet<string> = new Set([
  'SELECT',
  'FROM',
  'WHERE',
  'AS',
  'AND',
  'OR',
  'NOT',
  'NULL',
  'TRUE',
  'FALSE',
  'CREATE',
  'STREAM',
  'TABLE',
  'INSERT',
  'INTO',
  'VALUES',
  'WITH',
  'PARTITION',
  'BY',
  'GROUP',
  'HAVING',
  'JOIN',
  'ON',
  'CASE',
  'WHEN',
  'THEN',
  'ELSE',
  'END',
  'IS',
  'IN',
  'LIKE',
  'BETWEEN',
  'CAST',
  'DROP',
  'EMIT',
  'WINDOW',
  'LIMIT',
  'DISTINCT',
  'EXISTS',
]);
