/**
 * Formats expressions back to SQL the way ksqlDB's ExpressionFormatter does, for error messages
 * ("must include the partitioning expression ABS(INPUT.ID)") and for comparing expressions.
 */
import { formatType, needsQuoting, quoteIdentifier } from '../schema/types.ts';
import type { Expr } from './ast.ts';

function name(n: string): string {
  return needsQuoting(n) ? quoteIdentifier(n) : n;
}

function literal(e: Extract<Expr, { kind: 'Literal' }>): string {
  switch (e.type) {
    case 'NULL':
      return 'null';
    case 'BOOLEAN':
      return e.value === true ? 'true' : 'false';
    case 'STRING':
      return `'${String(e.value).replaceAll("'", "''")}'`;
    default:
      return String(e.value);
  }
}

export function formatExpression(e: Expr): string {
  switch (e.kind) {
    case 'Literal':
      return literal(e);
    case 'Column':
      return e.source === undefined ? name(e.name) : `${name(e.source)}.${name(e.name)}`;
    case 'Deref':
      return `${formatExpression(e.base)}->${name(e.field)}`;
    case 'Subscript':
      return `${formatExpression(e.base)}[${formatExpression(e.index)}]`;
    case 'Negate':
      return `-${formatExpression(e.operand)}`;
    case 'Arithmetic':
      return `(${formatExpression(e.left)} ${e.op} ${formatExpression(e.right)})`;
    case 'Compare':
      return `(${formatExpression(e.left)} ${e.op} ${formatExpression(e.right)})`;
    case 'Logical':
      return `(${formatExpression(e.left)} ${e.op} ${formatExpression(e.right)})`;
    case 'Not':
      return `(NOT ${formatExpression(e.operand)})`;
    case 'IsNull':
      return `(${formatExpression(e.operand)} IS ${e.negated ? 'NOT ' : ''}NULL)`;
    case 'Between':
      return `(${formatExpression(e.value)} ${e.negated ? 'NOT ' : ''}BETWEEN ${formatExpression(e.low)} AND ${formatExpression(e.high)})`;
    case 'In':
      return `(${formatExpression(e.value)} ${e.negated ? 'NOT ' : ''}IN (${e.list.map(formatExpression).join(', ')}))`;
    case 'Like':
      return `(${formatExpression(e.value)} ${e.negated ? 'NOT ' : ''}LIKE ${formatExpression(e.pattern)}${
        e.escape === undefined ? '' : ` ESCAPE '${e.escape}'`
      })`;
    case 'Case': {
      const parts = ['(CASE'];
      if (e.operand !== undefined) parts.push(formatExpression(e.operand));
      for (const w of e.whens)
        parts.push(`WHEN ${formatExpression(w.when)} THEN ${formatExpression(w.then)}`);
      if (e.else !== undefined) parts.push(`ELSE ${formatExpression(e.else)}`);
      parts.push('END)');
      return parts.join(' ');
    }
    case 'Cast':
      return `CAST(${formatExpression(e.operand)} AS ${formatType(e.type)})`;
    case 'Call':
      return `${e.name}(${e.star === true ? '*' : e.args.map(formatExpression).join(', ')})`;
    case 'ArrayCtor':
      return `ARRAY[${e.items.map(formatExpression).join(', ')}]`;
    case 'MapCtor':
      return `MAP(${e.entries.map((x) => `${formatExpression(x.key)}:=${formatExpression(x.value)}`).join(', ')})`;
    case 'StructCtor':
      return `STRUCT(${e.fields.map((f) => `${name(f.name)}:=${formatExpression(f.value)}`).join(', ')})`;
    case 'Lambda':
      return `(${e.params.join(', ')}) => ${formatExpression(e.body)}`;
    case 'LambdaVar':
      return e.name;
    case 'TimeUnit':
      return e.unit;
  }
}

/** Structural equality of expressions, ignoring source positions. */
export function sameExpression(a: Expr, b: Expr): boolean {
  return JSON.stringify(stripLoc(a)) === JSON.stringify(stripLoc(b));
}

export function stripLoc<T>(value: T): T {
  if (Array.isArray(value)) return value.map(stripLoc) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (k !== 'loc') out[k] = stripLoc(v);
    return out as T;
  }
  return value;
}
