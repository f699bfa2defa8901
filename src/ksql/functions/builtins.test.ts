import { describe, expect, it } from 'vitest';
import { ExpressionCompiler, type EvalContext } from '../analyzer/expressions.ts';
import { parseExpression } from '../parser/parser.ts';
import { Decimal } from '../schema/decimal.ts';
import { createFunctionRegistry, javaTrim } from './builtins.ts';
import { formatMillis, parseToMillis } from './datetime-format.ts';

const registry = createFunctionRegistry();
const ctx: EvalContext = {
  functions: { now: () => 1_600_000_000_123, uuid: () => '11111111-2222-3333-4444-555555555555' },
  onError: () => undefined,
};

function call(sql: string): unknown {
  const compiler = new ExpressionCompiler(
    {
      column: () => {
        throw new Error('no columns here');
      },
    },
    registry,
  );
  return compiler.compile(parseExpression(sql)).evaluate([], ctx);
}

describe('string functions', () => {
  it('TRIM strips only characters up to U+0020, like Java', () => {
    expect(javaTrim('\u0001 a b\t\n')).toBe('a b');
    expect(javaTrim('\u00a0x\u00a0')).toBe('\u00a0x\u00a0');
    expect(call("TRIM('  x  ')")).toBe('x');
    expect(call("LTRIM('  x  ')")).toBe('x  ');
    expect(call("RTRIM('  x  ')")).toBe('  x');
  });

  it('SUBSTRING is 1-based, negative from the end, clamped', () => {
    expect(call("SUBSTRING('some_string', 6)")).toBe('string');
    expect(call("SUBSTRING('short', 6)")).toBe('');
    expect(call("SUBSTRING('abcdef', -3)")).toBe('def');
    expect(call("SUBSTRING('abcdef', 2, 3)")).toBe('bcd');
    expect(call("SUBSTRING('abcdef', 5, 10)")).toBe('ef');
    expect(call('SUBSTRING(CAST(NULL AS STRING), 1)')).toBeNull();
  });

  it('CONCAT skips NULLs, CONCAT_WS joins with a separator', () => {
    expect(call("CONCAT('a', CAST(NULL AS STRING), 'b')")).toBe('ab');
    expect(call("CONCAT_WS('-', 'a', CAST(NULL AS STRING), 'b')")).toBe('a-b');
    expect(call("CONCAT_WS(CAST(NULL AS STRING), 'a')")).toBeNull();
  });

  it('SPLIT uses a literal delimiter; REGEXP functions use Java regex semantics', () => {
    expect(call("SPLIT('a.b..c', '.')")).toEqual(['a', 'b', '', 'c']);
    expect(call("SPLIT('abc', '')")).toEqual(['a', 'b', 'c']);
    expect(call("SPLIT('', ',')")).toEqual(['']);
    expect(call("REGEXP_REPLACE('a1b22', '[0-9]+', '#')")).toBe('a#b#');
    expect(call("REGEXP_REPLACE('john smith', '(\\w+) (\\w+)', '$2, $1')")).toBe('smith, john');
    expect(call("REGEXP_EXTRACT('[a-z]+([0-9]+)', 'abc123def', 1)")).toBe('123');
    expect(call("REGEXP_EXTRACT('x', 'abc')")).toBeNull();
    expect(call("REGEXP_SPLIT_TO_ARRAY('a(b)c', '\\(|\\)')")).toEqual(['a', 'b', 'c']);
  });

  it('LEN, INSTR, INITCAP, MASK, LPAD, RPAD', () => {
    expect(call("LEN('héllo')")).toBe(5);
    expect(call("INSTR('CORPORATE FLOOR', 'OR')")).toBe(2);
    expect(call("INSTR('CORPORATE FLOOR', 'OR', 3)")).toBe(5);
    expect(call("INSTR('CORPORATE FLOOR', 'OR', -3, 2)")).toBe(2);
    expect(call("INSTR('abc', 'z')")).toBe(0);
    expect(call("INITCAP('the   quICK brown')")).toBe('The   Quick Brown');
    expect(call("MASK('AbC-12')")).toBe('XxX-nn');
    expect(call("MASK('AbC-12', '*', CAST(NULL AS STRING), '#', '_')")).toBe('*b*_##');
    expect(call("MASK_KEEP_LEFT('AbC-12', 2)")).toBe('AbX-nn');
    expect(call("LPAD('ab', 5, 'xy')")).toBe('xyxab');
    expect(call("RPAD('abcdef', 3, 'x')")).toBe('abc');
    expect(call("LPAD('ab', 5, '')")).toBeNull();
  });

  it('ELT, FIELD, COALESCE, IFNULL, NULLIF', () => {
    expect(call("ELT(2, 'a', 'b', 'c')")).toBe('b');
    expect(call("ELT(4, 'a', 'b', 'c')")).toBeNull();
    expect(call("FIELD('b', 'a', 'b')")).toBe(2);
    expect(call("FIELD('z', 'a', 'b')")).toBe(0);
    expect(call('COALESCE(CAST(NULL AS INT), 2, 3)')).toBe(2);
    expect(call("IFNULL(CAST(NULL AS STRING), 'd')")).toBe('d');
    expect(call('NULLIF(1, 1)')).toBeNull();
    expect(() => call('COALESCE()')).toThrow("Function 'COALESCE' does not accept parameters ()");
  });

  it('EXTRACTJSONFIELD reads a JSON path', () => {
    expect(call(`EXTRACTJSONFIELD('{"a": {"b": [1, {"c": "x"}]}}', '$.a.b[1].c')`)).toBe('x');
    expect(call(`EXTRACTJSONFIELD('{"a": {"b": 2}}', '$.a')`)).toBe('{"b":2}');
    expect(call(`EXTRACTJSONFIELD('not json', '$.a')`)).toBeNull();
  });

  it('UUID comes from the injected generator', () => {
    expect(call('UUID()')).toBe('11111111-2222-3333-4444-555555555555');
  });
});

describe('math functions', () => {
  it('ABS, ROUND, FLOOR, CEIL keep ksqlDB types', () => {
    expect(call('ABS(-3)')).toBe(3);
    expect(call('ABS(-3.50)')).toEqual(new Decimal(350n, 2));
    expect(call('ROUND(2.5E0)')).toBe(3n);
    expect(call('ROUND(-2.5E0)')).toBe(-2n);
    expect(call('ROUND(1.2345E0, 2)')).toBe(1.23);
    expect((call('ROUND(1.55)') as Decimal).toPlainString()).toBe('2');
    expect(call('ROUND(5)')).toBe(5n);
    expect(call('ROUND(-2.5E0, 0)')).toBe(-2);
    expect((call('ROUND(-2.55, 1)') as Decimal).toPlainString()).toBe('-2.50');
    expect((call('ROUND(12.345, 2)') as Decimal).toPlainString()).toBe('12.350');
    expect(call('FLOOR(-1.5E0)')).toBe(-2);
    expect((call('CEIL(1.01)') as Decimal).toPlainString()).toBe('2.00');
    expect((call('FLOOR(-1.01)') as Decimal).toPlainString()).toBe('-2.00');
  });
});

describe('collection functions', () => {
  it('ARRAY_LENGTH, ARRAY_SORT, GENERATE_SERIES, MAP_KEYS', () => {
    expect(call('ARRAY_LENGTH(ARRAY[1, 2, 3])')).toBe(3);
    expect(call("ARRAY_SORT(ARRAY['b', 'a', CAST(NULL AS STRING)])")).toEqual(['a', 'b', null]);
    expect(call("ARRAY_SORT(ARRAY[1, 3, 2], 'DESC')")).toEqual([3, 2, 1]);
    expect(call('GENERATE_SERIES(4, 0, -2)')).toEqual([4, 2, 0]);
    expect(call("MAP_KEYS(MAP('a' := 1, 'b' := 2))")).toEqual(['a', 'b']);
  });
});

describe('date and time functions', () => {
  it('formats and parses with Java patterns', () => {
    expect(call("TIMESTAMPTOSTRING(1526075913000, 'yyyy-MM-dd''T''HH:mm:ssX')")).toBe('2018-05-11T21:58:33Z');
    expect(call("TIMESTAMPTOSTRING(0, 'yyyy-MM-dd HH:mm:ss.SSS Z', 'America/New_York')")).toBe(
      '1969-12-31 19:00:00.000 -0500',
    );
    expect(call("STRINGTOTIMESTAMP('2019-08-27T13:31:09.2+0000', 'yyyy-MM-dd''T''HH:mm:ss.SX')")).toBe(
      1566912669200n,
    );
    expect(call("STRINGTOTIMESTAMP('2018-05-11 21:58:33', 'yyyy-MM-dd HH:mm:ss', 'UTC')")).toBe(
      1526075913000n,
    );
    expect(call("STRINGTODATE('20200101', 'yyyyMMdd')")).toBe(18262);
    expect(call("STRINGTODATE('foo', 'yyyyMMdd')")).toBeNull();
    expect(
      call("FORMAT_TIMESTAMP(PARSE_TIMESTAMP('2020-02-29 10:00', 'yyyy-MM-dd HH:mm'), 'dd/MM/yyyy')"),
    ).toBe('29/02/2020');
    expect(call('UNIX_TIMESTAMP()')).toBe(1_600_000_000_123n);
  });

  it('rejects impossible dates', () => {
    expect(() => parseToMillis('2021-02-30', 'yyyy-MM-dd')).toThrow();
    expect(formatMillis(86_400_000 * 59, 'D EEE MMM')).toBe('60 Sun Mar');
  });
});

describe('ksqlDB quirks kept on purpose', () => {
  it('INITCAP drops leading whitespace; MASK works on Unicode classes; INSTR keeps its negative-position arithmetic', () => {
    expect(call("INITCAP('  hello WORLD')")).toBe('Hello World');
    expect(call("MASK('Ünïcode 7')")).toBe('Xxxxxxx-n');
    expect(() => call("MASK('x', 'ab', 'x', 'n', '-')")).not.toThrow();
    expect(call("MASK('x', 'ab', 'x', 'n', '-')")).toBeNull();
    expect(call("INSTR('abc', 'z', -1)")).toBe(3);
  });
});
