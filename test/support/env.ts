import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import pg from 'pg';
import { environment } from '../../src/cli/main.ts';
import { loadConfig, type Config } from '../../src/config/index.ts';
import { createKafka } from '../../src/kafka/client.ts';
import { PROJECT_ROOT } from '../../src/paths.ts';

/** The same configuration the CLI reads (environment, then .env), so tests hit the stack `up` made. */
export const testConfig: Config = loadConfig(environment(PROJECT_ROOT, process.env), PROJECT_ROOT);

/** A name no other test (or earlier run) uses: integration tests never share topics or groups. */
export function uniqueName(prefix: string): string {
  return `test.${prefix}.${Date.now().toString(36)}.${randomBytes(3).toString('hex')}`;
}

export function testKafka(
  clientId = 'streamdesk-test',
  brokers: readonly string[] = testConfig.kafka.brokers,
) {
  return createKafka({ brokers, clientId });
}

/** A TCP port on 127.0.0.1 that was free a moment ago (for servers a test starts). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  await new Promise<void>((r) => server.close(() => r()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** A database of its own on the test PostgreSQL server: its URL, and a way to drop it again. */
export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  drop(): Promise<void>;
}

/** Creates database `name` on the server of `testConfig.database.url` (administered via `postgres`). */
export async function createTestDatabase(name: string): Promise<TestDatabase> {
  const onServer = (db: string): string => testConfig.database.url.replace(/\/[^/]+$/, `/${db}`);
  const admin = async (sql: string): Promise<void> => {
    const client = new pg.Client({ connectionString: onServer('postgres') });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  return { name, url: onServer(name), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
