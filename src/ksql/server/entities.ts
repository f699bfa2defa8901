/**
 * The engine's statement results as ksqlDB's REST entities (`@type` discriminated; see ksqlDB's
 * ksqldb-rest-model KsqlEntity and its subclasses), and ksqlDB's error bodies.
 */
import type { StatementResult } from '../execution/engine.ts';
import { isKsqlError } from '../errors.ts';

export type Entity = Record<string, unknown> & { '@type': string };

export function toEntity(
  result: StatementResult & { commandSequenceNumber?: number },
  extra: { queryState?: (id: string) => string | undefined; sequence: number },
): Entity {
  const base = { statementText: result.statementText, warnings: [] as unknown[] };
  switch (result.type) {
    case 'currentStatus':
      return {
        '@type': 'currentStatus',
        ...base,
        commandId: result.commandId,
        commandStatus: {
          status: result.status,
          message: result.message,
          ...(result.queryId === undefined ? {} : { queryId: result.queryId }),
        },
        commandSequenceNumber: result.commandSequenceNumber ?? extra.sequence,
      };
    case 'streams':
    case 'tables':
      return {
        '@type': result.type,
        ...base,
        [result.type]: result.sources.map((s) => ({
          type: s.type,
          name: s.name,
          topic: s.topic,
          keyFormat: s.keyFormat,
          valueFormat: s.valueFormat,
          isWindowed: s.isWindowed,
        })),
      };
    case 'queries':
      return {
        '@type': 'queries',
        ...base,
        queries: result.queries.map((q) => {
          const state = extra.queryState?.(q.id) ?? q.state;
          return {
            queryString: q.queryString,
            sinks: q.sinks,
            sinkKafkaTopics: q.sinkKafkaTopics,
            id: q.id,
            statusCount: { [state]: 1 },
            queryType: 'PERSISTENT',
            state,
          };
        }),
      };
    case 'kafka_topics':
      return {
        '@type': 'kafka_topics',
        ...base,
        topics: result.topics.map((t) => ({
          name: t.name,
          replicaInfo: Array.from({ length: t.partitions }, () => t.replicas),
        })),
      };
    case 'sourceDescription': {
      const s = result.source;
      return {
        '@type': 'sourceDescription',
        ...base,
        sourceDescription: {
          name: s.name,
          windowType: null,
          readQueries: s.readQueries.map((id) => ({
            id,
            queryString: '',
            sinks: [],
            sinkKafkaTopics: [],
            queryType: 'PERSISTENT',
            state: 'RUNNING',
          })),
          writeQueries: s.writeQueries.map((id) => ({
            id,
            queryString: '',
            sinks: [s.name],
            sinkKafkaTopics: [s.topic],
            queryType: 'PERSISTENT',
            state: 'RUNNING',
          })),
          fields: s.fields.map((f) => ({
            name: f.name,
            schema: { type: f.type, fields: null, memberSchema: null },
            ...(f.key ? { type: 'KEY' } : {}),
          })),
          type: s.type,
          timestamp: s.timestamp ?? '',
          statistics: '',
          errorStats: '',
          extended: false,
          keyFormat: s.keyFormat,
          valueFormat: s.valueFormat,
          topic: s.topic,
          partitions: 0,
          replication: 0,
          statement: s.statement,
          queryOffsetSummaries: [],
          sourceConstraints: [],
        },
      };
    }
    case 'properties':
      return {
        '@type': 'properties',
        ...base,
        properties: result.properties,
        overwrittenProperties: [],
        defaultProperties: [],
      };
    case 'variables':
      return {
        '@type': 'variables',
        ...base,
        variables: Object.entries(result.variables).map(([name, value]) => ({ name, value })),
      };
    case 'function_names':
      return {
        '@type': 'function_names',
        ...base,
        functions: result.functions.map((name) => ({ name, type: 'SCALAR', category: '' })),
      };
    case 'warning_entity':
      return { '@type': 'warning_entity', ...base, message: result.message };
  }
}

export interface ErrorEntity {
  readonly '@type': 'statement_error' | 'generic_error';
  readonly error_code: number;
  readonly message: string;
  readonly statementText?: string;
  readonly entities?: readonly unknown[];
}

/** ksqlDB's error body for a failed statement: 40001 for bad statements, 50000 for the rest. */
export function errorEntity(error: unknown, statementText?: string): { status: number; body: ErrorEntity } {
  if (isKsqlError(error)) {
    const code = error.errorCode;
    const status = Math.floor(code / 100);
    return {
      status,
      body:
        statementText === undefined
          ? { '@type': 'generic_error', error_code: code, message: error.message }
          : {
              '@type': 'statement_error',
              error_code: code,
              message: error.message,
              statementText,
              entities: [],
            },
    };
  }
  return {
    status: 500,
    body: {
      '@type': 'generic_error',
      error_code: 50000,
      message: error instanceof Error ? error.name : 'internal error',
    },
  };
}
