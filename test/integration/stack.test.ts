/**
 * The local stack itself: a complete cold cycle of a second, isolated stack (its own directory and
 * ports, so the shared one keeps serving the other tests), the failure messages a user sees, and the
 * loopback-only rule.
 */
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/paths.ts';
import { probeKafka } from '../../src/stack/kafka.ts';
import { isPortOpen, listeningSockets } from '../../src/stack/net.ts';
import { probeRedis } from '../../src/stack/redis.ts';
import { createStack } from '../../src/stack/stack.ts';
import { freePort, testConfig, testKafka } from '../support/env.ts';

const execFileAsync = promisify(execFile);

/** Run the real CLI with extra environment, as a user would. */
async function cli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(
      process.execPath,
      [`${PROJECT_ROOT}/bin/streamdesk.js`, ...args],
      {
        env: { ...process.env, ...env },
        timeout: 240_000,
      },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('the shared stack (started by the test setup)', () => {
  it('a second `up` is a no-op', async () => {
    const lines: string[] = [];
    const outcomes = await createStack(testConfig.stack, PROJECT_ROOT, (l) => lines.push(l)).up();
    expect([...outcomes.values()].every((o) => o === 'already running' || o === 'external')).toBe(true);
    expect(lines.some((l) => l.includes('started ('))).toBe(false);
  });

  it('`stack status` shows every service answering, with its version and address', async () => {
    const { code, stdout } = await cli(['stack', 'status', '--json'], {});
    expect(code).toBe(0);
    const rows = JSON.parse(stdout) as { name: string; state: string; version: string; address: string }[];
    expect(rows.map((r) => r.name)).toEqual(['postgres', 'redis', 'kafka', 'registry']);
    for (const row of rows) {
      expect(['running', 'external']).toContain(row.state);
      expect(row.version).not.toBe('-');
      expect(row.address).toContain('127.0.0.1');
    }
  });

  it('nothing on the stack ports, and nothing the stack started, listens beyond loopback', async () => {
    const stack = createStack(testConfig.stack, PROJECT_ROOT, () => undefined);
    const ours = (await stack.status()).flatMap((s) => (s.pid === undefined ? [] : [s.pid]));
    const { kafka, registry, redis, postgres } = testConfig.stack;
    const ports = [
      kafka.port,
      kafka.controllerPort,
      registry.port,
      registry.managementPort,
      redis.port,
      postgres.port,
    ];
    const sockets = (await listeningSockets()).filter(
      (s) =>
        (s.pid !== undefined && ours.includes(s.pid)) || ports.includes(Number(s.address.split(':').pop())),
    );
    // broker, controller, registry, registry management, Redis, PostgreSQL at least
    expect(sockets.length).toBeGreaterThanOrEqual(6);
    for (const socket of sockets) {
      expect(socket.address).toMatch(/^(127\.0\.0\.1|\[::ffff:127\.0\.0\.1\]|\[::1\]):\d+$/);
    }
  });

  it('kafkajs is patched: no negative-timeout busy loop on Node 24 (kafkajs#1704)', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.name);
    process.on('warning', onWarning);
    const admin = testKafka('patch-check').admin();
    await admin.connect();
    await admin.listTopics();
    await admin.listTopics();
    await new Promise((r) => setTimeout(r, 50));
    await admin.disconnect();
    process.off('warning', onWarning);
    expect(warnings).not.toContain('TimeoutNegativeWarning');
  });
});

describe('an isolated stack from cold: up, up again, down, failures', () => {
  let dir: string;
  let env: Record<string, string>;
  let ports: Record<string, number>;

  beforeAll(async () => {
    dir = mkdtempSync(`${tmpdir()}/streamdesk-stack-`);
    // PostgreSQL runs as the postgres user when we are root: it must be able to reach the folder.
    chmodSync(dir, 0o755);
    ports = {
      kafka: await freePort(),
      controller: await freePort(),
      registry: await freePort(),
      management: await freePort(),
      redis: await freePort(),
      postgres: await freePort(),
    };
    env = {
      STREAMDESK_STACK_DIR: dir,
      STREAMDESK_KAFKA_PORT: String(ports['kafka']),
      STREAMDESK_KAFKA_CONTROLLER_PORT: String(ports['controller']),
      STREAMDESK_REGISTRY_PORT: String(ports['registry']),
      STREAMDESK_REGISTRY_MANAGEMENT_PORT: String(ports['management']),
      STREAMDESK_REDIS_PORT: String(ports['redis']),
      STREAMDESK_POSTGRES_PORT: String(ports['postgres']),
    };
  });

  afterAll(async () => {
    await cli(['stack', 'down'], env);
    rmSync(dir, { recursive: true, force: true });
  });

  it('`up` starts all four services (Redis and PostgreSQL from the installed binaries) and waits for them', async () => {
    const up = await cli(['stack', 'up'], env);
    expect(up.stderr).toBe('');
    expect(up.code).toBe(0);
    for (const name of ['postgres', 'redis', 'kafka', 'registry']) {
      expect(up.stdout).toMatch(new RegExp(`^${name}: started$`, 'm'));
    }
    expect(up.stdout).toMatch(/stack ready in [\d.]+ s/);
    // The status table at the end: four running rows.
    expect(up.stdout.match(/ running /g)).toHaveLength(4);

    expect(await probeRedis(ports['redis'] ?? 0)).toBe(true);
    expect(await probeKafka([`127.0.0.1:${ports['kafka']}`])).toBe(true);
    const client = new pg.Client({
      host: '127.0.0.1',
      port: ports['postgres'],
      user: 'postgres',
      database: 'streamdesk',
    });
    await client.connect();
    expect((await client.query<{ one: number }>('SELECT 1 AS one')).rows[0]?.one).toBe(1);
    await client.end();
    const config = await fetch(`http://127.0.0.1:${ports['registry']}/apis/ccompat/v7/config`);
    expect(await config.json()).toEqual({ compatibilityLevel: 'BACKWARD' });
  });

  it('a second `up` changes nothing', async () => {
    const again = await cli(['stack', 'up'], env);
    expect(again.code).toBe(0);
    expect(again.stdout.match(/: already running$/gm)).toHaveLength(4);
    expect(again.stdout).not.toMatch(/started \(pid/);
  });

  it('registry storage survives a registry restart (schema ids are baked into records)', async () => {
    const base = `http://127.0.0.1:${ports['registry']}/apis/ccompat/v7`;
    const schema = JSON.stringify({
      type: 'record',
      name: 'Survivor',
      fields: [{ name: 'a', type: 'string' }],
    });
    const registered = await fetch(`${base}/subjects/survivor-value/versions`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ schema }),
    });
    const { id } = (await registered.json()) as { id: number };
    expect((await cli(['stack', 'down', 'registry'], env)).code).toBe(0);
    expect((await cli(['stack', 'up', 'registry'], env)).code).toBe(0);
    const fetched = await fetch(`${base}/schemas/ids/${id}`);
    expect(fetched.status).toBe(200);
    expect(JSON.parse(((await fetched.json()) as { schema: string }).schema)).toEqual(JSON.parse(schema));
  });

  it('`down` stops what `up` started, and `status` then shows everything stopped', async () => {
    const down = await cli(['stack', 'down'], env);
    expect(down.code).toBe(0);
    expect(down.stdout.match(/: stopped$/gm)).toHaveLength(4);
    const status = await cli(['stack', 'status', '--json'], env);
    expect(status.code).toBe(1); // not everything answers
    const rows = JSON.parse(status.stdout) as { state: string; pid?: number }[];
    expect(rows.map((r) => r.state)).toEqual(['stopped', 'stopped', 'stopped', 'stopped']);
    for (const port of Object.values(ports)) expect(await isPortOpen(port)).toBe(false);
  });

  it('a port taken by another program: a clear error naming the port, exit code 1', async () => {
    // Accepts connections and never answers: not a Kafka broker.
    const accepted: Socket[] = [];
    const squatter: Server = createServer((socket) => accepted.push(socket));
    await new Promise<void>((r) => squatter.listen(ports['kafka'], '127.0.0.1', r));
    try {
      const result = await cli(['stack', 'up', 'kafka'], env);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('SD_ERR_STACK_PORT_TAKEN');
      expect(result.stderr).toContain(`127.0.0.1:${ports['kafka']}`);
    } finally {
      for (const socket of accepted) socket.destroy();
      await new Promise<void>((r) => squatter.close(() => r()));
    }
  });

  it('a service that dies while starting: the error shows the last lines of its log', async () => {
    // Storage formatted for another cluster/node: the broker refuses to start.
    writeFileSync(
      `${dir}/kafka/data/meta.properties`,
      'version=1\ncluster.id=AAAAAAAAAAAAAAAAAAAAAA\nnode.id=42\n',
    );
    const result = await cli(['stack', 'up', 'kafka'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('SD_ERR_STACK_SERVICE_DIED');
    expect(result.stderr).toContain('kafka.log');
    expect(result.stderr).toMatch(/\| .*node\.id|\| .*meta\.properties|\| .*Exiting/);
    // Nothing is left behind: no pid file pointing at a dead broker, the ports are free.
    expect(await isPortOpen(ports['kafka'] ?? 0)).toBe(false);
  });

  it('an unknown configuration key is refused before anything starts', async () => {
    const result = await cli(['stack', 'up'], { ...env, STREAMDESK_KAFKA_PROT: '1' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('SD_ERR_CONFIG_INVALID');
    expect(result.stderr).toContain('STREAMDESK_KAFKA_PROT');
  });
});
