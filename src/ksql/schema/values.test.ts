import { describe, expect, it } from 'vitest';
import { formatDate, formatTime, formatTimestamp, javaDoubleToString, parseTimestampText } from './values.ts';

describe('Java-compatible text forms', () => {
  it('prints doubles like Double.toString', () => {
    expect(javaDoubleToString(1)).toBe('1.0');
    expect(javaDoubleToString(-0)).toBe('-0.0');
    expect(javaDoubleToString(1234567.5)).toBe('1234567.5');
    expect(javaDoubleToString(12345678)).toBe('1.2345678E7');
    expect(javaDoubleToString(0.0001)).toBe('1.0E-4');
    expect(javaDoubleToString(0.001)).toBe('0.001');
    expect(javaDoubleToString(Number.NaN)).toBe('NaN');
  });

  it('formats and parses ksqlDB timestamp, date and time text', () => {
    expect(formatTimestamp(10)).toBe('1970-01-01T00:00:00.010');
    expect(formatDate(18262)).toBe('2020-01-01');
    expect(formatTime(3_723_000)).toBe('01:02:03');
    expect(parseTimestampText('1970-01-01T00:00:01')).toBe(1000);
    expect(parseTimestampText('2020-01-01T00:00:00+01:00')).toBe(Date.UTC(2019, 11, 31, 23));
    expect(parseTimestampText('garbage')).toBeUndefined();
  });
});
