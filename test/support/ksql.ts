/** A local ksql engine (runtime + REST server) with a service id of its own, on a free port. */
import { spawn, type ChildProcess } from 'node:child_process';
import avro from 'avsc';
import type { ISocketFactory } from 'kafkajs';
import { pino } from 'pino';
import { PROJECT_ROOT } from '../../src/paths.ts';
import type { RegistryClient } from '../../src/registry/client.ts';
import { createKsqlRuntime, type KsqlRuntime } from '../../src/ksql/kafka/runtime.ts';
import { createKsqlServer, type KsqlServer } from '../../src/ksql/server/http.ts';
import { testConfig, uniqueName } from './env.ts';

export interface TestKsql {
  readonly runtime: KsqlRuntime;
  readonly server: KsqlServer;
  readonly url: string;
  readonly port: number;
  readonly serviceId: string;
  /** POST JSON, parsed answer. */
  post(
    path: string,
    body: unknown,
    accept?: string,
  ): Promise<{ status: number; body: unknown; text: string }>;
  stop(): Promise<void>;
}

export function serviceIdFor(label: string): string {
  return `${uniqueName(label).replaceAll('.', '_')}_`;
}

export async function startTestKsql(
  label: string,
  serviceId = serviceIdFor(label),
  socketFactory?: ISocketFactory,
): Promise<TestKsql> {
  const runtime = createKsqlRuntime(
    {
      brokers: testConfig.kafka.brokers,
      registryUrl: testConfig.registry.url,
      serviceId,
      replicas: 1,
      ...(socketFactory && { socketFactory }),
    },
    pino({ level: process.env['TEST_KSQL_LOG'] ?? 'silent' }),
  );
  await runtime.start();
  const server = createKsqlServer(runtime, pino({ level: 'silent' }));
  const port = await server.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${port}`;
  return {
    runtime,
    server,
    url,
    port,
    serviceId,
    async post(path, body, accept = 'application/json') {
      const response = await fetch(`${url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept },
        body: JSON.stringify(body),
      });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // delimited bodies are parsed by the caller
      }
      return { status: response.status, body: parsed, text };
    },
    async stop() {
      await server.close();
      await runtime.stop();
    },
  };
}

/** Poll until `check` is true. */
export async function until(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('timed out');
}

/**
 * `streamdesk ksql-server` as a child process (for kill -9 tests), with its own service id; resolves
 * once /healthcheck answers.
 */
export async function spawnKsqlServer(
  port: number,
  serviceId: string,
  env: Record<string, string> = {},
): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [`${PROJECT_ROOT}/bin/streamdesk.js`, 'ksql-server', '--port', String(port)],
    {
      env: { ...process.env, STREAMDESK_KSQL_SERVICE_ID: serviceId, STREAMDESK_LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  await until(async () => (await fetch(`http://127.0.0.1:${port}/healthcheck`)).status === 200, 60_000);
  return child;
}

/** SIGKILL and wait for the exit. */
export async function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

/**
 * Decodes Confluent-framed Avro records with the writer schema their id names (fetched once per id):
 * for reading what a ksql query wrote with a schema the test did not register itself.
 */
export function writerSchemaDecoder(registry: RegistryClient): (value: Buffer | null) => Promise<unknown> {
  const types = new Map<number, Promise<avro.Type>>();
  return async (value) => {
    const bytes = value ?? Buffer.alloc(0);
    const id = bytes.readInt32BE(1);
    let type = types.get(id);
    if (type === undefined) {
      type = registry.schemaById(id).then((text) => avro.Type.forSchema(JSON.parse(text) as avro.Schema));
      types.set(id, type);
    }
    return (await type).fromBuffer(bytes.subarray(5)) as unknown;
  };
}
