/**
 * The JSON serde reads and writes through fast paths (plain JSON.parse, direct string building); these
 * tests hold them to the exact definitions: fromJson over parseJsonFast, stringifyJson over toJson.
 */
import { describe, expect, it } from 'vitest';
import { Decimal } from '../schema/decimal.ts';
import type { Column } from '../schema/logical.ts';
import { T, type SqlType } from '../schema/types.ts';
import { fromJson, jsonSerde, jsonWriter, toJson } from './json.ts';
import { parseJsonFast, stringifyJson, type JsonObject } from './json-text.ts';

const TYPES: Record<string, SqlType> = {
  BOOLEAN: T.BOOLEAN,
  INTEGER: T.INTEGER,
  BIGINT: T.BIGINT,
  DOUBLE: T.DOUBLE,
  'DECIMAL(10, 2)': T.decimal(10, 2),
  'DECIMAL(4, 1)': T.decimal(4, 1),
  STRING: T.STRING,
  TIMESTAMP: T.TIMESTAMP,
  DATE: T.DATE,
  TIME: T.TIME,
  BYTES: T.BYTES,
  'ARRAY<INTEGER>': T.array(T.INTEGER),
  'ARRAY<STRING>': T.array(T.STRING),
  'MAP<STRING, BIGINT>': T.map(T.STRING, T.BIGINT),
  'STRUCT<A INT, B STRING>': T.struct([
    { name: 'A', type: T.INTEGER },
    { name: 'B', type: T.STRING },
  ]),
};

/** JSON texts of values, including numbers whose text matters. */
const VALUES = [
  'null',
  'true',
  'false',
  '0',
  '-0',
  '-0.0',
  '10',
  '10.0',
  '1e2',
  '1.5',
  '-1.5',
  '2147483648',
  '-2147483649',
  '4294967297',
  '9007199254740991',
  '9007199254740993',
  '-9007199254740993',
  '12345678901234567890',
  '1e20',
  '1.0e20',
  '1e400',
  '-1e400',
  '0.1',
  '1.23456789012345678',
  '123.456',
  '"123"',
  '"12.5"',
  '"-7"',
  '"abc"',
  '""',
  '"AAEC"',
  '[]',
  '[1, 2.0, null]',
  '["a", 1]',
  '{}',
  '{"a": 1, "B": "x"}',
  '{"A": 1.0, "b": 2}',
  '{"A": "1", "B": 12.50}',
];

type Outcome = { ok: unknown } | { error: string };
const outcome = (f: () => unknown): Outcome => {
  try {
    return { ok: f() };
  } catch (error) {
    return { error: (error as Error).message };
  }
};

/** The exact reader: numbers with their source text. */
function reference(text: string, columns: readonly Column[], unwrapped: boolean): unknown[] | null {
  const node = parseJsonFast(text);
  if (node === null) return null;
  const single = columns[0];
  if (unwrapped && single !== undefined) return [fromJson(node, single.type)];
  const s = fromJson(node, { type: 'STRUCT', fields: columns }) as Record<string, unknown>;
  return columns.map((c) => s[c.name] ?? null);
}

describe('JSON fast paths', () => {
  it('read every value as the exact reader does, unwrapped and inside an object', () => {
    for (const [name, type] of Object.entries(TYPES)) {
      const single = [{ name: 'V', type }];
      const wrapped = jsonSerde({ columns: single, unwrapped: false });
      const bare = jsonSerde({ columns: single, unwrapped: true });
      for (const value of VALUES) {
        for (const text of [value, `{"V": ${value}}`, `{"v": ${value}}`, `{"V": ${value}, "v": 1}`]) {
          const bytes = Buffer.from(text);
          const what = `${name} from ${text}`;
          expect(
            outcome(() => wrapped.deserializeSync?.(bytes)),
            what,
          ).toEqual(outcome(() => reference(text, single, false)));
          expect(
            outcome(() => bare.deserializeSync?.(bytes)),
            what,
          ).toEqual(outcome(() => reference(text, single, true)));
        }
      }
    }
  });

  it('read columns named like inherited properties only from the record', () => {
    const columns = [
      { name: 'constructor', type: T.STRING },
      { name: 'TOSTRING', type: T.INTEGER },
      { name: 'valueOf', type: T.BIGINT },
    ];
    const serde = jsonSerde({ columns, unwrapped: false });
    for (const text of ['{}', '{"constructor": "c", "toString": 5, "VALUEOF": 7}', '{"CONSTRUCTOR": true}']) {
      expect(serde.deserializeSync?.(Buffer.from(text))).toEqual(reference(text, columns, false));
    }
    expect(serde.deserializeSync?.(Buffer.from('{}'))).toEqual([null, null, null]);
  });

  it('read text the native parser refuses (NaN) and report syntax errors like the exact reader', async () => {
    const columns = [{ name: 'D', type: T.DOUBLE }];
    const serde = jsonSerde({ columns, unwrapped: false });
    expect(serde.deserializeSync?.(Buffer.from('{"D": NaN}'))).toEqual([NaN]);
    expect(outcome(() => serde.deserializeSync?.(Buffer.from('{"D": ')))).toEqual(
      outcome(() => reference('{"D": ', columns, false)),
    );
    await expect(serde.deserialize(Buffer.from('{"D": 1'))).rejects.toThrow();
  });

  it('write every value as stringifyJson over toJson does', () => {
    const samples: [SqlType, unknown[]][] = [
      [T.BOOLEAN, [true, false, null]],
      [T.INTEGER, [0, -5, 2147483647, null]],
      [T.BIGINT, [0n, -9223372036854775808n, 12345678901234567n]],
      [T.DOUBLE, [0, -0, 1.5, 1e7, 1e-4, 123456789.123, NaN, Infinity, -Infinity, 0.1]],
      [T.decimal(10, 2), [Decimal.parse('12.50'), Decimal.parse('-0.01')]],
      [T.STRING, ['', 'a"b\\c\n', 'é✓😀', null]],
      [T.TIMESTAMP, [0, 1700000000123]],
      [T.BYTES, [Uint8Array.from([0, 1, 2, 255])]],
      [T.array(T.DOUBLE), [[1, null, 2.5], []]],
      [T.array(T.array(T.STRING)), [[['x'], null, []]]],
      [
        T.map(T.STRING, T.INTEGER),
        [
          new Map([
            ['b', 1],
            ['1', 2],
          ]),
        ],
      ],
      [T.struct([{ name: 'X', type: T.DOUBLE }]), [{ X: 1 }]],
    ];
    for (const [type, values] of samples) {
      const write = jsonWriter(type);
      for (const v of values) expect(write(v)).toBe(stringifyJson(toJson(v, type)));
    }
  });

  it('write rows with their fields in the order a JSON object keeps them', () => {
    const rowText = (columns: Column[], row: unknown[]): string | undefined =>
      jsonSerde({ columns, unwrapped: false }).serializeSync?.(row)?.toString();
    const reference = (columns: Column[], row: unknown[]): string => {
      const o: JsonObject = {};
      columns.forEach((c, i) => {
        Object.defineProperty(o, c.name, { value: toJson(row[i], c.type), enumerable: true, writable: true });
      });
      return stringifyJson(o);
    };
    const plain: Column[] = [
      { name: 'B', type: T.STRING },
      { name: 'A', type: T.INTEGER },
      { name: 'quoted "name"', type: T.BIGINT },
    ];
    expect(rowText(plain, ['x', 1, 2n])).toBe(reference(plain, ['x', 1, 2n]));
    // Array-index names come first in a JSON object, whatever the column order.
    const numeric: Column[] = [
      { name: 'B', type: T.STRING },
      { name: '1', type: T.INTEGER },
    ];
    expect(rowText(numeric, ['x', 1])).toBe(reference(numeric, ['x', 1]));
    expect(rowText(numeric, ['x', 1])).toBe('{"1":1,"B":"x"}');
  });
});
