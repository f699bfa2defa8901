/**
 * `streamdesk ksql migrate` as a user runs it (the CLI, against a local engine on the real broker):
 * ksql-migrations' metadata, applying twice as a no-op, validate naming a changed file, a failing
 * statement recorded as ERROR with file, line and server error, dry runs, destroy-metadata.
 */
import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { md5 } from '../../../src/ksql/migrations/files.ts';
import { PROJECT_ROOT } from '../../../src/paths.ts';
import { testKafka, uniqueName } from '../../support/env.ts';
import { deleteTestTopics, trackTopic } from '../../support/kafka.ts';
import { startTestKsql, type TestKsql } from '../../support/ksql.ts';
import { runStreamdesk, type Ran } from '../../support/cli.ts';

let admin: Admin;
let ksql: TestKsql;
let dir: string;
const topic = trackTopic(uniqueName('migrated'));

beforeAll(async () => {
  admin = testKafka('migrations-test').admin();
  await admin.connect();
  ksql = await startTestKsql('migrations');
  for (const t of ['_command_topic'].map((s) => `_confluent-ksql-${ksql.serviceId}${s}`)) trackTopic(t);
  trackTopic(`${ksql.serviceId}ksql_processing_log`);
  dir = mkdtempSync(join(tmpdir(), 'sd-migrations-'));
  mkdirSync(join(dir, 'migrations'));
  copyFileSync(
    join(PROJECT_ROOT, 'ksql', 'ksql-migrations.properties'),
    join(dir, 'ksql-migrations.properties'),
  );
  writeFileSync(
    join(dir, 'migrations', 'V000001__orders_stream.sql'),
    `-- orders as they arrive
CREATE STREAM ORDERS (ID STRING KEY, AMOUNT INT) WITH (KAFKA_TOPIC='\${orders_topic}', VALUE_FORMAT='JSON', PARTITIONS=\${partitions}, REPLICAS=1);
`,
  );
  writeFileSync(
    join(dir, 'migrations', 'V000002__big_orders.sql'),
    `DEFINE threshold = '100';
SET 'auto.offset.reset' = 'earliest';
CREATE STREAM BIG_ORDERS AS SELECT ID, AMOUNT FROM ORDERS WHERE AMOUNT > \${threshold};
INSERT INTO ORDERS (ID, AMOUNT) VALUES ('first', 500);
`,
  );
});

afterAll(async () => {
  await ksql.stop();
  const internal = (await admin.listTopics()).filter(
    (t) =>
      t.startsWith(`_confluent-ksql-${ksql.serviceId}`) || t.startsWith(ksql.serviceId) || t === 'BIG_ORDERS',
  );
  for (const t of internal) trackTopic(t);
  await deleteTestTopics(admin);
  await admin.disconnect();
});

/** The CLI, asynchronously: the engine it talks to runs in this process. */
function run(args: string[]): Promise<Ran> {
  return runStreamdesk(args);
}

function cli(...args: string[]): Promise<Ran> {
  return run(['ksql', 'migrate', ...args, '--server', ksql.url, '--config-dir', dir]);
}

const defines = ['--define', `orders_topic=${topic}`, '-d', 'partitions=2'];

async function eventCount(): Promise<number> {
  // A client of its own: kafkajs keeps refreshing every topic a client ever touched, and this one
  // is deleted by destroy-metadata.
  const own = testKafka('migrations-events').admin();
  await own.connect();
  try {
    const offsets = await own.fetchTopicOffsets(`${ksql.serviceId}ksql_MIGRATION_EVENTS`);
    return offsets.reduce((n, p) => n + Number(p.high), 0);
  } finally {
    await own.disconnect();
  }
}

interface Info {
  currentVersion: number;
  migrations: { version: number; state: string; checksum: string; previous: string; errorReason: string }[];
}

describe('streamdesk ksql migrate', () => {
  it('applies, records the official metadata, and a second apply is a no-op', async () => {
    const first = await cli('apply', ...defines);
    expect(first.stderr).not.toContain('SD_ERR');
    expect(first.status).toBe(0);
    expect(first.stdout).toContain(
      'created migrations metadata: MIGRATION_EVENTS, MIGRATION_SCHEMA_VERSIONS',
    );
    expect(first.stdout).toContain('applied 2 migration(s); the server is at version 2');
    trackTopic(`${ksql.serviceId}ksql_MIGRATION_EVENTS`);
    trackTopic(`${ksql.serviceId}ksql_MIGRATION_SCHEMA_VERSIONS`);

    const info = JSON.parse((await cli('info', '--json')).stdout) as Info;
    expect(info.currentVersion).toBe(2);
    const checksum = (name: string) => md5(readFileSync(join(dir, 'migrations', name)));
    expect(info.migrations.map((m) => [m.version, m.state, m.checksum, m.previous, m.errorReason])).toEqual([
      [1, 'MIGRATED', checksum('V000001__orders_stream.sql'), '<none>', 'N/A'],
      [2, 'MIGRATED', checksum('V000002__big_orders.sql'), '1', 'N/A'],
    ]);
    // Two events (CURRENT and the version) per state change: RUNNING and MIGRATED for each file.
    expect(await eventCount()).toBe(8);
    // The statements ran: the INSERT went through the query created before it.
    const pull = await ksql.post('/query-stream', {
      sql: "SELECT VERSION, STATE FROM MIGRATION_SCHEMA_VERSIONS WHERE VERSION_KEY = 'CURRENT';",
      properties: {},
    });
    expect(pull.body).toEqual([
      expect.objectContaining({ columnNames: ['VERSION', 'STATE'] }),
      ['2', 'MIGRATED'],
    ]);

    const second = await cli('apply', ...defines);
    expect(second.status).toBe(0);
    expect(second.stdout).toContain('nothing to apply: the server is at version 2');
    expect(await eventCount()).toBe(8);
  }, 120_000);

  it('validate fails naming the applied file that changed', async () => {
    const file = join(dir, 'migrations', 'V000001__orders_stream.sql');
    const original = readFileSync(file);
    appendFileSync(file, '-- edited after it was applied\n');
    try {
      const result = await cli('validate');
      expect(result.status).toBe(1);
      expect(result.stderr).toContain('SD_ERR_MIGRATION_DRIFT');
      expect(result.stderr).toContain('V000001__orders_stream.sql changed after it was applied');
      // apply refuses too, before running anything.
      expect((await cli('apply', ...defines)).status).toBe(1);
    } finally {
      writeFileSync(file, original);
    }
    expect((await cli('validate')).status).toBe(0);
  }, 60_000);

  it('a failing statement stops with file, line and server error; the version shows ERROR until fixed', async () => {
    const bad = join(dir, 'migrations', 'V000003__totals.sql');
    writeFileSync(
      bad,
      "SET 'auto.offset.reset' = 'earliest';\n\nCREATE STREAM TOTALS AS SELECT ID, NOPE FROM ORDERS;\n",
    );
    const failed = await cli('apply', ...defines);
    expect(failed.status).toBe(1);
    expect(failed.stderr).toContain('SD_ERR_MIGRATION_FAILED');
    expect(failed.stderr).toContain('V000003__totals.sql:3');
    expect(failed.stderr).toContain("SELECT column 'NOPE' cannot be resolved");
    const info = JSON.parse((await cli('info', '--json')).stdout) as Info;
    expect(info.currentVersion).toBe(2);
    expect(info.migrations[2]).toMatchObject({ version: 3, state: 'ERROR' });
    expect(info.migrations[2]?.errorReason).toMatch(
      /^Failed to execute sql: CREATE STREAM TOTALS .* Error: /,
    );

    writeFileSync(
      bad,
      "SET 'auto.offset.reset' = 'earliest';\n\nCREATE STREAM TOTALS AS SELECT ID, AMOUNT FROM ORDERS;\n",
    );
    const dry = await cli('apply', ...defines, '--dry-run');
    expect(dry.status).toBe(0);
    expect(dry.stdout).toContain('CREATE STREAM TOTALS AS SELECT ID, AMOUNT FROM ORDERS;');
    const before = await eventCount();
    expect((JSON.parse((await cli('info', '--json')).stdout) as Info).migrations[2]?.state).toBe('ERROR');
    const fixed = await cli('apply', ...defines);
    expect(fixed.status).toBe(0);
    expect(fixed.stdout).toContain('version 3 is ERROR');
    expect(await eventCount()).toBe(before + 4);
    expect((JSON.parse((await cli('info', '--json')).stdout) as Info).migrations[2]).toMatchObject({
      state: 'MIGRATED',
      previous: '2',
    });
    trackTopic('TOTALS');
  }, 120_000);

  it('new names the next file; destroy-metadata needs --yes and drops the metadata', async () => {
    const created = await run(['ksql', 'migrate', 'new', 'add refunds', '--config-dir', dir]);
    expect(created.status).toBe(0);
    expect(created.stdout).toContain('V000004__add_refunds.sql');
    expect((await cli('destroy-metadata')).status).toBe(2);
    const destroyed = await cli('destroy-metadata', '--yes');
    expect(destroyed.status).toBe(0);
    expect(destroyed.stdout).toContain('dropped MIGRATION_SCHEMA_VERSIONS, MIGRATION_EVENTS');
    expect((await admin.listTopics()).includes(`${ksql.serviceId}ksql_MIGRATION_EVENTS`)).toBe(false);
    const info = await cli('info');
    expect(info.stdout).toContain('migrations metadata not created yet');
  }, 60_000);
});
