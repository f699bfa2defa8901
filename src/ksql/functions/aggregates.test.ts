import { describe, expect, it } from 'vitest';
import { Decimal } from '../schema/decimal.ts';
import { T, type ExprType } from '../schema/types.ts';
import {
  isAggregateFunction,
  resolveAggregate,
  supportsTables,
  type AggregateFunction,
} from './aggregates.ts';

function run(fn: AggregateFunction, values: readonly unknown[]): unknown {
  return fn.result(values.reduce((s, v) => fn.add(s, v), fn.init()));
}

function agg(
  name: string,
  arg: ExprType | undefined,
  literals: unknown[] = [],
  config = {},
): AggregateFunction {
  return resolveAggregate(name, arg, literals, config);
}

describe('aggregate functions', () => {
  it('COUNT counts rows for * and non-null values for a column, and undoes', () => {
    expect(run(agg('COUNT', undefined), [1, null, 2])).toBe(3n);
    const count = agg('COUNT', T.STRING);
    expect(run(count, ['a', null, 'b'])).toBe(2n);
    const undo = count.undo;
    expect(undo).toBeDefined();
    expect(count.result(undo?.(count.add(count.init(), 'a'), 'a'))).toBe(0n);
  });

  it('SUM keeps the argument type (INT wraps like Java, DECIMAL keeps its scale)', () => {
    expect(run(agg('SUM', T.INTEGER), [2147483647, 1])).toBe(-2147483648);
    expect(run(agg('SUM', T.BIGINT), [1n, null, 2n])).toBe(3n);
    expect(run(agg('SUM', T.DOUBLE), [0.5, 0.25])).toBe(0.75);
    expect(run(agg('SUM', T.decimal(4, 2)), [Decimal.parse('1.5'), Decimal.parse('2.25')])).toEqual(
      new Decimal(375n, 2),
    );
    expect(agg('SUM', T.decimal(4, 2)).returnType).toEqual(T.decimal(4, 2));
  });

  it('MIN and MAX ignore nulls and compare strings and numbers', () => {
    expect(run(agg('MIN', T.INTEGER), [3, null, 1, 2])).toBe(1);
    expect(run(agg('MAX', T.STRING), ['b', 'c', null, 'a'])).toBe('c');
    expect(run(agg('MAX', T.BIGINT), [])).toBeNull();
  });

  it('AVG returns a DOUBLE and undoes', () => {
    const avg = agg('AVG', T.INTEGER);
    expect(avg.returnType).toEqual(T.DOUBLE);
    expect(run(avg, [1, 2, null, 4])).toBeCloseTo(7 / 3);
    const s = [1, 2, 4].reduce((acc, v) => avg.add(acc, v), avg.init());
    expect(avg.result(avg.undo?.(s, 4))).toBe(1.5);
    expect(run(avg, [])).toBe(0);
  });

  it('LATEST_BY_OFFSET and EARLIEST_BY_OFFSET, single, N and with nulls', () => {
    expect(run(agg('LATEST_BY_OFFSET', T.INTEGER), [1, 2, null])).toBe(2);
    expect(run(agg('LATEST_BY_OFFSET', T.INTEGER, [false]), [1, 2, null])).toBeNull();
    expect(run(agg('LATEST_BY_OFFSET', T.INTEGER, [2]), [1, 2, 3])).toEqual([2, 3]);
    expect(run(agg('EARLIEST_BY_OFFSET', T.INTEGER), [null, 1, 2])).toBe(1);
    expect(run(agg('EARLIEST_BY_OFFSET', T.INTEGER, [false]), [null, 1, 2])).toBeNull();
    expect(run(agg('EARLIEST_BY_OFFSET', T.INTEGER, [2, false]), [null, 1, 2])).toEqual([null, 1]);
    expect(agg('LATEST_BY_OFFSET', T.STRING, [3]).returnType).toEqual(T.array(T.STRING));
  });

  it('COLLECT_LIST keeps duplicates and honours the configured limit; COLLECT_SET does not repeat', () => {
    expect(run(agg('COLLECT_LIST', T.STRING), ['a', 'b', 'a'])).toEqual(['a', 'b', 'a']);
    expect(
      run(agg('COLLECT_LIST', T.STRING, [], { 'ksql.functions.collect_list.limit': '2' }), ['a', 'b', 'c']),
    ).toEqual(['a', 'b']);
    expect(run(agg('COLLECT_SET', T.INTEGER), [1, 2, 1, 3])).toEqual([1, 2, 3]);
    const list = agg('COLLECT_LIST', T.INTEGER);
    const s = [1, 2, 1].reduce((acc, v) => list.add(acc, v), list.init());
    expect(list.result(list.undo?.(s, 1))).toEqual([1, 2]);
  });

  it('knows which functions aggregate and which may run on tables', () => {
    expect(isAggregateFunction('count')).toBe(true);
    expect(isAggregateFunction('UCASE')).toBe(false);
    expect(supportsTables('COLLECT_LIST')).toBe(true);
    expect(supportsTables('LATEST_BY_OFFSET')).toBe(false);
    expect(supportsTables('MIN')).toBe(false);
  });

  it('rejects arguments it does not accept', () => {
    expect(() => agg('SUM', T.STRING)).toThrow("Function 'SUM' does not accept parameters (STRING).");
    expect(() => agg('SUM', undefined)).toThrow('does not accept parameters');
  });
});
