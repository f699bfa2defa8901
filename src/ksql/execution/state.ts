/**
 * Per-query state stores (ksqlDB's Kafka Streams state stores), held in memory, with the hooks a
 * Kafka driver needs to make them durable:
 *
 * - every change is offered to listeners as a changelog record (store name, key bytes, value bytes or
 *   null for a delete, timestamp): forward them to a compacted topic, keyed by `key`;
 * - `restore(key, value)` puts such a record back without emitting anything, so a fresh processor
 *   built from the same plan continues exactly where the old one stopped.
 *
 * Keys and values are encoded with `encodeState` (tagged JSON that round-trips every runtime value:
 * bigint, Decimal, Map, bytes, structs, non-finite doubles), so changelog bytes are stable and
 * readable. A store holds at most `maxEntries` keys: a put beyond that fails the query (ksqlDB would
 * run out of disk; silently evicting would give wrong results).
 */
import { KsqlError } from '../errors.ts';
import { Decimal } from '../schema/decimal.ts';

export interface ChangelogRecord {
  /** The store's name, unique within its query (e.g. `Aggregate-Aggregate-Materialize`). */
  readonly store: string;
  readonly key: Buffer;
  /** Null deletes the key. */
  readonly value: Buffer | null;
  readonly timestamp: number;
}

export type ChangelogListener = (record: ChangelogRecord) => void;

/**
 * The compacted changelog topic ksqlDB would use for a store:
 * `_confluent-ksql-<service id>query_<query id>-<store>-changelog` (service id `default_` by default).
 */
export function changelogTopicName(queryId: string, store: string, serviceId = 'default_'): string {
  return `_confluent-ksql-${serviceId}query_${queryId}-${store}-changelog`;
}

/** The default bound on keys per store; `ksql.local.state.max.entries` overrides it. */
export const DEFAULT_MAX_STORE_ENTRIES = 1_000_000;

type Tagged =
  | null
  | boolean
  | number
  | string
  | Tagged[]
  | { readonly $b: string }
  | { readonly $d: string; readonly s: number }
  | { readonly $f: string }
  | { readonly $y: string }
  | { readonly $m: [Tagged, Tagged][] }
  | { readonly $o: Record<string, Tagged> };

function tag(v: unknown): Tagged {
  if (v === null || v === undefined) return null;
  switch (typeof v) {
    case 'boolean':
    case 'string':
      return v;
    case 'number':
      if (!Number.isFinite(v) || Object.is(v, -0)) return { $f: Object.is(v, -0) ? '-0' : String(v) };
      return v;
    case 'bigint':
      return { $b: v.toString() };
    default:
      break;
  }
  if (v instanceof Decimal) return { $d: v.unscaled.toString(), s: v.scale };
  if (v instanceof Uint8Array) return { $y: Buffer.from(v).toString('base64') };
  if (Array.isArray(v)) return v.map(tag);
  if (v instanceof Map) return { $m: [...(v as Map<unknown, unknown>)].map(([k, x]) => [tag(k), tag(x)]) };
  if (typeof v === 'object') {
    const o: Record<string, Tagged> = {};
    for (const [k, x] of Object.entries(v)) o[k] = tag(x);
    return { $o: o };
  }
  throw new Error(`cannot encode a ${typeof v} in a state store`);
}

function untag(t: Tagged): unknown {
  if (t === null || typeof t !== 'object') return t;
  if (Array.isArray(t)) return t.map(untag);
  if ('$b' in t) return BigInt(t.$b);
  if ('$d' in t) return new Decimal(BigInt(t.$d), t.s);
  if ('$f' in t) return t.$f === '-0' ? -0 : Number(t.$f);
  if ('$y' in t) return new Uint8Array(Buffer.from(t.$y, 'base64'));
  if ('$m' in t) return new Map(t.$m.map(([k, x]) => [untag(k), untag(x)]));
  const o: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(t.$o)) o[k] = untag(x);
  return o;
}

/** Encodes a runtime value (or a structure of them) as stable JSON text. */
export function encodeState(v: unknown): string {
  return JSON.stringify(tag(v));
}

/**
 * `encodeState(v)`, written directly for primitives and arrays (row keys, row values): a store lookup
 * per joined record and a changelog value per table row made the generic encoding (a tagged copy,
 * then JSON.stringify) show in profiles. Anything else takes the generic way.
 */
function encodeFast(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
      return Number.isFinite(v) && !Object.is(v, -0) ? String(v) : encodeState(v);
    case 'bigint':
      return `{"$b":"${v.toString()}"}`;
    default:
      break;
  }
  if (!Array.isArray(v)) return encodeState(v);
  let out = '[';
  for (let i = 0; i < v.length; i++) out += i === 0 ? encodeFast(v[i]) : `,${encodeFast(v[i])}`;
  return `${out}]`;
}

/** `encodeState(key)` for a row key (the key columns' values). */
export function encodeKey(key: readonly unknown[]): string {
  return encodeFast(key);
}

/** `encodeState({ v: value, t: timestamp })`: what a changelog record's value holds. */
function encodeEntry(value: unknown, timestamp: number): string {
  return `{"$o":{"v":${encodeFast(value)},"t":${encodeFast(timestamp)}}}`;
}

export function decodeState(text: string): unknown {
  return untag(JSON.parse(text) as Tagged);
}

export interface StoreEntry<V> {
  readonly key: readonly unknown[];
  readonly value: V;
  readonly timestamp: number;
}

/** What `QueryProcessor.stores()` reports about a store. */
export interface StateStoreInfo {
  readonly name: string;
  /** What the store holds, e.g. 'table-source', 'aggregate', 'join-left', 'join-right', 'sink'. */
  readonly kind: string;
  readonly size: number;
  readonly maxEntries: number;
  /**
   * For a store that mirrors a source table: its topic. Replaying that topic from the beginning
   * through the processor rebuilds the store too, as ksqlDB does for source tables.
   */
  readonly sourceTopic?: string;
}

/** A key-value store keyed by a row key (the key columns' values). */
export class KeyValueStore<V> {
  readonly name: string;
  readonly kind: string;
  readonly sourceTopic: string | undefined;
  private readonly maxEntries: number;
  private readonly entries = new Map<string, StoreEntry<V>>();
  private readonly listeners: ChangelogListener[];

  constructor(
    name: string,
    kind: string,
    listeners: ChangelogListener[],
    maxEntries: number,
    sourceTopic?: string,
  ) {
    this.name = name;
    this.kind = kind;
    this.listeners = listeners;
    this.maxEntries = maxEntries;
    this.sourceTopic = sourceTopic;
  }

  get size(): number {
    return this.entries.size;
  }

  info(): StateStoreInfo {
    return {
      name: this.name,
      kind: this.kind,
      size: this.entries.size,
      maxEntries: this.maxEntries,
      ...(this.sourceTopic === undefined ? {} : { sourceTopic: this.sourceTopic }),
    };
  }

  get(key: readonly unknown[]): StoreEntry<V> | undefined {
    return this.entries.get(encodeKey(key));
  }

  /** The entry for a changelog key (the bytes `ChangelogRecord.key` carries). */
  getEncoded(key: Buffer): StoreEntry<V> | undefined {
    return this.entries.get(key.toString('utf8'));
  }

  put(key: readonly unknown[], value: V, timestamp: number): void {
    const k = encodeKey(key);
    if (!this.entries.has(k) && this.entries.size >= this.maxEntries) {
      throw new KsqlError(
        'runtime',
        `State store ${this.name} is full (${this.maxEntries} keys, the limit set by ksql.local.state.max.entries)`,
      );
    }
    this.entries.set(k, { key, value, timestamp });
    this.emit(k, value, timestamp);
  }

  delete(key: readonly unknown[], timestamp: number): void {
    const k = encodeKey(key);
    if (!this.entries.delete(k)) return;
    this.emit(k, undefined, timestamp);
  }

  all(): IterableIterator<StoreEntry<V>> {
    return this.entries.values();
  }

  /** The keys as changelog records carry them. */
  encodedKeys(): string[] {
    return [...this.entries.keys()];
  }

  /** Puts a changelog record back (no changelog emitted). */
  restore(key: Buffer, value: Buffer | null): void {
    const k = key.toString('utf8');
    if (value === null) {
      this.entries.delete(k);
      return;
    }
    const decoded = decodeState(value.toString('utf8')) as { v: V; t: number };
    this.entries.set(k, { key: decodeState(k) as unknown[], value: decoded.v, timestamp: decoded.t });
  }

  private emit(key: string, value: V | undefined, timestamp: number): void {
    if (this.listeners.length === 0) return;
    const record: ChangelogRecord = {
      store: this.name,
      key: Buffer.from(key, 'utf8'),
      value: value === undefined ? null : Buffer.from(encodeEntry(value, timestamp), 'utf8'),
      timestamp,
    };
    for (const l of this.listeners) l(record);
  }
}
