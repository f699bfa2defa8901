import { describe, expect, it } from 'vitest';
import { KsqlError } from '../errors.ts';
import { T } from '../schema/types.ts';
import type { Statement } from './ast.ts';
import { formatExpression, stripLoc } from './format.ts';
import { parseExpression, parseStatements, parseType, splitStatements } from './parser.ts';

function one(sql: string): Statement {
  const parsed = parseStatements(sql);
  expect(parsed).toHaveLength(1);
  return (parsed[0] as { statement: Statement }).statement;
}

function parseError(sql: string): KsqlError {
  try {
    parseStatements(sql);
  } catch (error) {
    expect(error).toBeInstanceOf(KsqlError);
    return error as KsqlError;
  }
  throw new Error(`expected a parse error for: ${sql}`);
}

describe('parser', () => {
  it('parses CREATE STREAM with key columns, types and WITH properties', () => {
    const s = one(
      "CREATE STREAM Orders (id INT KEY, `Name` STRING, amounts ARRAY<DECIMAL(4, 2)>, s STRUCT<a INT>) WITH (kafka_topic='orders', VALUE_FORMAT='json');",
    );
    expect(s.kind).toBe('CreateSource');
    if (s.kind !== 'CreateSource') return;
    expect(s.name).toBe('ORDERS');
    expect(s.elements.map((e) => [e.name, e.constraint])).toEqual([
      ['ID', 'KEY'],
      ['Name', undefined],
      ['AMOUNTS', undefined],
      ['S', undefined],
    ]);
    expect(s.elements[2]?.type).toEqual(T.array(T.decimal(4, 2)));
    expect(s.elements[3]?.type).toEqual(T.struct([{ name: 'A', type: T.INTEGER }]));
    expect(s.properties.map((p) => [p.name, p.value.kind === 'Literal' ? p.value.value : undefined])).toEqual(
      [
        ['KAFKA_TOPIC', 'orders'],
        ['VALUE_FORMAT', 'json'],
      ],
    );
  });

  it('parses CREATE STREAM AS SELECT with WHERE, PARTITION BY and aliases', () => {
    const s = one(
      'CREATE STREAM out WITH (partitions=4) AS SELECT id, ucase(name) AS n FROM src s WHERE s.id > 10 PARTITION BY n EMIT CHANGES;',
    );
    expect(s.kind).toBe('CreateAsSelect');
    if (s.kind !== 'CreateAsSelect') return;
    expect(s.query.from).toMatchObject({ name: 'SRC', alias: 'S' });
    expect(s.query.select).toHaveLength(2);
    expect(s.query.select[1]).toMatchObject({ kind: 'Expr', alias: 'N' });
    expect(formatExpression(s.query.where as never)).toBe('(S.ID > 10)');
    expect(s.query.partitionBy?.map(formatExpression)).toEqual(['N']);
    expect(s.query.emit).toBe('CHANGES');
  });

  it('keeps backticked and double-quoted identifiers as written', () => {
    const s = one('CREATE STREAM "mixed Case" AS SELECT `with.dot`, `SELECT` FROM `foo-source`;');
    if (s.kind !== 'CreateAsSelect') throw new Error('expected CSAS');
    expect(s.name).toBe('mixed Case');
    expect(s.query.from.name).toBe('foo-source');
    expect(s.query.select.map((i) => (i.kind === 'Expr' ? formatExpression(i.expr) : '*'))).toEqual([
      '`with.dot`',
      '`SELECT`',
    ]);
  });

  it('reads integer literals as INTEGER, BIGINT or DECIMAL by size, keeping exact text', () => {
    expect(parseExpression('-2147483648')).toMatchObject({
      kind: 'Literal',
      type: 'INTEGER',
      value: '-2147483648',
    });
    expect(parseExpression('2147483648')).toMatchObject({ kind: 'Literal', type: 'BIGINT' });
    expect(parseExpression('99999999999999999999')).toMatchObject({ kind: 'Literal', type: 'DECIMAL' });
    expect(parseExpression('1.50')).toMatchObject({ kind: 'Literal', type: 'DECIMAL', value: '1.50' });
    expect(parseExpression('1e3')).toMatchObject({ kind: 'Literal', type: 'DOUBLE' });
  });

  it('parses operators with SQL precedence', () => {
    expect(formatExpression(parseExpression('a + b * c = d OR NOT e AND f'))).toBe(
      '(((A + (B * C)) = D) OR ((NOT E) AND F))',
    );
    expect(formatExpression(parseExpression("x NOT LIKE 'a%' ESCAPE '!'"))).toBe(
      "(X NOT LIKE 'a%' ESCAPE '!')",
    );
    expect(formatExpression(parseExpression('s->f[1] IS NOT NULL'))).toBe('(S->F[1] IS NOT NULL)');
    expect(formatExpression(parseExpression('a BETWEEN 1 AND 2'))).toBe('(A BETWEEN 1 AND 2)');
  });

  it('parses CASE, CAST, constructors and lambdas', () => {
    expect(formatExpression(parseExpression("CASE WHEN a THEN 'x' ELSE 'y' END"))).toBe(
      "(CASE WHEN A THEN 'x' ELSE 'y' END)",
    );
    expect(formatExpression(parseExpression('CAST(a AS DECIMAL(5, 2))'))).toBe('CAST(A AS DECIMAL(5, 2))');
    expect(formatExpression(parseExpression("MAP('k' := 1)"))).toBe("MAP('k':=1)");
    expect(formatExpression(parseExpression('STRUCT(a := 1, `b` := 2)'))).toBe('STRUCT(A:=1, `b`:=2)');
    expect(stripLoc(parseExpression('TRANSFORM(arr, x => x + 1)'))).toMatchObject({
      kind: 'Call',
      args: [{ kind: 'Column' }, { kind: 'Lambda', params: ['X'], body: { kind: 'Arithmetic' } }],
    });
  });

  it('reports syntax errors with line, column and what was expected', () => {
    const e = parseError("CREATE STREAM X (K STRING (KEY)) WITH (kafka_topic='t', value_format='JSON');");
    expect(e.kind).toBe('parse');
    expect(e.message).toContain("line 1:28: Syntax Error\nExpecting {'STRING', INTEGER_VALUE}");
    expect(e.message).toContain('Statement: CREATE STREAM X (K STRING (KEY))');
    expect([e.line, e.column]).toEqual([1, 28]);
    const e2 = parseError('SELECT *\nFROM');
    expect(e2.message).toMatch(/^line 2:5: Syntax Error/);
  });

  it('rejects KEY on tables and PRIMARY KEY on streams with ksqlDB messages', () => {
    expect(
      parseError("CREATE TABLE T (ID INT KEY) WITH (kafka_topic='t', value_format='JSON');").message,
    ).toContain("Line: 1, Col: 17: Column `ID` is a 'KEY' column: please use 'PRIMARY KEY' for tables.");
    expect(
      parseError("CREATE STREAM S (ID INT PRIMARY KEY) WITH (kafka_topic='t', value_format='JSON');").message,
    ).toContain("Column `ID` is a 'PRIMARY KEY' column: please use 'KEY' for streams.");
  });

  it('parses DDL and session statements', () => {
    expect(one('DROP STREAM IF EXISTS s DELETE TOPIC;')).toMatchObject({
      kind: 'DropSource',
      ifExists: true,
      deleteTopic: true,
    });
    expect(one('TERMINATE CSAS_S_0;')).toMatchObject({ kind: 'Terminate', queryId: 'CSAS_S_0' });
    expect(one("DEFINE topic = 'orders';")).toMatchObject({
      kind: 'DefineVariable',
      name: 'topic',
      value: 'orders',
    });
    expect(one("SET 'auto.offset.reset' = 'earliest';")).toMatchObject({
      kind: 'SetProperty',
      name: 'auto.offset.reset',
    });
    expect(one('LIST STREAMS EXTENDED;')).toMatchObject({ kind: 'Show', what: 'STREAMS', extended: true });
    expect(one("INSERT INTO s (a, b) VALUES (1, 'x');")).toMatchObject({
      kind: 'InsertValues',
      columns: ['A', 'B'],
    });
  });

  it('parses types on their own', () => {
    expect(parseType('MAP<STRING, ARRAY<BIGINT>>')).toEqual(T.map(T.STRING, T.array(T.BIGINT)));
    expect(parseType('VARCHAR(STRING)')).toEqual(T.STRING);
  });

  it('splits statements on semicolons outside quotes and comments, keeping the text', () => {
    const text = "SELECT 'a;b' FROM x; -- c;d\nDEFINE v = 'x;y';";
    const pieces = splitStatements(text);
    expect(pieces).toHaveLength(2);
    expect(pieces.join('')).toBe(text);
    expect(pieces[0]).toBe("SELECT 'a;b' FROM x;");
  });
});
