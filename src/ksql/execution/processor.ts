/**
 * Builds a per-record processor from a query's physical steps: `process(record) → output records`.
 * The same processor runs under the in-memory driver (QTT) and under a Kafka consumer loop.
 *
 * Steps compile to a small graph of operators. A record is deserialized (async: registry formats),
 * pushed synchronously through the operators reading its topic, and whatever reaches the sink is
 * serialized. Table operators pass changes (new row, and the old row where known); stateful operators
 * (table sources that must remember rows, aggregations, joins, materialized sinks) keep their state in
 * `KeyValueStore`s owned by the processor, which report every change to changelog listeners and can
 * be restored from those records (see state.ts).
 *
 * Internal re-partitions (GROUP BY or a join on a non-key expression) happen in memory: one processor
 * sees every partition of its sources, so a re-keyed row reaches the right state directly.
 */
import { KsqlError } from '../errors.ts';
import {
  ExpressionCompiler,
  type ColumnBinding,
  type EvalContext,
  type Evaluator,
  type Scope,
} from '../analyzer/expressions.ts';
import { columnsIn, SourceScope } from '../analyzer/scope.ts';
import { resolveAggregate, type AggregateFunction } from '../functions/aggregates.ts';
import type { FunctionContext, FunctionRegistry } from '../functions/registry.ts';
import { parseToMillis } from '../functions/datetime-format.ts';
import type {
  AggregateStep,
  AnySinkStep,
  ExecutionStep,
  ForeignKeyJoinStep,
  GroupByStep,
  JoinStep,
  QueryPlan,
  SourceStep,
  TableSourceStep,
  TimestampColumn,
} from '../planner/steps.ts';
import type { Expr, Loc } from '../parser/ast.ts';
import type { LogicalSchema } from '../schema/logical.ts';
import { compareValues } from '../schema/values.ts';
import { isKeyUnwrapped, isValueUnwrapped } from '../serde/formats.ts';
import { createSerde } from '../serde/index.ts';
import type { SchemaRegistryPort } from '../serde/registry.ts';
import type { RowSerde } from '../serde/serde.ts';
import type { ProcessingLog } from './processing-log.ts';
import {
  DEFAULT_MAX_STORE_ENTRIES,
  decodeState,
  encodeState,
  KeyValueStore,
  type ChangelogListener,
  type StateStoreInfo,
  type StoreEntry,
} from './state.ts';
import type { ProducerRecord, RecordHeader, TopicRecord } from './topic-io.ts';

/**
 * A record on its way through a query's operators. `value` null is a tombstone (tables) or a null
 * value (streams). `old` is the previous row of a table change: null when the key had no row,
 * undefined on streams and where nothing upstream remembers rows (a source table without a store).
 */
export interface Row {
  /** Null when the record had a null key (ksqlDB passes such keys through as null on streams). */
  readonly key: readonly unknown[] | null;
  readonly value: readonly unknown[] | null;
  readonly old?: readonly unknown[] | null;
  readonly timestamp: number;
  readonly partition: number;
  readonly offset: bigint;
  readonly headers: readonly RecordHeader[];
}

export interface OutputRecord extends ProducerRecord {
  readonly topic: string;
}

/** A row of a materialized table (pull queries read these). */
export interface MaterializedRow {
  readonly key: readonly unknown[];
  readonly value: readonly unknown[];
  readonly timestamp: number;
}

export interface QueryProcessor {
  readonly queryId: string;
  readonly sourceTopics: readonly string[];
  readonly sinkTopic: string;
  process(record: TopicRecord): Promise<OutputRecord[]>;
  /**
   * `process` without a promise, for records whose formats never wait for the registry: appends the
   * outputs to `into` and returns true; returns false, having done nothing, when the record must go
   * through `process`. A Kafka consumer loop calls it for every record of a batch.
   */
  processSync(record: TopicRecord, into: OutputRecord[]): boolean;
  /** The query's state stores (empty for stateless queries). */
  stores(): StateStoreInfo[];
  /**
   * Registers a listener for every state change, as changelog records to forward to a compacted
   * topic (one per store, keyed by the record key). Returns a function that removes the listener.
   */
  onChange(listener: ChangelogListener): () => void;
  /** Puts a changelog record back into its store, before the processor resumes (emits nothing). */
  restore(store: string, key: Buffer, value: Buffer | null): void;
  /** Empties every store (and what is derived from them) before a restore; emits nothing. */
  reset(): void;
  /** The sink's rows by key when the query materializes a table (CTAS), else undefined. */
  materialized(): Iterable<MaterializedRow> | undefined;
  /** The materialized row for one key (pull-query lookups). */
  lookup(key: readonly unknown[]): MaterializedRow | undefined;
}

export interface ProcessorContext {
  readonly registry: SchemaRegistryPort;
  readonly functions: FunctionRegistry;
  readonly functionContext: FunctionContext;
  readonly processingLog: ProcessingLog;
  /** Keys per state store before the query fails (default DEFAULT_MAX_STORE_ENTRIES). */
  readonly maxStoreEntries?: number;
}

type Emit = (row: Row) => void;

/**
 * `{ ...row, key, value }` (with `old` and `timestamp` when given) without a spread: operators derive
 * rows per record, and object spreads showed in profiles. Every row gets the same shape.
 */
function derive(
  row: Row,
  key: readonly unknown[] | null,
  value: readonly unknown[] | null,
  old: readonly unknown[] | null | undefined = row.old,
  timestamp: number = row.timestamp,
): Row {
  return { key, value, old, timestamp, partition: row.partition, offset: row.offset, headers: row.headers };
}

/**
 * The row as the flat array expressions evaluate against (key, value, pseudo columns). With a null
 * value the value and pseudo columns read as NULL: ksqlDB keeps them in the value.
 */
function flatRow(row: Row, schema: LogicalSchema, value = row.value): unknown[] {
  const key = row.key ?? new Array<unknown>(schema.key.length).fill(null);
  if (value === null) return [...key, ...new Array<unknown>(schema.value.length + 3).fill(null)];
  return [...key, ...value, BigInt(row.timestamp), row.partition, row.offset];
}

/** Records which columns of the flat row an operator's expressions read. */
class OperatorScope implements Scope {
  /** Indexes into the flat row, in the order first bound. */
  readonly read: number[] = [];
  private readonly inner: SourceScope;

  constructor(schema: LogicalSchema) {
    this.inner = new SourceScope(schema, []);
  }

  column(source: string | undefined, name: string, loc: Loc | undefined): ColumnBinding {
    const binding = this.inner.column(source, name, loc);
    if (!this.read.includes(binding.index)) this.read.push(binding.index);
    return binding;
  }
}

/** An operator's expression compiler, and the flat rows its compiled expressions read. */
interface OperatorExpressions {
  readonly compiler: ExpressionCompiler;
  /**
   * `flatRow(row, schema, value)` as the operator's expressions see it, in one array per operator,
   * refilled for every row with only the columns they read: expressions read it synchronously and
   * keep no reference to it, and an operator evaluates before it emits. (A new array per operator per
   * record, with ROWTIME as a new BigInt, showed in profiles; a filter after a join reads one column
   * of a dozen.)
   */
  readonly flat: (row: Row, value?: readonly unknown[] | null) => readonly unknown[];
}

function operatorExpressions(schema: LogicalSchema, functions: FunctionRegistry): OperatorExpressions {
  const scope = new OperatorScope(schema);
  const keys = schema.key.length;
  const width = keys + schema.value.length;
  const scratch = new Array<unknown>(width + 3).fill(null);
  const read = scope.read;
  return {
    compiler: new ExpressionCompiler(scope, functions),
    flat: (row, value = row.value) => {
      const key = row.key;
      if (value === null || (key !== null && key.length !== keys) || value.length !== width - keys) {
        return flatRow(row, schema, value); // not the schema's shape: exactly as laid out there
      }
      for (let r = 0; r < read.length; r++) {
        const i = read[r] as number;
        scratch[i] =
          i < keys
            ? key === null
              ? null
              : key[i]
            : i < width
              ? value[i - keys]
              : i === width
                ? BigInt(row.timestamp)
                : i === width + 1
                  ? row.partition
                  : row.offset;
      }
      return scratch;
    },
  };
}

/** Extracts a record timestamp from a column value; undefined when it is not a valid timestamp. */
export function extractTimestamp(v: unknown, ts: TimestampColumn): number | undefined {
  if (v === null || v === undefined) return undefined;
  let ms: number;
  if (typeof v === 'bigint') ms = Number(v);
  else if (typeof v === 'number') ms = v;
  else if (typeof v === 'string' && ts.format !== undefined) {
    try {
      ms = parseToMillis(v, ts.format);
    } catch {
      return undefined;
    }
  } else return undefined;
  return ms < 0 ? undefined : ms;
}

function columnIndex(schema: LogicalSchema, name: string): { inKey: boolean; index: number } | undefined {
  const v = schema.value.findIndex((c) => c.name === name);
  if (v >= 0) return { inKey: false, index: v };
  const k = schema.key.findIndex((c) => c.name === name);
  if (k >= 0) return { inKey: true, index: k };
  return undefined;
}

interface TopicBound {
  readonly formats: SourceStep['formats'];
  readonly schema: LogicalSchema;
  readonly topic: string;
}

function keySerdeFor(step: TopicBound, ctx: ProcessorContext, name: string): RowSerde {
  return createSerde({
    format: step.formats.key,
    columns: step.schema.key,
    isKey: true,
    unwrapped: isKeyUnwrapped(step.schema.key.length),
    topic: step.topic,
    registry: ctx.registry,
    sourceName: name,
  });
}

function valueSerdeFor(step: TopicBound, ctx: ProcessorContext, name: string): RowSerde {
  return createSerde({
    format: step.formats.value,
    columns: step.schema.value,
    isKey: false,
    unwrapped: isValueUnwrapped(step.formats.value, step.schema.value.length),
    topic: step.topic,
    registry: ctx.registry,
    sourceName: name,
  });
}

/** A source of the query: decodes records of its topic and pushes them into the operator graph. */
interface Input {
  readonly topic: string;
  decode(record: TopicRecord): Promise<Row | null>;
  /** `decode` without a promise, when the key and value formats can do without (see `canDecodeSync`). */
  readonly decodeSync: ((record: TopicRecord) => Row | null) | undefined;
  /** Whether `decodeSync` can run on this record now (its writer schemas are loaded). */
  readonly canDecodeSync: (record: TopicRecord) => boolean;
  push: Emit;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Rows reaching the sink, waiting to be serialized. */
interface Pending {
  readonly row: Row;
  readonly record: TopicRecord;
}

function keyHasNull(key: readonly unknown[] | null): boolean {
  return key === null || key.some((k) => k === null || k === undefined);
}

export function buildProcessor(plan: QueryPlan, ctx: ProcessorContext): QueryProcessor {
  const { queryId } = plan;
  const sink: AnySinkStep = plan.physicalPlan;
  const maxEntries = ctx.maxStoreEntries ?? DEFAULT_MAX_STORE_ENTRIES;
  const listeners: ChangelogListener[] = [];
  const stores = new Map<string, KeyValueStore<unknown>>();
  const store = <V>(name: string, kind: string, sourceTopic?: string): KeyValueStore<V> => {
    if (stores.has(name)) throw new Error(`duplicate state store ${name} in query ${queryId}`);
    const s = new KeyValueStore<V>(name, kind, listeners, maxEntries, sourceTopic);
    stores.set(name, s);
    return s;
  };

  let current: TopicRecord | undefined;
  const log = (kind: string, message: string, record: TopicRecord | undefined = current): void => {
    ctx.processingLog.record({
      queryId,
      kind,
      message,
      ...(record === undefined
        ? {}
        : { topic: record.topic, partition: record.partition, offset: record.offset }),
    });
  };
  const evalContext: EvalContext = {
    functions: ctx.functionContext,
    onError: (error, expression) =>
      log('expression', `Error computing expression ${expression}: ${(error as Error).message}`),
  };

  const inputs: Input[] = [];
  const pending: Pending[] = [];

  const sourceInput = (step: SourceStep | TableSourceStep, push: Emit): void => {
    const keySerde = keySerdeFor(step, ctx, step.sourceName);
    const valueSerde = valueSerdeFor(step, ctx, step.sourceName);
    const isTable = step.step === 'tableSource';
    const keyless = step.schema.key.length === 0;
    const ts =
      step.timestamp === undefined
        ? undefined
        : { ts: step.timestamp, at: columnIndex(step.schema, step.timestamp.column) };
    const keyFailed = (record: TopicRecord, error: unknown): null => {
      log(
        'deserialization',
        `Failed to deserialize key from topic: ${record.topic}. ${errorMessage(error)}`,
        record,
      );
      return null;
    };
    /** Tables have non-null primary keys: such records are dropped. */
    const dropsKey = (record: TopicRecord, key: unknown[] | null): boolean => {
      if (!isTable || (key !== null && (key.length !== 1 || key[0] !== null))) return false;
      log('null-key', `Dropped a record with a null key from topic: ${record.topic}`, record);
      return true;
    };
    const valueFailed = (record: TopicRecord, error: unknown): null => {
      log(
        'deserialization',
        `Failed to deserialize value from topic: ${record.topic}. ${errorMessage(error)}`,
        record,
      );
      return null;
    };
    const toRow = (record: TopicRecord, key: unknown[] | null, value: unknown[] | null): Row | null => {
      let timestamp = record.timestamp;
      if (ts !== undefined && !(isTable && value === null)) {
        const at = ts.at;
        const v =
          at === undefined ? null : at.inKey ? key?.[at.index] : value === null ? null : value[at.index];
        const ms = extractTimestamp(v ?? null, ts.ts);
        if (ms === undefined) {
          log('timestamp', `Could not extract a timestamp from column ${ts.ts.column}`, record);
          return null;
        }
        timestamp = ms;
      }
      return {
        key,
        value,
        timestamp,
        partition: record.partition,
        offset: record.offset,
        headers: record.headers,
      };
    };
    const keySync = keyless ? () => [] : keySerde.deserializeSync;
    const valueSync = valueSerde.deserializeSync;
    const keyCan = keyless ? undefined : keySerde.canDeserializeSync;
    const valueCan = valueSerde.canDeserializeSync;
    inputs.push({
      topic: step.topic,
      push,
      canDecodeSync:
        keyCan === undefined && valueCan === undefined
          ? () => true
          : (record) =>
              (keyCan === undefined || record.key === null || keyCan(record.key)) &&
              (valueCan === undefined || valueCan(record.value)),
      async decode(record) {
        let key: unknown[] | null;
        let value: unknown[] | null;
        try {
          key = keyless ? [] : record.key === null ? null : await keySerde.deserialize(record.key);
        } catch (error) {
          return keyFailed(record, error);
        }
        if (dropsKey(record, key)) return null;
        try {
          value = await valueSerde.deserialize(record.value);
        } catch (error) {
          return valueFailed(record, error);
        }
        return toRow(record, key, value);
      },
      decodeSync:
        keySync === undefined || valueSync === undefined
          ? undefined
          : (record) => {
              let key: unknown[] | null;
              let value: unknown[] | null;
              try {
                key = record.key === null && !keyless ? null : keySync(record.key);
              } catch (error) {
                return keyFailed(record, error);
              }
              if (dropsKey(record, key)) return null;
              try {
                value = valueSync(record.value);
              } catch (error) {
                return valueFailed(record, error);
              }
              return toRow(record, key, value);
            },
    });
  };

  // ---- operators ---------------------------------------------------------------------------------

  const build = (step: ExecutionStep, emit: Emit): void => {
    switch (step.step) {
      case 'streamSource':
        sourceInput(step, emit);
        return;
      case 'tableSource': {
        if (step.stateStore === undefined) {
          sourceInput(step, emit);
          return;
        }
        const rows = store<readonly unknown[]>(step.stateStore, 'table-source', step.topic);
        sourceInput(step, (row) => {
          const key = row.key ?? [];
          const old = rows.get(key)?.value ?? null;
          if (row.value === null) rows.delete(key, row.timestamp);
          else rows.put(key, row.value, row.timestamp);
          emit(derive(row, row.key, row.value, old));
        });
        return;
      }
      case 'streamFilter': {
        const { compiler, flat } = operatorExpressions(step.source.schema, ctx.functions);
        const predicate = compiler.predicate(step.predicate, 'WHERE').evaluate;
        build(step.source, (row) => {
          if (row.value === null) return;
          if (predicate(flat(row), evalContext) === true) emit(row);
        });
        return;
      }
      case 'tableFilter': {
        const { compiler, flat } = operatorExpressions(step.source.schema, ctx.functions);
        const predicate = compiler.predicate(step.predicate, 'WHERE').evaluate;
        const keep = (row: Row, v: readonly unknown[] | null): readonly unknown[] | null =>
          v === null ? null : predicate(flat(row, v), evalContext) === true ? v : null;
        build(step.source, (row) => {
          const value = keep(row, row.value);
          if (row.old === undefined) {
            // The previous row is unknown: forward every change (a non-match as a tombstone).
            emit(derive(row, row.key, value));
            return;
          }
          // Like a Kafka Streams filter sending old values: nothing to say when neither matches.
          const old = keep(row, row.old);
          if (value === null && old === null) return;
          emit(derive(row, row.key, value, old));
        });
        return;
      }
      case 'streamSelectKey': {
        const input = step.source.schema;
        const { compiler, flat: flatOf } = operatorExpressions(input, ctx.functions);
        const keyNames = new Set(input.key.map((k) => k.name));
        // With a null value, only expressions over key columns can be computed (ksqlDB: the rest is NULL).
        const keys: { evaluate: Evaluator; keyOnly: boolean }[] = step.keyExpressions.map((e) => ({
          evaluate: compiler.compile(e).evaluate,
          keyOnly: columnsIn(e).every((c) => keyNames.has(c)),
        }));
        const moved = movedKeyIndexes(input);
        build(step.source, (row) => {
          const flat = flatOf(row);
          const key = keys.map((k) =>
            row.value === null && !k.keyOnly ? null : k.evaluate(flat, evalContext),
          );
          const value =
            row.value === null
              ? null
              : [...row.value, ...moved.map((i) => (row.key === null ? null : (row.key[i] ?? null)))];
          emit(derive(row, key, value));
        });
        return;
      }
      case 'streamSelect':
      case 'tableSelect': {
        const { compiler, flat } = operatorExpressions(step.source.schema, ctx.functions);
        const keys = step.keyExpressions.map((s) => compiler.compile(s.expression).evaluate);
        const values = step.valueExpressions.map((s) => compiler.compile(s.expression).evaluate);
        const evaluate = (evaluators: readonly Evaluator[], f: readonly unknown[]): unknown[] => {
          const out = new Array<unknown>(evaluators.length);
          for (let i = 0; i < evaluators.length; i++) out[i] = (evaluators[i] as Evaluator)(f, evalContext);
          return out;
        };
        const project = (row: Row, v: readonly unknown[] | null | undefined): readonly unknown[] | null =>
          v === null || v === undefined ? null : evaluate(values, flat(row, v));
        build(step.source, (row) => {
          const key = row.key === null ? null : evaluate(keys, flat(row));
          const value = project(row, row.value);
          if (step.step === 'streamSelect' || row.old === undefined) emit(derive(row, key, value));
          else emit(derive(row, key, value, project(row, row.old)));
        });
        return;
      }
      case 'groupBy':
        buildGroupBy(step, emit);
        return;
      case 'aggregate':
        buildAggregate(step, emit);
        return;
      case 'join':
        if (step.kind === 'streamTable') buildStreamTableJoin(step, emit);
        else buildTableTableJoin(step, emit);
        return;
      case 'fkJoin':
        buildForeignKeyJoin(step, emit);
        return;
      case 'streamSink':
      case 'tableSink':
        throw new Error(`query ${queryId}: a sink inside the plan`);
    }
  };

  const buildGroupBy = (step: GroupByStep, emit: Emit): void => {
    const input = step.source.schema;
    const { compiler, flat: flatOf } = operatorExpressions(input, ctx.functions);
    const exprs = step.keyExpressions.map((e) => compiler.compile(e).evaluate);
    const moved = movedKeyIndexes(input);
    const groupKey = (row: Row, v: readonly unknown[]): unknown[] | null => {
      const flat = flatOf(row, v);
      const key: unknown[] = [];
      for (let i = 0; i < exprs.length; i++) {
        const k = (exprs[i] as Evaluator)(flat, evalContext);
        if (k === null || k === undefined) {
          log(
            'group-by',
            `Group-by column with index ${i} resolved to null. The source row will be excluded from the table.`,
          );
          return null;
        }
        key.push(k);
      }
      return key;
    };
    const regrouped = (row: Row, v: readonly unknown[]): readonly unknown[] => [
      ...v,
      ...moved.map((i) => (row.key === null ? null : (row.key[i] ?? null))),
    ];
    build(step.source, (row) => {
      if (!step.table) {
        if (row.value === null) return;
        const key = groupKey(row, row.value);
        if (key !== null) emit(derive(row, key, regrouped(row, row.value)));
        return;
      }
      // A table update: retract the old row from its group, add the new one (a single change when
      // the group does not move, like Kafka Streams' KTableRepartitionMap).
      const newKey = row.value === null ? null : groupKey(row, row.value);
      const oldKey = row.old === null || row.old === undefined ? null : groupKey(row, row.old);
      const newValue = row.value === null ? null : regrouped(row, row.value);
      const oldValue = row.old === null || row.old === undefined ? null : regrouped(row, row.old);
      if (newKey !== null && oldKey !== null && encodeState(newKey) === encodeState(oldKey)) {
        emit(derive(row, newKey, newValue, oldValue));
        return;
      }
      if (oldKey !== null) emit(derive(row, oldKey, null, oldValue));
      if (newKey !== null) emit(derive(row, newKey, newValue, null));
    });
  };

  const buildAggregate = (step: AggregateStep, emit: Emit): void => {
    const input = step.source.schema;
    const { compiler, flat: flatOf } = operatorExpressions(input, ctx.functions);
    const literal = (e: Expr): unknown => compiler.compile(e).evaluate([], evalContext);
    const calls = step.aggregations.map((a) => {
      const arg = a.argument === undefined ? undefined : compiler.compile(a.argument);
      const fn: AggregateFunction = resolveAggregate(
        a.name,
        arg?.type,
        a.literals.map(literal),
        step.functionConfig,
      );
      return { fn, arg: arg?.evaluate };
    });
    const nonAgg = step.nonAggregateColumns.map(
      (c) => compiler.compile({ kind: 'Column', name: c }).evaluate,
    );
    const states = store<{ readonly s: readonly unknown[]; readonly n: readonly unknown[] }>(
      step.stateStore,
      'aggregate',
    );
    const results = (s: readonly unknown[]): unknown[] =>
      calls.map((c, i) => c.fn.result(s[i] ?? c.fn.init()));
    const apply = (
      s: readonly unknown[],
      row: Row,
      v: readonly unknown[],
      op: 'add' | 'undo',
    ): readonly unknown[] => {
      const flat = flatOf(row, v);
      return calls.map((c, i) => {
        const state = s[i] ?? c.fn.init();
        const arg = c.arg === undefined ? null : c.arg(flat, evalContext);
        const f = op === 'add' ? c.fn.add : c.fn.undo;
        if (f === undefined) return state;
        try {
          return f(state, arg);
        } catch (error) {
          log('aggregate', `Error computing ${c.fn.name}: ${(error as Error).message}`);
          return state;
        }
      });
    };
    build(step.source, (row) => {
      if (row.key === null) return;
      const entry = states.get(row.key);
      let s: readonly unknown[] | undefined = entry?.value.s;
      let n: readonly unknown[] = entry?.value.n ?? [];
      const old = row.old;
      if (old !== null && old !== undefined && s !== undefined) {
        s = apply(s, row, old, 'undo');
        const flat = flatOf(row, old);
        n = nonAgg.map((e) => e(flat, evalContext));
      }
      if (row.value !== null) {
        s = apply(s ?? calls.map((c) => c.fn.init()), row, row.value, 'add');
        const flat = flatOf(row);
        n = nonAgg.map((e) => e(flat, evalContext));
      }
      if (s === undefined) return;
      const timestamp = entry === undefined ? row.timestamp : Math.max(row.timestamp, entry.timestamp);
      states.put(row.key, { s, n }, timestamp);
      emit(
        derive(
          row,
          row.key,
          [...n, ...results(s)],
          entry === undefined ? null : [...entry.value.n, ...results(entry.value.s)],
          timestamp,
        ),
      );
    });
  };

  const joinRows = (
    step: JoinStep | ForeignKeyJoinStep,
    key: readonly unknown[],
    left: readonly unknown[] | null,
    right: readonly unknown[] | null,
  ): unknown[] => {
    const leftWidth = left === null ? step.left.schema.value.length : left.length;
    const rightWidth = right === null ? step.right.schema.value.length : right.length;
    const synthetic = step.step === 'join' && step.syntheticKey;
    const out = new Array<unknown>(leftWidth + rightWidth + (synthetic ? 1 : 0));
    for (let i = 0; i < leftWidth; i++) out[i] = left === null ? null : left[i];
    for (let i = 0; i < rightWidth; i++) out[leftWidth + i] = right === null ? null : right[i];
    if (synthetic) out[leftWidth + rightWidth] = key[0] ?? null;
    return out;
  };

  const buildStreamTableJoin = (step: JoinStep, emit: Emit): void => {
    const table = store<readonly unknown[]>(step.rightStore, 'join-right');
    build(step.right, (row) => {
      if (row.key === null) return;
      if (row.value === null) table.delete(row.key, row.timestamp);
      else table.put(row.key, row.value, row.timestamp);
    });
    build(step.left, (row) => {
      if (row.value === null) return;
      const found = keyHasNull(row.key) ? undefined : table.get(row.key ?? []);
      if (found === undefined && step.joinType === 'INNER') return;
      if (row.key === null && step.joinType === 'INNER') return;
      const key = row.key ?? [null];
      emit(derive(row, key, joinRows(step, key, row.value, found?.value ?? null)));
    });
  };

  const buildTableTableJoin = (step: JoinStep, emit: Emit): void => {
    const lefts = store<readonly unknown[]>(step.leftStore ?? `${step.rightStore}-left`, 'join-left');
    const rights = store<readonly unknown[]>(step.rightStore, 'join-right');
    const type = step.joinType;
    /** The joined row for a key given both sides' rows (null: no row). */
    const result = (
      key: readonly unknown[],
      l: readonly unknown[] | null,
      r: readonly unknown[] | null,
    ): unknown[] | null => {
      const present =
        type === 'INNER'
          ? l !== null && r !== null
          : type === 'LEFT'
            ? l !== null
            : type === 'RIGHT'
              ? r !== null
              : l !== null || r !== null;
      return present ? joinRows(step, key, l, r) : null;
    };
    const side = (from: 'left' | 'right') => (row: Row) => {
      if (row.key === null) return;
      const key = row.key;
      const mine = from === 'left' ? lefts : rights;
      const other = from === 'left' ? rights : lefts;
      const previous = mine.get(key)?.value ?? null;
      if (row.value === null) mine.delete(key, row.timestamp);
      else mine.put(key, row.value, row.timestamp);
      const found = other.get(key);
      const otherRow = found?.value ?? null;
      const pair = (
        mineRow: readonly unknown[] | null,
      ): [readonly unknown[] | null, readonly unknown[] | null] =>
        from === 'left' ? [mineRow, otherRow] : [otherRow, mineRow];
      // Kafka Streams' KTableKTable{Inner,Left,Right,Outer}Join processors (with old values).
      const otherRequired =
        type === 'INNER' || (type === 'LEFT' && from === 'right') || (type === 'RIGHT' && from === 'left');
      if (found === undefined && (otherRequired || (row.value === null && previous === null))) return;
      const timestamp = found === undefined ? row.timestamp : Math.max(row.timestamp, found.timestamp);
      let value: unknown[] | null;
      if (row.value !== null) value = joinRows(step, key, ...pair(row.value));
      else if (type === 'OUTER' || (otherRequired && type !== 'INNER'))
        value = joinRows(step, key, ...pair(null));
      else value = null;
      emit(derive(row, row.key, value, result(key, ...pair(previous)), timestamp));
    };
    build(step.left, side('left'));
    build(step.right, side('right'));
  };

  const buildForeignKeyJoin = (step: ForeignKeyJoinStep, emit: Emit): void => {
    const lefts = store<readonly unknown[]>(step.leftStore, 'join-left');
    const rights = store<readonly unknown[]>(step.rightStore, 'join-right');
    const leftSchema = step.left.schema;
    const { compiler: fkCompiler, flat: fkFlat } = operatorExpressions(leftSchema, ctx.functions);
    const fkOf = fkCompiler.compile(step.foreignKey).evaluate;
    /** Foreign key (encoded) → left keys subscribed to it, derived from the left store. */
    const subscribers = new Map<string, Map<string, readonly unknown[]>>();
    const foreignKey = (key: readonly unknown[], value: readonly unknown[], row?: Row): unknown => {
      const base: Row = row ?? { key, value, timestamp: 0, partition: 0, offset: 0n, headers: [] };
      return fkOf(fkFlat({ ...base, key }, value), evalContext);
    };
    const subscribe = (fk: unknown, key: readonly unknown[]): void => {
      if (fk === null || fk === undefined) return;
      const f = encodeState([fk]);
      const set = subscribers.get(f) ?? new Map<string, readonly unknown[]>();
      set.set(encodeState(key), key);
      subscribers.set(f, set);
    };
    const unsubscribe = (fk: unknown, key: readonly unknown[]): void => {
      if (fk === null || fk === undefined) return;
      const f = encodeState([fk]);
      const set = subscribers.get(f);
      set?.delete(encodeState(key));
      if (set?.size === 0) subscribers.delete(f);
    };
    restoreHooks.set(step.leftStore, (key, before, after) => {
      if (before !== undefined) unsubscribe(foreignKey(key, before), key);
      if (after !== undefined) subscribe(foreignKey(key, after), key);
    });
    const result = (key: readonly unknown[], left: readonly unknown[], right: readonly unknown[] | null) =>
      right === null && step.joinType === 'INNER' ? null : joinRows(step, key, left, right);

    build(step.left, (row) => {
      if (row.key === null) return;
      const key = row.key;
      const previous = lefts.get(key);
      if (previous !== undefined) unsubscribe(foreignKey(key, previous.value, row), key);
      if (row.value === null) {
        lefts.delete(key, row.timestamp);
        if (previous !== undefined) emit(derive(row, key, null, null));
        return;
      }
      lefts.put(key, row.value, row.timestamp);
      const fk = foreignKey(key, row.value, row);
      subscribe(fk, key);
      const right = fk === null || fk === undefined ? undefined : rights.get([fk]);
      // A new left row whose foreign row is missing emits nothing on an inner join; an updated one
      // emits a tombstone to unset the previous result.
      if (right === undefined && step.joinType === 'INNER' && previous === undefined) return;
      emit(derive(row, key, result(key, row.value, right?.value ?? null), null));
    });
    build(step.right, (row) => {
      if (row.key === null) return;
      if (row.value === null) rights.delete(row.key, row.timestamp);
      else rights.put(row.key, row.value, row.timestamp);
      const subs = subscribers.get(encodeState([row.key[0] ?? null]));
      if (subs === undefined) return;
      for (const key of sortKeys([...subs.values()])) {
        const left = lefts.get(key);
        if (left === undefined) continue;
        emit(derive(row, key, result(key, left.value, row.value), null));
      }
    });
  };

  /** Stores whose contents feed derived in-memory indexes, refreshed on restore. */
  const restoreHooks = new Map<
    string,
    (
      key: readonly unknown[],
      before: readonly unknown[] | undefined,
      after: readonly unknown[] | undefined,
    ) => void
  >();

  // ---- sink -------------------------------------------------------------------------------------

  build(sink.source, (row) => {
    if (current !== undefined) pending.push({ row, record: current });
  });
  const sinkKeySerde = keySerdeFor(sink, ctx, sink.sinkName);
  const sinkValueSerde = valueSerdeFor(sink, ctx, sink.sinkName);
  const sinkTs =
    sink.timestamp === undefined
      ? undefined
      : { ts: sink.timestamp, at: columnIndex(sink.schema, sink.timestamp.column) };
  const materialization =
    sink.step === 'tableSink' && sink.stateStore !== undefined
      ? store<readonly unknown[]>(sink.stateStore, 'sink')
      : undefined;

  if (inputs.length === 0) throw new Error(`query ${queryId} has no source step`);
  const sourceTopics = [...new Set(inputs.map((i) => i.topic))];

  /** The row to write for a pending sink row (timestamp column applied, table materialized), or null. */
  const sinkRow = (p: Pending): Row | null => {
    let row = p.row;
    if (sink.step === 'tableSink' && row.key === null) return null;
    if (sinkTs !== undefined && row.value !== null) {
      const at = sinkTs.at;
      const v = at === undefined ? null : at.inKey ? row.key?.[at.index] : row.value[at.index];
      const ms = extractTimestamp(v ?? null, sinkTs.ts);
      if (ms === undefined) {
        log('timestamp', `Could not extract a timestamp from column ${sinkTs.ts.column}`, p.record);
        return null;
      }
      row = derive(row, row.key, row.value, row.old, ms);
    }
    if (materialization !== undefined && row.key !== null) {
      if (row.value === null) materialization.delete(row.key, row.timestamp);
      else materialization.put(row.key, row.value, row.timestamp);
    }
    return row;
  };
  /** ksqlDB fails the query here ("Exception caught in process"): a sink that cannot be written is fatal. */
  const serializationFailed = (record: TopicRecord, error: unknown): never => {
    log('serialization', `Failed to serialize to topic: ${sink.topic}. ${errorMessage(error)}`, record);
    throw new KsqlError(
      'runtime',
      `Exception caught in process. taskId=0_${record.partition}, processor=KSTREAM-SOURCE-0000000000, topic=${record.topic}, partition=${record.partition}, offset=${record.offset}: Error serializing message to topic: ${sink.topic}. ${errorMessage(error)}`,
      { cause: error },
    );
  };
  const sinkOutput = (row: Row, key: Buffer | null, value: Buffer | null): OutputRecord => ({
    topic: sink.topic,
    key,
    value,
    timestamp: row.timestamp,
    headers: row.headers,
  });

  const serialize = async (p: Pending): Promise<OutputRecord | null> => {
    const row = sinkRow(p);
    if (row === null) return null;
    let keyBytes: Buffer | null;
    let valueBytes: Buffer | null;
    try {
      keyBytes = await sinkKeySerde.serialize(row.key);
      valueBytes = await sinkValueSerde.serialize(row.value);
    } catch (error) {
      return serializationFailed(p.record, error);
    }
    return sinkOutput(row, keyBytes, valueBytes);
  };

  const keySync = sinkKeySerde.serializeSync;
  const valueSync = sinkValueSerde.serializeSync;
  const { canSerializeSync: keyCan } = sinkKeySerde;
  const { canSerializeSync: valueCan } = sinkValueSerde;
  /** Whether the sink's serdes can write without awaiting (their schemas are loaded). */
  const sinkReady = (): boolean =>
    (keyCan === undefined || keyCan()) && (valueCan === undefined || valueCan());
  const serializeSync =
    keySync === undefined || valueSync === undefined
      ? undefined
      : (p: Pending): OutputRecord | null => {
          const row = sinkRow(p);
          if (row === null) return null;
          let keyBytes: Buffer | null;
          let valueBytes: Buffer | null;
          try {
            keyBytes = keySync(row.key);
            valueBytes = valueSync(row.value);
          } catch (error) {
            return serializationFailed(p.record, error);
          }
          return sinkOutput(row, keyBytes, valueBytes);
        };

  /** The inputs reading each topic, and whether a record of it can run without awaiting anything. */
  const byTopic = new Map<string, { inputs: Input[]; sync: boolean }>();
  for (const input of inputs) {
    const entry = byTopic.get(input.topic) ?? { inputs: [], sync: serializeSync !== undefined };
    entry.inputs.push(input);
    entry.sync &&= input.decodeSync !== undefined;
    byTopic.set(input.topic, entry);
  }

  /** Runs one record through the inputs reading its topic; false (nothing done) when it must await. */
  const processSync = (record: TopicRecord, into: OutputRecord[]): boolean => {
    const entry = byTopic.get(record.topic);
    if (entry === undefined) return true;
    if (!entry.sync || serializeSync === undefined || !sinkReady()) return false;
    // Before anything changes state: a record that must await runs whole on the async path.
    for (const input of entry.inputs) if (!input.canDecodeSync(record)) return false;
    for (const input of entry.inputs) {
      const row = (input.decodeSync as (r: TopicRecord) => Row | null)(record);
      if (row === null) continue;
      pending.length = 0;
      current = record;
      try {
        input.push(row);
      } finally {
        current = undefined;
      }
      for (let i = 0; i < pending.length; i++) {
        const out = serializeSync(pending[i] as Pending);
        if (out !== null) into.push(out);
      }
      pending.length = 0;
    }
    return true;
  };

  const restore = (name: string, key: Buffer, value: Buffer | null): void => {
    const s = stores.get(name);
    if (s === undefined) {
      throw new KsqlError('runtime', `Query ${queryId} has no state store named ${name}`);
    }
    const hook = restoreHooks.get(name);
    const before = hook === undefined ? undefined : s.getEncoded(key)?.value;
    s.restore(key, value);
    if (hook !== undefined) {
      hook(
        decodeState(key.toString('utf8')) as readonly unknown[],
        before as readonly unknown[] | undefined,
        s.getEncoded(key)?.value as readonly unknown[] | undefined,
      );
    }
  };

  const toMaterialized = (e: StoreEntry<readonly unknown[]>): MaterializedRow => ({
    key: e.key,
    value: e.value,
    timestamp: e.timestamp,
  });

  return {
    queryId,
    sourceTopics,
    sinkTopic: sink.topic,
    processSync,
    async process(record) {
      const outputs: OutputRecord[] = [];
      if (processSync(record, outputs)) return outputs;
      if (!sinkReady()) {
        // Load the sink's schemas now, so later records run synchronously even when this one writes
        // nothing; a registry failure here is the serializer's to report, when a record needs it.
        await Promise.all([
          sinkKeySerde.prepareSerializeSync?.().catch(() => undefined),
          sinkValueSerde.prepareSerializeSync?.().catch(() => undefined),
        ]);
      }
      for (const input of byTopic.get(record.topic)?.inputs ?? []) {
        const row = await input.decode(record);
        if (row === null) continue;
        pending.length = 0;
        current = record;
        try {
          input.push(row);
        } finally {
          current = undefined;
        }
        const batch = pending.splice(0);
        for (const p of batch) {
          const out = await serialize(p);
          if (out !== null) outputs.push(out);
        }
      }
      return outputs;
    },
    stores: () => [...stores.values()].map((s) => s.info()),
    onChange(listener) {
      listeners.push(listener);
      return () => {
        const i = listeners.indexOf(listener);
        if (i >= 0) listeners.splice(i, 1);
      };
    },
    restore,
    reset() {
      for (const [name, s] of stores) {
        for (const key of s.encodedKeys()) restore(name, Buffer.from(key, 'utf8'), null);
      }
    },
    materialized() {
      if (materialization === undefined) return undefined;
      return [...materialization.all()].map(toMaterialized);
    },
    lookup(key) {
      const e = materialization?.get(key);
      return e === undefined ? undefined : toMaterialized(e);
    },
  };
}

/** Indexes of key columns that are not also value columns (they move into the value on re-keying). */
function movedKeyIndexes(schema: LogicalSchema): number[] {
  return schema.key
    .map((k, i) => ({ name: k.name, i }))
    .filter((k) => !schema.value.some((v) => v.name === k.name))
    .map((k) => k.i);
}

/** Keys in ascending order when comparable (like a state store's prefix scan), else as given. */
function sortKeys(keys: (readonly unknown[])[]): (readonly unknown[])[] {
  try {
    return [...keys].sort((a, b) => {
      for (let i = 0; i < Math.max(a.length, b.length); i++) {
        const c = compareValues(a[i], b[i]);
        if (c !== 0) return c;
      }
      return 0;
    });
  } catch {
    return keys;
  }
}
