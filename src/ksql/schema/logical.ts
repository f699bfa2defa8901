/**
 * ksqlDB's LogicalSchema: key columns and value columns. Pseudo columns (ROWTIME, ROWPARTITION,
 * ROWOFFSET) are not stored; they are added to the processing scope of a query.
 */
import { formatType, needsQuoting, quoteIdentifier, T, type SqlType } from './types.ts';

export interface Column {
  readonly name: string;
  readonly type: SqlType;
  /** HEADER('key') or HEADERS columns carry the header key (or '*' for all headers). */
  readonly header?: string;
}

export interface LogicalSchema {
  readonly key: readonly Column[];
  readonly value: readonly Column[];
}

export const PSEUDO_COLUMNS: readonly Column[] = [
  { name: 'ROWTIME', type: T.BIGINT },
  { name: 'ROWPARTITION', type: T.INTEGER },
  { name: 'ROWOFFSET', type: T.BIGINT },
];

export const WINDOW_BOUNDS = ['WINDOWSTART', 'WINDOWEND'];

/** Names a user may not use for columns (system columns). */
export const SYSTEM_COLUMN_NAMES: ReadonlySet<string> = new Set([
  'ROWTIME',
  'ROWPARTITION',
  'ROWOFFSET',
  'WINDOWSTART',
  'WINDOWEND',
]);

export function columnText(c: Column, namespace?: 'KEY'): string {
  const name = needsQuoting(c.name) ? quoteIdentifier(c.name) : c.name;
  return `${name} ${formatType(c.type)}${namespace === 'KEY' ? ' KEY' : ''}`;
}

/** `ID INTEGER KEY, NAME STRING` (ksqlDB's LogicalSchema.toString, without pseudo columns). */
export function schemaText(s: LogicalSchema): string {
  return [...s.key.map((c) => columnText(c, 'KEY')), ...s.value.map((c) => columnText(c))].join(', ');
}

/** Persistence text used in ksqlDB's format errors: "[`K` BOOLEAN KEY]". */
export function persistenceColumnsText(columns: readonly Column[], key: boolean): string {
  return `[${columns.map((c) => `${quoteIdentifier(c.name)} ${formatType(c.type)}${key ? ' KEY' : ''}`).join(', ')}]`;
}

export function findColumn(s: LogicalSchema, name: string): Column | undefined {
  return s.key.find((c) => c.name === name) ?? s.value.find((c) => c.name === name);
}
