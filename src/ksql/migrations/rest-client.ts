/**
 * A small client for ksqlDB's REST API (HTTP/1.1, what every ksqlDB and the local engine serve), for
 * the migrator: statements on /ksql, pull queries on /query-stream (JSON form), /info.
 */
import { StreamdeskError } from '../../errors.ts';

export interface KsqlEntity {
  readonly '@type': string;
  readonly [key: string]: unknown;
}

export class KsqlServerError extends Error {
  readonly status: number;
  readonly errorCode: number | undefined;
  readonly statementText: string | undefined;

  constructor(status: number, body: unknown) {
    const b = (body ?? {}) as { message?: unknown; error_code?: unknown; statementText?: unknown };
    super(typeof b.message === 'string' ? b.message : `ksqlDB answered ${status}`);
    this.name = 'KsqlServerError';
    this.status = status;
    this.errorCode = typeof b.error_code === 'number' ? b.error_code : undefined;
    this.statementText = typeof b.statementText === 'string' ? b.statementText : undefined;
  }
}

export interface KsqlRestClient {
  readonly url: string;
  execute(
    sql: string,
    options?: {
      variables?: Record<string, string>;
      properties?: Record<string, string>;
      /** Wait until the server has run every command up to this one (ksqlDB's ordering handshake). */
      commandSequenceNumber?: number;
    },
  ): Promise<KsqlEntity[]>;
  /** A pull query: column names and rows. */
  query(sql: string): Promise<{ columnNames: string[]; rows: unknown[][] }>;
  info(): Promise<{ version: string; ksqlServiceId: string }>;
}

export function createKsqlRestClient(url: string, timeoutMs = 60_000): KsqlRestClient {
  const base = url.replace(/\/+$/, '');
  const post = async (path: string, body: unknown): Promise<{ status: number; body: unknown }> => {
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw new StreamdeskError(
        'KSQL_UNAVAILABLE',
        `the ksqlDB server at ${base} did not answer (${(error as Error).message})`,
        { cause: error },
      );
    }
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: response.status, body: parsed };
  };
  return {
    url: base,
    async execute(sql, options = {}) {
      const answer = await post('/ksql', {
        ksql: sql,
        streamsProperties: options.properties ?? {},
        sessionVariables: options.variables ?? {},
        ...(options.commandSequenceNumber === undefined
          ? {}
          : { commandSequenceNumber: options.commandSequenceNumber }),
      });
      if (answer.status !== 200) throw new KsqlServerError(answer.status, answer.body);
      return answer.body as KsqlEntity[];
    },
    async query(sql) {
      const answer = await post('/query-stream', { sql, properties: {} });
      if (answer.status !== 200 || !Array.isArray(answer.body))
        throw new KsqlServerError(answer.status, answer.body);
      const [header, ...rows] = answer.body as [{ columnNames?: string[] }, ...unknown[][]];
      return { columnNames: header.columnNames ?? [], rows: rows.filter(Array.isArray) };
    },
    async info() {
      let response: Response;
      try {
        response = await fetch(`${base}/info`, { signal: AbortSignal.timeout(timeoutMs) });
      } catch (error) {
        throw new StreamdeskError(
          'KSQL_UNAVAILABLE',
          `the ksqlDB server at ${base} did not answer (${(error as Error).message})`,
          { cause: error },
        );
      }
      const body = (await response.json()) as {
        KsqlServerInfo?: { version?: string; ksqlServiceId?: string };
      };
      return {
        version: body.KsqlServerInfo?.version ?? '',
        ksqlServiceId: body.KsqlServerInfo?.ksqlServiceId ?? '',
      };
    },
  };
}
