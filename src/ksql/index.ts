/**
 * The local ksql engine's public surface, for the Kafka I/O, the REST server and command-topic
 * replay. See README.md in this folder for how the pieces fit.
 */
export {
  createEngine,
  type Engine,
  type EngineEvents,
  type EngineOptions,
  type ExecuteOptions,
  type QuerySummary,
  type RunningQuery,
  type SourceDescription,
  type SourceSummary,
  type StatementResult,
} from './execution/engine.ts';
export {
  InMemoryTopicIO,
  murmur2,
  partitionForKey,
  type ProducerRecord,
  type RecordHeader,
  type TopicIO,
  type TopicRecord,
  type TopicSpecIO,
} from './execution/topic-io.ts';
export {
  buildProcessor,
  type MaterializedRow,
  type OutputRecord,
  type ProcessorContext,
  type QueryProcessor,
} from './execution/processor.ts';
export {
  changelogTopicName,
  DEFAULT_MAX_STORE_ENTRIES,
  type ChangelogListener,
  type ChangelogRecord,
  type StateStoreInfo,
} from './execution/state.ts';
export { restJson, type PullQueryHeader, type PullQueryResult } from './execution/pull.ts';
export {
  InMemoryProcessingLog,
  type ProcessingLog,
  type ProcessingLogEntry,
} from './execution/processing-log.ts';
export {
  InMemorySchemaRegistry,
  keySubject,
  valueSubject,
  type RegisteredSchema,
  type SchemaReference,
  type SchemaRegistryPort,
  type SchemaType,
  type SubjectVersion,
} from './serde/registry.ts';
export {
  PLAN_VERSION,
  type PlanVersion,
  type DdlCommand,
  type ExecutionStep,
  type KsqlPlan,
  type QueryPlan,
  type SourceDefinition,
} from './planner/steps.ts';
export { isKsqlError, KSQL_ERROR_CODES, KsqlError, type KsqlErrorKind } from './errors.ts';
export { parseStatements, splitStatements } from './parser/parser.ts';
export { createFunctionRegistry } from './functions/builtins.ts';
export type { FunctionDef, FunctionRegistry } from './functions/registry.ts';
