/**
 * ksqlDB's ExpectedRecordComparator on spec values: struct fields match by exact name then by the
 * upper-cased name, field counts must match, doubles compare within 1e-6, decimals compare with their
 * scale (`10.0` is not `10.00`), an integral expectation only matches a decimal without fraction.
 */
import { Decimal } from '../schema/decimal.ts';
import { isJsonObject, JsonNumber, type JsonValue } from '../serde/json-text.ts';
import type { Spec } from './spec.ts';

function isStruct(v: Spec): v is { [k: string]: Spec } {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Decimal);
}

function compareDecimal(actual: Decimal, expected: JsonNumber): boolean {
  if (expected.isIntegral()) {
    if (actual.scale > 0) return false;
    return actual.toBigInt() === BigInt(expected.text) && actual.equalsValue(Decimal.parse(expected.text));
  }
  try {
    return Decimal.parse(expected.text).equals(actual);
  } catch {
    return false;
  }
}

export function specMatches(actual: Spec, expected: JsonValue): boolean {
  if (expected === null) return actual === null;
  if (expected instanceof JsonNumber) {
    if (typeof actual === 'number') {
      const e = expected.toNumber();
      return e === actual || Math.abs(e - actual) < 0.000_001;
    }
    if (typeof actual === 'bigint') {
      if (expected.isIntegral()) return BigInt(expected.text) === actual;
      return BigInt(Math.trunc(expected.toNumber())) === actual;
    }
    if (actual instanceof Decimal) return compareDecimal(actual, expected);
    return false;
  }
  if (typeof expected === 'string') {
    if (typeof actual === 'string') return actual === expected;
    if (actual instanceof Decimal) {
      try {
        return Decimal.parse(expected).equals(actual);
      } catch {
        return false;
      }
    }
    return false;
  }
  if (typeof expected === 'boolean') return actual === expected;
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return false;
    return expected.every((e, i) => specMatches(actual[i] ?? null, e));
  }
  if (isJsonObject(expected)) {
    if (!isStruct(actual)) return false;
    const keys = Object.keys(expected);
    if (Object.keys(actual).length !== keys.length) return false;
    return keys.every((k) => {
      let v = Object.hasOwn(actual, k) ? actual[k] : undefined;
      if (v === null || v === undefined)
        v = Object.hasOwn(actual, k.toUpperCase()) ? actual[k.toUpperCase()] : undefined;
      return specMatches(v ?? null, expected[k] ?? null);
    });
  }
  return false;
}

/** A readable rendering of a spec value for failure reasons. */
export function showSpec(v: Spec): string {
  if (v === null) return 'null';
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Decimal) return v.toPlainString();
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(showSpec).join(',')}]`;
  return `{${Object.keys(v)
    .map((k) => `${JSON.stringify(k)}:${showSpec(v[k] ?? null)}`)
    .join(',')}}`;
}
