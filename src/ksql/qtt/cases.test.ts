import { describe, expect, it } from 'vitest';
import { Decimal } from '../schema/decimal.ts';
import { parseJson } from '../serde/json-text.ts';
import { inAcceptanceSubset, isWindowed, parseCaseFile } from './cases.ts';
import { specMatches } from './compare.ts';
import { runCase } from './runner.ts';

const FILE = `{
  // comments are allowed
  "tests": [
    {"name": "a", "format": ["JSON", "AVRO"], "config": ["x", "y"], "properties": {"p": "{CONFIG}"},
     "statements": ["CREATE STREAM S (V INT) WITH (kafka_topic='t', value_format='{FORMAT}');"],
     "inputs": [{"topic": "t", "value": {"V": 1.50}}], "outputs": []},
    {"name": "w", "statements": ["CREATE STREAM X AS SELECT * FROM A JOIN B WITHIN 1 SECOND ON A.K = B.K;"]},
    {"name": "neg", "statements": ["CREATE STREAM X (V INT) WITH (kafka_topic='t', value_format='FOO');"],
     "expectedException": {"type": "io.confluent.ksql.util.KsqlStatementException", "message": "Unknown format: FOO"}}
  ]
}`;

describe('QTT case files', () => {
  it('expands formats × configs and substitutes placeholders', () => {
    const runs = parseCaseFile('x.json', FILE);
    expect(runs.map((r) => r.name)).toEqual([
      'a - JSON - x',
      'a - JSON - y',
      'a - AVRO - x',
      'a - AVRO - y',
      'w',
      'neg',
    ]);
    expect(runs[2]?.statements[0]).toContain("value_format='AVRO'");
    expect(runs[1]?.properties).toEqual({ p: 'y' });
    expect(isWindowed(runs[4] as never)).toBe(true);
    expect(inAcceptanceSubset(runs[0] as never)).toBe(true);
    expect(inAcceptanceSubset(runs[5] as never)).toBe(false);
  });

  it('runs a negative case and reports whether the message matched', async () => {
    const neg = parseCaseFile('x.json', FILE)[5];
    if (neg === undefined) throw new Error('missing case');
    const result = await runCase(neg);
    expect(result.status).toBe('passed');
    expect(result.reason).toBe('failed as expected (message matches)');
  });

  it('compares like ksqlDB: case-insensitive fields, strict decimal scale, doubles within 1e-6', () => {
    expect(specMatches({ NAME: 'x', N: 1 }, parseJson('{"name": "x", "N": 1.0}'))).toBe(true);
    expect(specMatches({ NAME: 'x' }, parseJson('{"name": "x", "extra": null}'))).toBe(false);
    expect(specMatches(Decimal.parse('10.0'), parseJson('10.0'))).toBe(true);
    expect(specMatches(Decimal.parse('10.00'), parseJson('10.0'))).toBe(false);
    expect(specMatches(Decimal.parse('10'), parseJson('10'))).toBe(true);
    expect(specMatches(0.30000000000000004, parseJson('0.3'))).toBe(true);
    expect(specMatches(9007199254740993n, parseJson('9007199254740993'))).toBe(true);
    expect(specMatches(null, parseJson('0'))).toBe(false);
  });
});
