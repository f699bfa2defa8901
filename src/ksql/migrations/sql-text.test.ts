import { describe, expect, it } from 'vitest';
import { md5, newMigrationFileName, parseProperties, type MigrationFile } from './files.ts';
import { prepare, StatementFailure } from './migrator.ts';
import { classify, parseDefine, splitStatements, substitute } from './sql-text.ts';

const file = (text: string, fileName = 'V000001__test.sql'): MigrationFile => ({
  version: 1,
  name: 'test',
  fileName,
  path: `/x/${fileName}`,
  checksum: md5(Buffer.from(text)),
  text,
});

describe('splitStatements', () => {
  it("splits on ';' outside quotes and comments, with the line each statement starts on", () => {
    const text = [
      '-- a comment; with a semicolon',
      "CREATE STREAM A (X STRING) WITH (KAFKA_TOPIC='a;b', VALUE_FORMAT='JSON');",
      '/* block; comment */ CREATE STREAM `B;` AS',
      "  SELECT 'it''s; fine' AS S FROM A;",
      '',
      'DROP STREAM A;',
    ].join('\n');
    const statements = splitStatements(text, 'f.sql');
    expect(statements.map((s) => s.line)).toEqual([1, 3, 6]);
    expect(statements[1]?.text).toContain("'it''s; fine'");
    expect(statements[2]?.text).toBe('DROP STREAM A');
  });

  it('refuses a last statement without ; and unterminated quotes, naming the line', () => {
    expect(() => splitStatements('CREATE STREAM A;\nDROP STREAM A', 'f.sql')).toThrow('f.sql:2');
    expect(() => splitStatements("SELECT 'x;\n", 'f.sql')).toThrow("f.sql:1: unterminated ' quote");
  });
});

describe('variables', () => {
  const vars = new Map([
    ['TOPIC', 'ingestion.raw.messages'],
    ['ID', '7'],
    ['NAME', "O'Brien"],
  ]);

  it('substitutes inside literals (escaping quotes) and as identifiers or numbers', () => {
    expect(substitute("WITH (KAFKA_TOPIC='${topic}', VALUE_SCHEMA_ID=${id})", vars)).toBe(
      "WITH (KAFKA_TOPIC='ingestion.raw.messages', VALUE_SCHEMA_ID=7)",
    );
    expect(substitute("SELECT '${name}' AS N", vars)).toBe("SELECT 'O''Brien' AS N");
  });

  it('fails on unknown variables and on text that would change the statement outside quotes', () => {
    expect(() => substitute('VALUE_SCHEMA_ID=${missing}', vars)).toThrow('${missing} is not defined');
    expect(() => substitute('KAFKA_TOPIC=${topic}', vars)).toThrow('quote the reference');
  });

  it('parses --define', () => {
    expect(parseDefine('topic=a.b=c')).toEqual(['TOPIC', 'a.b=c']);
    expect(() => parseDefine('1x=2')).toThrow('--define must be name=value');
  });
});

describe('classify', () => {
  it('recognises client-side statements and refuses queries', () => {
    expect(classify("DEFINE x = 'it''s'")).toEqual({ kind: 'define', name: 'x', value: "it's" });
    expect(classify('UNDEFINE x')).toEqual({ kind: 'undefine', name: 'x' });
    expect(classify("SET 'auto.offset.reset' = 'earliest'")).toEqual({
      kind: 'set',
      property: 'auto.offset.reset',
      value: 'earliest',
    });
    expect(classify("UNSET 'auto.offset.reset'")).toEqual({ kind: 'unset', property: 'auto.offset.reset' });
    expect(classify('select * from t')).toEqual({ kind: 'rejected', verb: 'SELECT' });
    expect(classify('CREATE STREAM S AS SELECT * FROM T')).toEqual({ kind: 'server' });
    expect(() => classify('DEFINE x 1')).toThrow("DEFINE must read DEFINE name = 'value'");
  });
});

describe('prepare', () => {
  it('applies DEFINE/UNDEFINE in order over --define values and keeps SET for the server call', () => {
    const text = [
      "DEFINE topic = 'local.topic';",
      "CREATE STREAM A (X INT) WITH (KAFKA_TOPIC='${topic}', PARTITIONS=${parts}, VALUE_FORMAT='JSON');",
      "SET 'auto.offset.reset' = 'earliest';",
      'UNDEFINE topic;',
      'CREATE STREAM B AS SELECT * FROM A;',
    ].join('\n');
    const prepared = prepare(
      file(text),
      new Map([
        ['PARTS', '6'],
        ['TOPIC', 'from.cli'],
      ]),
    );
    expect(prepared.map((p) => p.kind)).toEqual(['server', 'set', 'server']);
    expect(prepared[0]?.text).toBe(
      "CREATE STREAM A (X INT) WITH (KAFKA_TOPIC='local.topic', PARTITIONS=6, VALUE_FORMAT='JSON')",
    );
    expect(prepared[2]?.line).toBe(5);
  });

  it('names the file and line of an invalid statement', () => {
    const text = "CREATE STREAM A (X INT) WITH (KAFKA_TOPIC='a', VALUE_FORMAT='JSON');\n\nSELECT * FROM A;\n";
    const error = (() => {
      try {
        prepare(file(text, 'V000003__bad.sql'), new Map());
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(StatementFailure);
    expect((error as Error).message).toContain('V000003__bad.sql:3');
    expect((error as Error).message).toContain('SELECT statements are not allowed');
  });
});

describe('files', () => {
  it('names new files like ksql-migrations and reads .properties', () => {
    expect(newMigrationFileName(12, ' add  "priority" col ')).toBe('V000012__add___priority__col.sql');
    expect(parseProperties('# c\nksql.migrations.stream.name = EVENTS\n\na:b\n')).toEqual({
      'ksql.migrations.stream.name': 'EVENTS',
      a: 'b',
    });
    expect(md5(Buffer.from('abc'))).toBe('900150983cd24fb0d6963f7d28e17f72');
  });
});
