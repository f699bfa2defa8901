import { describe, expect, it } from 'vitest';
import { Decimal } from '../schema/decimal.ts';
import type { Column } from '../schema/logical.ts';
import { T } from '../schema/types.ts';
import { avroSchemaForColumns } from './avro.ts';
import { formatCsvLine, parseCsvLine } from './delimited.ts';
import { validateKeyFormat, validateValueFormat, type FormatInfo, type FormatName } from './formats.ts';
import { createSerde } from './index.ts';
import { parseJson, stringifyJson } from './json-text.ts';
import { decodeKafka, encodeKafka } from './kafka.ts';
import { protoSchemaForColumns } from './protobuf.ts';
import { InMemorySchemaRegistry } from './registry.ts';

function serde(
  format: FormatName,
  columns: Column[],
  opts: { isKey?: boolean; unwrapped?: boolean; registry?: InMemorySchemaRegistry } = {},
) {
  return createSerde({
    format: { format, properties: {} },
    columns,
    isKey: opts.isKey ?? false,
    unwrapped: opts.unwrapped ?? false,
    topic: 'orders',
    registry: opts.registry ?? new InMemorySchemaRegistry(),
    sourceName: 'ORDERS',
  });
}

describe('KAFKA format', () => {
  it("writes Kafka's serializer bytes", () => {
    expect(encodeKafka(1, T.INTEGER)).toEqual(Buffer.from([0, 0, 0, 1]));
    expect(encodeKafka(-1n, T.BIGINT)).toEqual(Buffer.alloc(8, 0xff));
    expect(encodeKafka(1.5, T.DOUBLE)).toEqual(Buffer.from([0x3f, 0xf8, 0, 0, 0, 0, 0, 0]));
    expect(encodeKafka('é', T.STRING)).toEqual(Buffer.from([0xc3, 0xa9]));
    expect(decodeKafka(Buffer.from([0xff, 0xff, 0xff, 0xfe]), T.INTEGER)).toBe(-2);
    expect(() => decodeKafka(Buffer.from([1, 2]), T.INTEGER)).toThrow('is not 4');
  });
});

describe('DELIMITED format', () => {
  it('quotes like Commons CSV MINIMAL and reads quoted fields back', () => {
    expect(formatCsvLine(['a', null, 'b,c', 'say "hi"'], ',')).toBe('a,,"b,c","say ""hi"""');
    expect(formatCsvLine(['-1.5', ' x'], ',')).toBe('"-1.5"," x"');
    expect(formatCsvLine(['', 'x'], ',')).toBe('"",x');
    expect(parseCsvLine('a,,"b,c","say ""hi"""', ',')).toEqual(['a', null, 'b,c', 'say "hi"']);
    expect(parseCsvLine('1|2', '|')).toEqual(['1', '2']);
  });

  it('round-trips typed columns and rejects column count mismatches', async () => {
    const s = serde('DELIMITED', [
      { name: 'A', type: T.INTEGER },
      { name: 'B', type: T.decimal(4, 2) },
      { name: 'C', type: T.STRING },
    ]);
    const bytes = await s.serialize([1, Decimal.parse('1.5'), null]);
    expect(bytes?.toString()).toBe('1,1.5,');
    expect(await s.deserialize(Buffer.from('7,2.5,x'))).toEqual([7, Decimal.parse('2.50'), 'x']);
    await expect(s.deserialize(Buffer.from('1,2'))).rejects.toThrow('Column count mismatch');
  });
});

describe('JSON format', () => {
  it('matches fields by exact name, then upper-cased, and coerces types', async () => {
    const s = serde('JSON', [
      { name: 'ID', type: T.BIGINT },
      { name: 'lower', type: T.STRING },
      { name: 'M', type: T.map(T.STRING, T.STRING) },
    ]);
    const row = await s.deserialize(
      Buffer.from('{"id": "12", "lower": 5, "LOWER": "no", "m": {"a": false, "b": {"x": 1}}}'),
    );
    expect(row).toEqual([
      12n,
      '5',
      new Map([
        ['a', 'false'],
        ['b', '{"x":1}'],
      ]),
    ]);
  });

  it('keeps BIGINT and DECIMAL exact and writes doubles like Java', async () => {
    const s = serde('JSON', [
      { name: 'L', type: T.BIGINT },
      { name: 'D', type: T.decimal(20, 2) },
      { name: 'X', type: T.DOUBLE },
    ]);
    const out = await s.serialize([9007199254740993n, Decimal.parse('10.50'), 2]);
    expect(out?.toString()).toBe('{"L":9007199254740993,"D":10.50,"X":2.0}');
    const [l] = (await s.deserialize(Buffer.from('{"L": 9007199254740993}'))) ?? [];
    expect(l).toBe(9007199254740993n);
  });

  it('writes single columns bare when unwrapped', async () => {
    const s = serde('JSON', [{ name: 'V', type: T.array(T.INTEGER) }], { unwrapped: true });
    expect((await s.serialize([[1, 2]]))?.toString()).toBe('[1,2]');
    expect(await s.deserialize(Buffer.from('[3]'))).toEqual([[3]]);
  });

  it('parses JSON with exact numbers', () => {
    expect(stringifyJson(parseJson('{"a": 1.10, "b": [1e3, -0]}'))).toBe('{"a":1.10,"b":[1e3,-0]}');
  });
});

describe('AVRO format', () => {
  it("generates ksqlDB's schema: named record, nullable fields, MapEntry arrays, logical types", () => {
    const schema = avroSchemaForColumns(
      [
        { name: 'A', type: T.INTEGER },
        { name: 'M', type: T.map(T.STRING, T.BIGINT) },
        { name: 'D', type: T.decimal(4, 2) },
      ],
      false,
      'io.confluent.ksql.avro_schemas.KsqlDataSourceSchema',
      false,
    );
    expect(schema).toMatchObject({
      type: 'record',
      name: 'KsqlDataSourceSchema',
      namespace: 'io.confluent.ksql.avro_schemas',
      fields: [
        { name: 'A', type: ['null', 'int'], default: null },
        { name: 'M', type: ['null', { type: 'array', items: { 'connect.internal.type': 'MapEntry' } }] },
        { name: 'D', type: ['null', { type: 'bytes', logicalType: 'decimal', precision: 4, scale: 2 }] },
      ],
    });
  });

  it('registers the schema and round-trips through the Confluent wire format', async () => {
    const registry = new InMemorySchemaRegistry();
    const columns: Column[] = [
      { name: 'ID', type: T.BIGINT },
      { name: 'TAGS', type: T.map(T.STRING, T.DOUBLE) },
      { name: 'S', type: T.struct([{ name: 'F', type: T.STRING }]) },
      { name: 'AMOUNT', type: T.decimal(6, 2) },
      { name: 'TS', type: T.TIMESTAMP },
    ];
    const s = serde('AVRO', columns, { registry });
    const row = [
      9223372036854775807n,
      new Map([['a', 1.5]]),
      { F: 'x' },
      Decimal.parse('12.30'),
      1_600_000_000_000,
    ];
    const bytes = await s.serialize(row);
    expect(bytes?.[0]).toBe(0);
    expect(bytes?.readInt32BE(1)).toBe(1);
    expect(registry.latestSync('orders-value')?.id).toBe(1);
    expect(await s.deserialize(bytes ?? null)).toEqual(row);
  });
});

describe('PROTOBUF format', () => {
  it('generates a proto3 schema and round-trips, reading absent scalars as defaults', async () => {
    const columns: Column[] = [
      { name: 'ID', type: T.INTEGER },
      { name: 'NAME', type: T.STRING },
      { name: 'TS', type: T.TIMESTAMP },
      { name: 'S', type: T.struct([{ name: 'F', type: T.array(T.BIGINT) }]) },
    ];
    const text = protoSchemaForColumns(columns);
    expect(text).toContain('message ConnectDefault1 {');
    expect(text).toContain('google.protobuf.Timestamp TS = 3;');
    expect(text).toContain('repeated int64 F = 1;');
    const registry = new InMemorySchemaRegistry();
    const s = serde('PROTOBUF', columns, { registry });
    const bytes = await s.serialize([7, null, 1234, { F: [1n, 2n] }]);
    expect(await s.deserialize(bytes ?? null)).toEqual([7, '', 1234, { F: [1n, 2n] }]);
    expect(registry.latestSync('orders-value')?.schema.schemaType).toBe('PROTOBUF');
  });
});

describe('format validation', () => {
  const kafka: FormatInfo = { format: 'KAFKA', properties: {} };
  it("rejects what ksqlDB's formats cannot hold", () => {
    expect(() => validateKeyFormat(kafka, [{ name: 'K', type: T.BOOLEAN }])).toThrow(
      "reason: The 'KAFKA' format does not support type 'BOOLEAN'",
    );
    expect(() => validateKeyFormat(kafka, [{ name: 'K', type: T.map(T.STRING, T.STRING) }])).toThrow(
      'Map keys',
    );
    expect(() =>
      validateValueFormat({ format: 'DELIMITED', properties: {} }, [{ name: 'V', type: T.array(T.INTEGER) }]),
    ).toThrow("The 'DELIMITED' format does not support type 'ARRAY'");
    expect(() =>
      validateValueFormat({ format: 'JSON', properties: {}, wrapSingleValue: false }, [
        { name: 'A', type: T.INTEGER },
        { name: 'B', type: T.INTEGER },
      ]),
    ).toThrow("'WRAP_SINGLE_VALUE' is only valid for single-field value schemas");
  });
});
