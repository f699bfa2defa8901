/**
 * Builds a per-record processor from a query's physical steps: `process(record) → output records`.
 * The same processor runs under the in-memory driver (QTT) and, later, under a Kafka consumer loop.
 * State that tables and aggregations will need lives in the processor instance (one per query).
 */
import { KsqlError } from '../errors.ts';
import { ExpressionCompiler, type EvalContext, type Evaluator } from '../analyzer/expressions.ts';
import { columnsIn, SourceScope } from '../analyzer/scope.ts';
import type { FunctionContext, FunctionRegistry } from '../functions/registry.ts';
import { parseToMillis } from '../functions/datetime-format.ts';
import type { ExecutionStep, QueryPlan, SinkStep, SourceStep, TimestampColumn } from '../planner/steps.ts';
import type { LogicalSchema } from '../schema/logical.ts';
import { isKeyUnwrapped, isValueUnwrapped } from '../serde/formats.ts';
import { createSerde } from '../serde/index.ts';
import type { SchemaRegistryPort } from '../serde/registry.ts';
import type { RowSerde } from '../serde/serde.ts';
import type { ProcessingLog } from './processing-log.ts';
import type { ProducerRecord, RecordHeader, TopicRecord } from './topic-io.ts';

/** A record on its way through a query's steps. `value` null is a tombstone/null value. */
export interface Row {
  /** Null when the record had a null key (ksqlDB passes such keys through as null). */
  readonly key: readonly unknown[] | null;
  readonly value: readonly unknown[] | null;
  readonly timestamp: number;
  readonly partition: number;
  readonly offset: bigint;
  readonly headers: readonly RecordHeader[];
}

export interface OutputRecord extends ProducerRecord {
  readonly topic: string;
}

export interface QueryProcessor {
  readonly queryId: string;
  readonly sourceTopics: readonly string[];
  readonly sinkTopic: string;
  process(record: TopicRecord): Promise<OutputRecord[]>;
}

export interface ProcessorContext {
  readonly registry: SchemaRegistryPort;
  readonly functions: FunctionRegistry;
  readonly functionContext: FunctionContext;
  readonly processingLog: ProcessingLog;
}

type RowFn = (row: Row) => Row | null;

/**
 * The row as the flat array expressions evaluate against (key, value, pseudo columns). With a null
 * value the value and pseudo columns read as NULL: ksqlDB keeps them in the value.
 */
function flatRow(row: Row, schema: LogicalSchema): unknown[] {
  const key = row.key ?? new Array<unknown>(schema.key.length).fill(null);
  if (row.value === null) return [...key, ...new Array<unknown>(schema.value.length + 3).fill(null)];
  return [...key, ...row.value, BigInt(row.timestamp), row.partition, row.offset];
}

function compileIn(
  schema: LogicalSchema,
  alias: readonly string[],
  functions: FunctionRegistry,
): ExpressionCompiler {
  return new ExpressionCompiler(new SourceScope(schema, alias), functions);
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

export function keySerdeFor(step: SourceStep | SinkStep, ctx: ProcessorContext, name: string): RowSerde {
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

export function valueSerdeFor(step: SourceStep | SinkStep, ctx: ProcessorContext, name: string): RowSerde {
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

export function buildProcessor(plan: QueryPlan, ctx: ProcessorContext): QueryProcessor {
  const { queryId } = plan;
  const sink = plan.physicalPlan;
  const log = (kind: string, message: string, record?: TopicRecord): void => {
    ctx.processingLog.record({
      queryId,
      kind,
      message,
      ...(record === undefined
        ? {}
        : { topic: record.topic, partition: record.partition, offset: record.offset }),
    });
  };
  let current: TopicRecord | undefined;
  const evalContext: EvalContext = {
    functions: ctx.functionContext,
    onError: (error, expression) =>
      log('expression', `Error computing expression ${expression}: ${(error as Error).message}`, current),
  };

  // Compile the chain of steps between the source and the sink.
  const chain: RowFn[] = [];
  let source: SourceStep | undefined;
  const visit = (step: ExecutionStep): void => {
    switch (step.step) {
      case 'streamSource':
        source = step;
        return;
      case 'streamFilter': {
        visit(step.source);
        const input = step.source.schema;
        const predicate = compileIn(input, [], ctx.functions).predicate(step.predicate, 'WHERE').evaluate;
        chain.push((row) => {
          if (row.value === null) return null;
          return predicate(flatRow(row, input), evalContext) === true ? row : null;
        });
        return;
      }
      case 'streamSelectKey': {
        visit(step.source);
        const input = step.source.schema;
        const compiler = compileIn(input, [], ctx.functions);
        const keyNames = new Set(input.key.map((k) => k.name));
        // With a null value, only expressions over key columns can be computed (ksqlDB: the rest is NULL).
        const keys: { evaluate: Evaluator; keyOnly: boolean }[] = step.keyExpressions.map((e) => ({
          evaluate: compiler.compile(e).evaluate,
          keyOnly: columnsIn(e).every((c) => keyNames.has(c)),
        }));
        const movedKeys = input.key
          .map((k, i) => ({ name: k.name, i }))
          .filter((k) => !input.value.some((v) => v.name === k.name))
          .map((k) => k.i);
        chain.push((row) => {
          const flat = flatRow(row, input);
          const key = keys.map((k) =>
            row.value === null && !k.keyOnly ? null : k.evaluate(flat, evalContext),
          );
          const value =
            row.value === null
              ? null
              : [...row.value, ...movedKeys.map((i) => (row.key === null ? null : (row.key[i] ?? null)))];
          return { ...row, key, value };
        });
        return;
      }
      case 'streamSelect': {
        visit(step.source);
        const input = step.source.schema;
        const compiler = compileIn(input, [], ctx.functions);
        const keys = step.keyExpressions.map((s) => compiler.compile(s.expression).evaluate);
        const values = step.valueExpressions.map((s) => compiler.compile(s.expression).evaluate);
        chain.push((row) => {
          const flat = flatRow(row, input);
          const key = row.key === null ? null : keys.map((k) => k(flat, evalContext));
          const value = row.value === null ? null : values.map((v) => v(flat, evalContext));
          return { ...row, key, value };
        });
        return;
      }
      case 'streamSink':
        visit(step.source);
        return;
    }
  };
  visit(sink);
  if (source === undefined) throw new Error(`query ${queryId} has no source step`);
  const src: SourceStep = source;

  const sourceKeySerde = keySerdeFor(src, ctx, src.sourceName);
  const sourceValueSerde = valueSerdeFor(src, ctx, src.sourceName);
  const sinkKeySerde = keySerdeFor(sink, ctx, sink.sinkName);
  const sinkValueSerde = valueSerdeFor(sink, ctx, sink.sinkName);
  const sourceTs =
    src.timestamp === undefined
      ? undefined
      : { ts: src.timestamp, at: columnIndex(src.schema, src.timestamp.column) };
  const sinkTs =
    sink.timestamp === undefined
      ? undefined
      : { ts: sink.timestamp, at: columnIndex(sink.schema, sink.timestamp.column) };

  return {
    queryId,
    sourceTopics: [src.topic],
    sinkTopic: sink.topic,
    async process(record) {
      current = record;
      let key: unknown[] | null;
      let value: unknown[] | null;
      try {
        key =
          src.schema.key.length === 0
            ? []
            : record.key === null
              ? null
              : await sourceKeySerde.deserialize(record.key);
      } catch (error) {
        log(
          'deserialization',
          `Failed to deserialize key from topic: ${record.topic}. ${(error as Error).message}`,
          record,
        );
        return [];
      }
      try {
        value = await sourceValueSerde.deserialize(record.value);
      } catch (error) {
        log(
          'deserialization',
          `Failed to deserialize value from topic: ${record.topic}. ${(error as Error).message}`,
          record,
        );
        return [];
      }
      let timestamp = record.timestamp;
      if (sourceTs !== undefined) {
        const at = sourceTs.at;
        const v =
          at === undefined ? null : at.inKey ? key?.[at.index] : value === null ? null : value[at.index];
        const ms = extractTimestamp(v ?? null, sourceTs.ts);
        if (ms === undefined) {
          log('timestamp', `Could not extract a timestamp from column ${sourceTs.ts.column}`, record);
          return [];
        }
        timestamp = ms;
      }
      let row: Row | null = {
        key,
        value,
        timestamp,
        partition: record.partition,
        offset: record.offset,
        headers: record.headers,
      };
      for (const fn of chain) {
        row = fn(row);
        if (row === null) return [];
      }
      if (sinkTs !== undefined && row.value !== null) {
        const at = sinkTs.at;
        const v = at === undefined ? null : at.inKey ? row.key?.[at.index] : row.value[at.index];
        const ms = extractTimestamp(v ?? null, sinkTs.ts);
        if (ms === undefined) {
          log('timestamp', `Could not extract a timestamp from column ${sinkTs.ts.column}`, record);
          return [];
        }
        row = { ...row, timestamp: ms };
      }
      let keyBytes: Buffer | null;
      let valueBytes: Buffer | null;
      try {
        keyBytes = await sinkKeySerde.serialize(row.key);
        valueBytes = await sinkValueSerde.serialize(row.value);
      } catch (error) {
        // ksqlDB fails the query here ("Exception caught in process"): a sink that cannot be written is fatal.
        log(
          'serialization',
          `Failed to serialize to topic: ${sink.topic}. ${(error as Error).message}`,
          record,
        );
        throw new KsqlError(
          'runtime',
          `Exception caught in process. taskId=0_${record.partition}, processor=KSTREAM-SOURCE-0000000000, topic=${record.topic}, partition=${record.partition}, offset=${record.offset}: Error serializing message to topic: ${sink.topic}. ${(error as Error).message}`,
          { cause: error },
        );
      }
      return [
        {
          topic: sink.topic,
          key: keyBytes,
          value: valueBytes,
          timestamp: row.timestamp,
          headers: row.headers,
        },
      ];
    },
  };
}
