import { describe, expect, it } from 'vitest';
import { createFunctionRegistry } from '../functions/builtins.ts';
import { parseExpression } from '../parser/parser.ts';
import { Decimal } from '../schema/decimal.ts';
import type { LogicalSchema } from '../schema/logical.ts';
import { formatType, T } from '../schema/types.ts';
import { ExpressionCompiler, type EvalContext } from './expressions.ts';
import { SourceScope } from './scope.ts';

const schema: LogicalSchema = {
  key: [{ name: 'K', type: T.STRING }],
  value: [
    { name: 'I', type: T.INTEGER },
    { name: 'L', type: T.BIGINT },
    { name: 'D', type: T.DOUBLE },
    { name: 'DEC', type: T.decimal(4, 2) },
    { name: 'S', type: T.STRING },
    { name: 'ARR', type: T.array(T.INTEGER) },
    { name: 'M', type: T.map(T.STRING, T.INTEGER) },
    { name: 'ST', type: T.struct([{ name: 'F', type: T.STRING }]) },
    { name: 'TS', type: T.TIMESTAMP },
  ],
};

const errors: string[] = [];
const ctx: EvalContext = {
  functions: { now: () => 1_000, uuid: () => 'uuid' },
  onError: (error, expression) => errors.push(`${expression}: ${(error as Error).message}`),
};

// key, value..., ROWTIME, ROWPARTITION, ROWOFFSET
const row: unknown[] = [
  'k',
  2147483647,
  9223372036854775807n,
  1.5,
  new Decimal(1250n, 2),
  ' hi ',
  [10, 20, 30],
  new Map([['a', 1]]),
  { F: 'field' },
  10,
  5n,
  0,
  7n,
];

function evaluate(sql: string, r: readonly unknown[] = row): unknown {
  const compiler = new ExpressionCompiler(new SourceScope(schema, ['SRC']), createFunctionRegistry());
  return compiler.compile(parseExpression(sql)).evaluate(r, ctx);
}

function typeOf(sql: string): string {
  const compiler = new ExpressionCompiler(new SourceScope(schema, ['SRC']), createFunctionRegistry());
  return formatType(compiler.compile(parseExpression(sql)).type);
}

describe('expressions', () => {
  it('wraps INT and BIGINT arithmetic like Java', () => {
    expect(evaluate('I + 1')).toBe(-2147483648);
    expect(evaluate('L + 1')).toBe(-9223372036854775808n);
    expect(evaluate('I * 2')).toBe(-2);
    expect(typeOf('I + L')).toBe('BIGINT');
    expect(evaluate('I + L')).toBe(-9223372034707292162n);
    expect(evaluate('7 / 2')).toBe(3);
    expect(evaluate('-7 % 3')).toBe(-1);
  });

  it('does exact DECIMAL arithmetic with ksqlDB result types', () => {
    expect(typeOf('DEC + DEC')).toBe('DECIMAL(5, 2)');
    expect((evaluate('DEC + DEC') as Decimal).toPlainString()).toBe('25.00');
    expect(typeOf('DEC * DEC')).toBe('DECIMAL(9, 4)');
    expect((evaluate('DEC * DEC') as Decimal).toPlainString()).toBe('156.2500');
    expect(typeOf('DEC / 3')).toBe('DECIMAL(15, 13)');
    expect((evaluate('DEC / 3') as Decimal).toPlainString()).toBe('4.1666666666667');
    expect(evaluate('DEC / 0.0')).toBeNull();
    expect(typeOf('DEC + D')).toBe('DOUBLE');
  });

  it('propagates NULL through arithmetic but makes comparisons with NULL false', () => {
    const withNull = [...row];
    withNull[1] = null;
    expect(evaluate('I + 1', withNull)).toBeNull();
    expect(evaluate('I = 1', withNull)).toBe(false);
    expect(evaluate('I <> 1', withNull)).toBe(false);
    expect(evaluate('I IS NULL', withNull)).toBe(true);
    expect(evaluate('I IS DISTINCT FROM 1', withNull)).toBe(true);
    expect(evaluate('I IS NOT DISTINCT FROM NULL', withNull)).toBe(true);
  });

  it('indexes arrays from 1, negative from the end, NULL out of range', () => {
    expect(evaluate('ARR[1]')).toBe(10);
    expect(evaluate('ARR[-1]')).toBe(30);
    expect(evaluate('ARR[4]')).toBeNull();
    expect(evaluate('ARR[0]')).toBeNull();
    expect(evaluate("M['a']")).toBe(1);
    expect(evaluate("M['b']")).toBeNull();
    expect(evaluate('ST->F')).toBe('field');
  });

  it('evaluates LIKE, IN, BETWEEN and CASE', () => {
    expect(evaluate("S LIKE ' h%'")).toBe(true);
    expect(evaluate("S LIKE '_hi_'")).toBe(true);
    expect(evaluate("'a%b' LIKE 'a!%b' ESCAPE '!'")).toBe(true);
    expect(evaluate("'axb' LIKE 'a!%b' ESCAPE '!'")).toBe(false);
    expect(evaluate('I IN (1, 2147483647)')).toBe(true);
    expect(evaluate('D BETWEEN 1 AND 2')).toBe(true);
    expect(evaluate("CASE WHEN I > 0 THEN 'pos' WHEN I < 0 THEN 'neg' END")).toBe('pos');
    expect(evaluate("CASE WHEN I < 0 THEN 'neg' END")).toBeNull();
    expect(evaluate("CASE I WHEN 2147483647 THEN 'max' ELSE 'other' END")).toBe('max');
  });

  it('evaluates CASE lazily: branches not taken are not run', () => {
    errors.length = 0;
    expect(evaluate("CASE WHEN true THEN 1 ELSE CAST('x' AS INT) END")).toBe(1);
    expect(errors).toEqual([]);
  });

  it('casts like ksqlDB, failing casts become NULL with a processing-log entry', () => {
    errors.length = 0;
    expect(evaluate("CAST('42' AS INT)")).toBe(42);
    expect(evaluate('CAST(D AS INT)')).toBe(1);
    expect(evaluate('CAST(D AS STRING)')).toBe('1.5');
    expect(evaluate('CAST(1 AS DOUBLE) + 0.0E0')).toBe(1);
    expect(evaluate('CAST(CAST(1 AS DOUBLE) AS STRING)')).toBe('1.0');
    expect((evaluate('CAST(I AS DECIMAL(20, 1))') as Decimal).toPlainString()).toBe('2147483647.0');
    expect(evaluate('CAST(TS AS STRING)')).toBe('1970-01-01T00:00:00.010');
    expect(evaluate("CAST('1970-01-01T00:00:01' AS TIMESTAMP)")).toBe(1000);
    expect(evaluate("CAST('nope' AS INT)")).toBeNull();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain("CAST('nope' AS INTEGER)");
  });

  it('compares timestamps with ISO strings', () => {
    expect(evaluate("TS > '1970-01-01T00:00:00.009'")).toBe(true);
    expect(evaluate("TS = '1970-01-01T00:00:00.010'")).toBe(true);
  });

  it('exposes ROWTIME, ROWPARTITION and ROWOFFSET', () => {
    expect(evaluate('ROWTIME')).toBe(5n);
    expect(evaluate('ROWPARTITION + 1')).toBe(1);
    expect(evaluate('ROWOFFSET * 2')).toBe(14n);
  });

  it('rejects unknown columns and qualifiers with ksqlDB messages', () => {
    expect(() => evaluate('NOPE')).toThrow("SELECT column 'NOPE' cannot be resolved.");
    expect(() => evaluate('X.I')).toThrow("'X' is not a valid stream/table name or alias.");
    expect(() => evaluate('NULL = NULL')).toThrow('Comparison with NULL not supported');
    expect(() => evaluate('CASE WHEN true THEN NULL END')).toThrow('All case branches have NULL type');
  });
});
