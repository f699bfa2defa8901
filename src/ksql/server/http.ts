/**
 * The ksqlDB REST API of the local engine, on one port serving HTTP/1.1 and cleartext HTTP/2 with
 * prior knowledge (h2c): the connection preface tells them apart, so curl and ksqlDB's HTTP/1 clients
 * work beside clients that speak h2c for every call (npm ksqldb-client, ksqlDB's Java client).
 *
 * POST /ksql, /query-stream (push queries over streams, pull queries over tables; delimited or JSON), /inserts-stream
 * (HTTP/2 only, as in ksqlDB), /close-query; GET /info, /healthcheck, /status/:type/:entity/:action.
 */
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { KSQL_ERROR_CODES, KsqlError, statementError } from '../errors.ts';
import type { KsqlRuntime } from '../kafka/runtime.ts';
import { parseStatements } from '../parser/parser.ts';
import { errorEntity, toEntity } from './entities.ts';
import { insertRow } from './inserts.ts';
import { createPushQuery, type PushQuery } from './push.ts';

type Request = http.IncomingMessage | http2.Http2ServerRequest;

/** What the handlers use of a response: the part HTTP/1.1 and the HTTP/2 compat API share. */
interface Response {
  readonly headersSent: boolean;
  writeHead(status: number, headers: Record<string, string | number>): unknown;
  write(chunk: string, callback?: () => void): unknown;
  end(chunk?: string): unknown;
  on(event: 'close', listener: () => void): unknown;
}

const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
const DELIMITED = 'application/vnd.ksqlapi.delimited.v1';
export const SERVER_VERSION = '7.9.0';

/** A socket whose first bytes were already read: replays them, then the socket's own data. */
class Prepended extends Duplex {
  private readonly socket: net.Socket;

  constructor(socket: net.Socket, head: Buffer) {
    super();
    this.socket = socket;
    this.push(head);
    socket.on('data', (data: Buffer) => {
      if (!this.push(data)) socket.pause();
    });
    socket.on('end', () => this.push(null));
    socket.on('error', (error) => this.destroy(error));
    socket.on('close', () => this.destroy());
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.socket.write(chunk, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.socket.end(callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.socket.destroy(error ?? undefined);
    callback(error);
  }
}

export interface KsqlServer {
  listen(port: number, host: string): Promise<number>;
  close(): Promise<void>;
}

function readBody(request: Request, limit = 10 * 1024 * 1024): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) reject(new KsqlError('statement', 'request body too large'));
      else chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function send(response: Response, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}

function parseJsonBody(text: string): Record<string, unknown> {
  try {
    const value = JSON.parse(text) as unknown;
    if (value !== null && typeof value === 'object' && !Array.isArray(value))
      return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new KsqlError('statement', 'The request body is not a JSON object');
}

function stringMap(value: unknown): Record<string, string> {
  if (value === null || typeof value !== 'object') return {};
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
}

export function createKsqlServer(runtime: KsqlRuntime, logger: Logger): KsqlServer {
  const engine = runtime.engine;
  const pushQueries = new Map<string, PushQuery>();

  const ksql = async (request: Request, response: Response): Promise<void> => {
    const body = parseJsonBody(await readBody(request));
    const sql = typeof body['ksql'] === 'string' ? body['ksql'] : '';
    const variables = stringMap(body['sessionVariables']);
    const properties = stringMap(body['streamsProperties']);
    // Queries belong on /query-stream (ksqlDB answers 40002).
    try {
      for (const parsed of parseStatements(sql)) {
        if (parsed.statement.kind === 'Select') {
          throw new KsqlError(
            'statement',
            "The following statement types should be issued to the websocket endpoint '/query':\n\t* PRINT\n\t* SELECT",
            { errorCode: KSQL_ERROR_CODES.QUERY_ENDPOINT },
          );
        }
      }
    } catch (error) {
      // Parse errors surface from execute with their statement text below.
      if (error instanceof KsqlError && error.errorCode === KSQL_ERROR_CODES.QUERY_ENDPOINT) {
        const { status, body: entity } = errorEntity(error, sql);
        send(response, status, entity);
        return;
      }
    }
    try {
      const results = await runtime.execute(sql, { variables, properties });
      send(
        response,
        200,
        results.map((r) =>
          toEntity(r, { queryState: (id) => runtime.queryState(id), sequence: runtime.commandSequence() }),
        ),
      );
    } catch (error) {
      const { status, body: entity } = errorEntity(error, sql);
      if (status >= 500)
        logger.error(
          { err: { type: (error as Error).name, message: (error as Error).message } },
          '/ksql failed',
        );
      send(response, status, entity);
    }
  };

  const queryStream = async (request: Request, response: Response): Promise<void> => {
    const body = parseJsonBody(await readBody(request));
    const sql = typeof body['sql'] === 'string' ? body['sql'] : '';
    const properties = stringMap(body['properties']);
    const variables = stringMap(body['sessionVariables']);
    const text = sql.replace(/\$\{([A-Za-z_][A-Za-z0-9_@]*)\}/g, (m, name: string) => variables[name] ?? m);
    const statements = parseStatements(text);
    const first = statements[0];
    if (statements.length !== 1 || first?.statement.kind !== 'Select')
      throw statementError('/query-stream takes exactly one SELECT statement');
    const query = first.statement.query;
    const json = (request.headers.accept ?? '').includes('application/json');
    if (query.emit !== 'CHANGES') {
      // A pull query: the materialized rows of a table, answered at once.
      const pull = await engine.pullQuery(first.text, { variables });
      const header = JSON.stringify(pull.header);
      response.writeHead(200, { 'content-type': json ? 'application/json' : DELIMITED });
      response.end(
        json
          ? `[${[header, ...pull.jsonRows].join(',')}]`
          : [header, ...pull.jsonRows].map((l) => `${l}\n`).join(''),
      );
      return;
    }
    const push = await createPushQuery(runtime, engine, query, first.text, properties);
    pushQueries.set(push.header.queryId ?? '', push);
    response.writeHead(200, { 'content-type': json ? 'application/json' : DELIMITED });
    const header = {
      queryId: push.header.queryId,
      columnNames: push.header.columnNames,
      columnTypes: push.header.columnTypes,
    };
    if (json) response.write(`[${JSON.stringify(header)}`);
    else response.write(`${JSON.stringify(header)}\n`);
    response.on('close', () => void push.close());
    // One row per write, each flushed before the next: clients such as npm ksqldb-client parse every
    // HTTP/2 DATA frame as one JSON document, so rows must not share a frame.
    await push.run(
      (row) =>
        new Promise<void>((resolve) => {
          response.write(json ? `,${JSON.stringify(row)}` : `${JSON.stringify(row)}\n`, () => resolve());
        }),
    );
    pushQueries.delete(push.header.queryId ?? '');
    if (json) response.write(']');
    response.end();
  };

  const insertsStream = async (request: Request, response: Response): Promise<void> => {
    if (request.httpVersion !== '2.0') {
      send(response, 400, {
        '@type': 'generic_error',
        error_code: 40004,
        message: 'This endpoint is only available when using HTTP2',
      });
      return;
    }
    const json = (request.headers.accept ?? '').includes('application/json');
    const lines: string[] = [];
    let buffered = '';
    const acks: unknown[] = [];
    let target: string | undefined;
    let seq = 0;
    response.writeHead(200, { 'content-type': json ? 'application/json' : DELIMITED });
    const ack = (value: unknown): void => {
      if (json) acks.push(value);
      else response.write(`${JSON.stringify(value)}\n`);
    };
    const handle = async (line: string): Promise<void> => {
      if (line.trim() === '') return;
      if (target === undefined) {
        const given = (JSON.parse(line) as { target?: unknown }).target;
        target = typeof given === 'string' ? given : '';
        return;
      }
      try {
        await insertRow(engine, target, JSON.parse(line) as Record<string, unknown>);
        ack({ status: 'ok', seq });
      } catch (error) {
        const { body: entity } = errorEntity(error);
        ack({ status: 'error', seq, error_code: entity.error_code, message: entity.message });
      }
      seq++;
    };
    for await (const chunk of request as AsyncIterable<Buffer>) {
      buffered += chunk.toString('utf8');
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      lines.push(...parts);
      while (lines.length > 0) await handle(lines.shift() ?? '');
    }
    await handle(buffered);
    response.end(json ? JSON.stringify(acks) : undefined);
  };

  const handler = (request: Request, response: Response): void => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const route = `${request.method ?? 'GET'} ${url.pathname}`;
    const work = async (): Promise<void> => {
      switch (route) {
        case 'POST /ksql':
          return ksql(request, response);
        case 'POST /query-stream':
          return queryStream(request, response);
        case 'POST /inserts-stream':
          return insertsStream(request, response);
        case 'POST /close-query': {
          const body = parseJsonBody(await readBody(request));
          const id = typeof body['queryId'] === 'string' ? body['queryId'] : '';
          const push = pushQueries.get(id);
          if (!push) {
            send(response, 400, {
              '@type': 'generic_error',
              error_code: 40001,
              message: `No query with id ${id}`,
            });
            return;
          }
          await push.close();
          send(response, 200, {});
          return;
        }
        case 'GET /info':
          send(response, 200, {
            KsqlServerInfo: {
              version: SERVER_VERSION,
              kafkaClusterId: await runtime.clusterId(),
              ksqlServiceId: runtime.serviceId,
              serverStatus: 'RUNNING',
            },
          });
          return;
        case 'GET /healthcheck': {
          const kafka = await runtime.clusterId().then(
            () => true,
            () => false,
          );
          send(response, kafka ? 200 : 503, {
            isHealthy: kafka,
            details: { metastore: { isHealthy: true }, kafka: { isHealthy: kafka } },
            serverState: 'READY',
          });
          return;
        }
        default: {
          const status = /^GET \/status\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(route);
          if (status) {
            send(response, 200, {
              status: 'SUCCESS',
              message: `${status[1] ?? ''}/${status[2] ?? ''}/${status[3] ?? ''}`,
            });
            return;
          }
          send(response, 404, {
            '@type': 'generic_error',
            error_code: 40400,
            message: `Not found: ${url.pathname}`,
          });
        }
      }
    };
    work().catch((error: unknown) => {
      const { status, body } = errorEntity(error);
      if (response.headersSent) {
        response.end();
        return;
      }
      send(response, status, body);
    });
  };

  const h1 = http.createServer((request, response) => handler(request, response));
  const h2 = http2.createServer({}, (request, response) => handler(request, response as unknown as Response));
  const sockets = new Set<net.Socket>();
  const tcp = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.once('data', (chunk: Buffer) => {
      socket.pause();
      const prefix = chunk.subarray(0, Math.min(chunk.length, H2_PREFACE.length));
      if (prefix.equals(H2_PREFACE.subarray(0, prefix.length))) {
        // HTTP/2 reads the socket's native handle, which no longer holds the bytes we peeked at: give
        // it a stream that starts with them (Node wraps non-native streams itself).
        h2.emit('connection', new Prepended(socket, chunk));
      } else {
        socket.unshift(chunk);
        h1.emit('connection', socket);
      }
      socket.resume();
    });
  });

  return {
    listen(port, host) {
      return new Promise((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(port, host, () => {
          const address = tcp.address();
          resolve(typeof address === 'object' && address ? address.port : port);
        });
      });
    },
    async close() {
      await Promise.all([...pushQueries.values()].map((p) => p.close()));
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
    },
  };
}
