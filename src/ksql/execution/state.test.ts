import { describe, expect, it } from 'vitest';
import { KsqlError } from '../errors.ts';
import { Decimal } from '../schema/decimal.ts';
import {
  changelogTopicName,
  decodeState,
  encodeKey,
  encodeState,
  KeyValueStore,
  type ChangelogRecord,
} from './state.ts';

describe('state codec', () => {
  it('encodes keys and changelog values directly exactly as encodeState does', () => {
    const values: unknown[] = [
      null,
      undefined,
      true,
      false,
      0,
      -0,
      42,
      -1.5,
      1e21,
      Number.NaN,
      Number.NEGATIVE_INFINITY,
      0n,
      -12345678901234567890n,
      '',
      'a"b\\c\u0000é😀',
      new Decimal(-1234n, 2),
      new Uint8Array([0, 255]),
      new Map([['k', 1]]),
      { A: 1, B: [2n] },
      [],
      [1, ['x', null], [new Decimal(5n, 1)]],
    ];
    for (const v of values) {
      expect(encodeKey([v])).toBe(encodeState([v]));
      expect(encodeKey([v, 'x', v])).toBe(encodeState([v, 'x', v]));
    }
    const changes: ChangelogRecord[] = [];
    const store = new KeyValueStore<readonly unknown[]>('s', 'test', [(r) => void changes.push(r)], 100);
    for (const [i, v] of values.entries()) store.put([`k${i}`], [v, 'x', 7n], 1000 + i);
    for (const [i, v] of values.entries()) {
      expect(changes[i]?.key.toString()).toBe(encodeState([`k${i}`]));
      expect(changes[i]?.value?.toString()).toBe(encodeState({ v: [v, 'x', 7n], t: 1000 + i }));
    }
  });

  it('round-trips every runtime value type', () => {
    const value = [
      null,
      true,
      42,
      -0,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      2.5,
      12345678901234567890n,
      new Decimal(-1234n, 2),
      'text',
      new Uint8Array([0, 1, 255]),
      [1, [2, null]],
      new Map<unknown, unknown>([
        ['a', 1n],
        [null, 'x'],
      ]),
      { A: 1, $b: 'not a tag', NESTED: { X: null } },
    ];
    const decoded = decodeState(encodeState(value)) as unknown[];
    expect(decoded[0]).toBeNull();
    expect(decoded[1]).toBe(true);
    expect(decoded[2]).toBe(42);
    expect(Object.is(decoded[3], -0)).toBe(true);
    expect(decoded[4]).toBeNaN();
    expect(decoded[5]).toBe(Number.POSITIVE_INFINITY);
    expect(decoded[6]).toBe(2.5);
    expect(decoded[7]).toBe(12345678901234567890n);
    expect(decoded[8]).toEqual(new Decimal(-1234n, 2));
    expect(decoded[9]).toBe('text');
    expect(decoded[10]).toEqual(new Uint8Array([0, 1, 255]));
    expect(decoded[11]).toEqual([1, [2, null]]);
    expect(decoded[12]).toEqual(
      new Map<unknown, unknown>([
        ['a', 1n],
        [null, 'x'],
      ]),
    );
    expect(decoded[13]).toEqual({ A: 1, $b: 'not a tag', NESTED: { X: null } });
  });

  it('encodes equal keys identically (stable store keys)', () => {
    expect(encodeState(['k', 1n])).toBe(encodeState(['k', 1n]));
    expect(encodeState([new Decimal(10n, 1)])).not.toBe(encodeState([new Decimal(100n, 2)]));
  });
});

describe('KeyValueStore', () => {
  it('reports puts and deletes as changelog records that restore another store', () => {
    const changelog: ChangelogRecord[] = [];
    const store = new KeyValueStore<readonly unknown[]>('S', 'test', [(r) => changelog.push(r)], 10);
    store.put(['a'], [1n, 'x'], 5);
    store.put(['b'], [2n, 'y'], 6);
    store.put(['a'], [3n, 'z'], 7);
    store.delete(['b'], 8);
    store.delete(['missing'], 9);
    expect(changelog.map((r) => [r.store, r.value === null, r.timestamp])).toEqual([
      ['S', false, 5],
      ['S', false, 6],
      ['S', false, 7],
      ['S', true, 8],
    ]);

    const copy = new KeyValueStore<readonly unknown[]>('S', 'test', [], 10);
    for (const r of changelog) copy.restore(r.key, r.value);
    expect([...copy.all()]).toEqual([{ key: ['a'], value: [3n, 'z'], timestamp: 7 }]);
    expect(copy.get(['b'])).toBeUndefined();
  });

  it('does not emit while restoring', () => {
    const emitted: ChangelogRecord[] = [];
    const store = new KeyValueStore<number>('S', 'test', [(r) => emitted.push(r)], 10);
    store.restore(Buffer.from(encodeState(['k'])), Buffer.from(encodeState({ v: 1, t: 2 })));
    expect(store.get(['k'])).toEqual({ key: ['k'], value: 1, timestamp: 2 });
    expect(emitted).toEqual([]);
  });

  it('fails the query instead of exceeding its bound', () => {
    const store = new KeyValueStore<number>('S', 'test', [], 2);
    store.put(['a'], 1, 0);
    store.put(['b'], 2, 0);
    store.put(['a'], 3, 0); // an update is not a new key
    expect(() => store.put(['c'], 4, 0)).toThrow(KsqlError);
    expect(store.info()).toEqual({ name: 'S', kind: 'test', size: 2, maxEntries: 2 });
  });

  it('names changelog topics like ksqlDB', () => {
    expect(changelogTopicName('CTAS_T_1', 'Aggregate-Aggregate-Materialize')).toBe(
      '_confluent-ksql-default_query_CTAS_T_1-Aggregate-Aggregate-Materialize-changelog',
    );
  });
});
