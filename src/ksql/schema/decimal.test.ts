import { describe, expect, it } from 'vitest';
import { Decimal } from './decimal.ts';

describe('Decimal', () => {
  it('parses keeping the scale and prints like BigDecimal', () => {
    expect(Decimal.parse('10.10').scale).toBe(2);
    expect(Decimal.parse('-0.05').toPlainString()).toBe('-0.05');
    expect(Decimal.parse('1.5E2').toPlainString()).toBe('150');
    expect(Decimal.parse('0.00000001').toString()).toBe('1E-8');
    expect(Decimal.parse('123.4500').stripTrailingZeros().toPlainString()).toBe('123.45');
  });

  it('rounds HALF_UP by default and HALF_EVEN on request', () => {
    expect(Decimal.parse('2.345').setScale(2).toPlainString()).toBe('2.35');
    expect(Decimal.parse('-2.345').setScale(2).toPlainString()).toBe('-2.35');
    expect(Decimal.parse('2.345').setScale(2, 'HALF_EVEN').toPlainString()).toBe('2.34');
    expect(Decimal.parse('2.355').setScale(2, 'HALF_EVEN').toPlainString()).toBe('2.36');
    expect(Decimal.parse('-1.5').setScale(0, 'FLOOR').toPlainString()).toBe('-2');
  });

  it('adds, multiplies, divides and compares exactly', () => {
    expect(Decimal.parse('0.1').add(Decimal.parse('0.2')).toPlainString()).toBe('0.3');
    expect(Decimal.parse('1.5').multiply(Decimal.parse('1.5')).toPlainString()).toBe('2.25');
    expect(Decimal.parse('1').divide(Decimal.parse('3'), 5)?.toPlainString()).toBe('0.33333');
    expect(Decimal.parse('1').divide(Decimal.parse('0'), 5)).toBeNull();
    expect(Decimal.parse('-7').remainder(Decimal.parse('3'))?.toPlainString()).toBe('-1');
    expect(Decimal.parse('1.0').equalsValue(Decimal.parse('1.00'))).toBe(true);
    expect(Decimal.parse('1.0').equals(Decimal.parse('1.00'))).toBe(false);
    expect(Decimal.parse('12345.6').fits(5, 1)).toBe(false);
  });

  it('converts doubles like BigDecimal.valueOf', () => {
    expect(Decimal.fromNumber(1).toPlainString()).toBe('1.0');
    expect(Decimal.fromNumber(0.1).toPlainString()).toBe('0.1');
    expect(Decimal.fromNumber(1e-7).toPlainString()).toBe('0.0000001');
  });
});
