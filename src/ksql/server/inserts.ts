/**
 * /inserts-stream rows → INSERT INTO … VALUES, so inserted rows go through the same serialization
 * as INSERT statements. Row keys match column names exactly first, then upper-cased (JSON's rule).
 */
import type { Engine } from '../execution/engine.ts';
import { statementError } from '../errors.ts';

function literal(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'string') return `'${value.replaceAll("'", "''")}'`;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw statementError('non-finite numbers cannot be inserted');
    return String(value);
  }
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (Array.isArray(value)) return `ARRAY[${value.map(literal).join(', ')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    return `STRUCT(${entries.map(([k, v]) => `\`${k.replaceAll('`', '``')}\` := ${literal(v)}`).join(', ')})`;
  }
  throw statementError(`cannot insert a value of type ${typeof value}`);
}

export async function insertRow(
  engine: Engine,
  target: string,
  row: Readonly<Record<string, unknown>>,
): Promise<void> {
  const source = engine.metastore.getSource(target) ?? engine.metastore.getSource(target.toUpperCase());
  if (!source) throw statementError(`Cannot insert values into an unknown stream/table: \`${target}\``);
  const columns = [...source.schema.key, ...source.schema.value].map((c) => c.name);
  const names: string[] = [];
  const values: string[] = [];
  for (const [key, value] of Object.entries(row)) {
    const name = columns.find((c) => c === key) ?? columns.find((c) => c === key.toUpperCase());
    if (name === undefined) throw statementError(`Column name ${key} does not exist.`);
    names.push(`\`${name}\``);
    values.push(literal(value));
  }
  await engine.execute(`INSERT INTO \`${source.name}\` (${names.join(', ')}) VALUES (${values.join(', ')});`);
}
