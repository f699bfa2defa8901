/**
 * PostgreSQL: the machine's own server is used when it answers on the configured port; otherwise one
 * is initialised and started from the installed Debian binaries under .stack/postgres. Either way the
 * databases streamdesk needs (services, registry storage) are created if missing.
 */
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import pg from 'pg';
import type { StackConfig } from '../config/index.ts';
import { StreamdeskError } from '../errors.ts';
import { PidFile, startDetached } from './process.ts';
import {
  processService,
  type OwnProcess,
  type Progress,
  type StackPaths,
  type StackService,
} from './service.ts';

const execFileAsync = promisify(execFile);

interface PgTarget {
  readonly port: number;
  readonly user: string;
}

async function withClient<T>(
  target: PgTarget,
  database: string,
  fn: (c: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({
    host: '127.0.0.1',
    port: target.port,
    user: target.user,
    database,
    connectionTimeoutMillis: 2000,
  });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function probePostgres(target: PgTarget): Promise<boolean> {
  try {
    return await withClient(
      target,
      'postgres',
      async (c) => (await c.query<{ ok: number }>('SELECT 1 AS ok')).rows[0]?.ok === 1,
    );
  } catch {
    return false;
  }
}

async function serverVersion(target: PgTarget): Promise<string | undefined> {
  try {
    return await withClient(target, 'postgres', async (c) => {
      const row = (await c.query<{ server_version: string }>('SHOW server_version')).rows[0];
      return row?.server_version.split(' ')[0];
    });
  } catch {
    return undefined;
  }
}

/** CREATE DATABASE for each name that does not exist yet (CREATE DATABASE has no IF NOT EXISTS). */
export async function ensureDatabases(target: PgTarget, names: readonly string[]): Promise<string[]> {
  return withClient(target, 'postgres', async (c) => {
    const created: string[] = [];
    for (const name of names) {
      const exists = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (exists.rowCount === 0) {
        // Identifiers cannot be bound as parameters; quote them.
        await c.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`).catch((error: unknown) => {
          // Two `up`s racing: the other one created it first.
          if ((error as { code?: string }).code !== '42P04') throw error;
        });
        created.push(name);
      }
    }
    return created;
  });
}

/** The newest installed PostgreSQL server binaries (Debian layout: /usr/lib/postgresql/<major>/bin). */
export function findPostgresBinaries(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const majors = readdirSync(base)
    .filter((v) => existsSync(`${base}/${v}/bin/postgres`) && existsSync(`${base}/${v}/bin/initdb`))
    .sort((a, b) => Number(b) - Number(a));
  return majors[0] === undefined ? undefined : `${base}/${majors[0]}/bin`;
}

/** PostgreSQL refuses to run as root: when we are root, run it as the `postgres` system user. */
async function serverIdentity(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number((await execFileAsync('id', ['-u', 'postgres'])).stdout.trim());
    const gid = Number((await execFileAsync('id', ['-g', 'postgres'])).stdout.trim());
    return { uid, gid };
  } catch {
    throw new StreamdeskError(
      'STACK_BINARY_MISSING',
      'postgres: running as root, but there is no `postgres` system user to run the server as ' +
        '(install the Debian package postgresql).',
    );
  }
}

export function createPostgresService(config: StackConfig, paths: StackPaths): StackService {
  const target: PgTarget = { port: config.postgres.port, user: config.postgres.user };
  const home = `${config.dir}/postgres`;
  const dataDir = `${home}/data`;
  const socketDir = `${home}/run`;
  const logFile = `${paths.logs}/postgres.log`;
  const address = `127.0.0.1:${config.postgres.port}`;
  const databases = [config.postgres.database, config.registry.database];

  const own: OwnProcess = {
    name: 'postgres',
    pidFile: new PidFile(`${paths.run}/postgres.pid`, dataDir),
    logFile,
    ports: [config.postgres.port],
    readyTimeoutMs: 60_000,
    probe: () => probePostgres(target),
    async start(progress: Progress): Promise<number> {
      const bin = findPostgresBinaries();
      if (!bin) {
        throw new StreamdeskError(
          'STACK_BINARY_MISSING',
          `postgres: nothing answers on ${address} and no PostgreSQL server is installed ` +
            '(Debian: apt-get install postgresql; .ci/run does this).',
        );
      }
      const identity = await serverIdentity();
      mkdirSync(socketDir, { recursive: true });
      mkdirSync(paths.logs, { recursive: true });
      if (identity) {
        chownSync(home, identity.uid, identity.gid);
        chownSync(socketDir, identity.uid, identity.gid);
        // Every folder above the data directory must be searchable by the postgres user.
        await execFileAsync('test', ['-w', home], identity).catch(() => {
          throw new StreamdeskError(
            'STACK_BINARY_MISSING',
            `postgres: the postgres system user cannot reach ${home} (a parent folder is private, ` +
              'e.g. /root). Set STREAMDESK_STACK_DIR to a folder it can reach, or run the machine PostgreSQL.',
          );
        });
      }
      if (!existsSync(`${dataDir}/PG_VERSION`)) {
        progress(`initialising a cluster in ${dataDir}`);
        await execFileAsync(
          `${bin}/initdb`,
          ['-D', dataDir, '-U', config.postgres.user, '--auth=trust', '-E', 'UTF8', '--no-instructions'],
          { ...(identity ?? {}), cwd: home, timeout: 120_000 },
        );
      }
      return startDetached({
        command: `${bin}/postgres`,
        args: [
          '-D',
          dataDir,
          '-p',
          String(config.postgres.port),
          '-c',
          'listen_addresses=127.0.0.1',
          '-c',
          `unix_socket_directories=${socketDir}`,
        ],
        cwd: home,
        logFile,
        ...(identity ?? {}),
      });
    },
  };

  return processService({
    own,
    address,
    stopGraceMs: 30_000,
    version: () => serverVersion(target),
    async afterUp(progress) {
      const created = await ensureDatabases(target, databases);
      if (created.length > 0) progress(`created database(s) ${created.join(', ')}`);
    },
  });
}
