/**
 * `streamdesk up` as a user runs it, isolated from other tests (its own stack directory for pid files
 * and logs, topic prefix, ksql service id, database and ports; the running Kafka, registry, Redis and
 * PostgreSQL are reused as external): every step in order, then a web form and a WhatsApp message
 * through the intake become tickets in PostgreSQL via the ksql topology; a second `up` changes
 * nothing; `down --keep-stack` stops the three services.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Admin } from 'kafkajs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPortOpen } from '../../src/stack/net.ts';
import { createTestDatabase, freePort, testKafka, uniqueName, type TestDatabase } from '../support/env.ts';
import { testFormsFile } from '../support/intake.ts';
import { INTAKE_ENV, signedWhatsAppText } from '../support/payloads.ts';
import { eventually } from '../support/tickets.ts';
import { runStreamdesk, type Ran } from '../support/cli.ts';

let env: Record<string, string> = {};
let admin: Admin;
let db: pg.Pool;
const stackDir = mkdtempSync(join(tmpdir(), 'sd-up-'));
const prefix = `${uniqueName('up')}.`;
const serviceId = `${uniqueName('up').replaceAll('.', '_')}_`;
let database: TestDatabase;
const forms = testFormsFile();
const ports = { ksql: 0, tickets: 0, intake: 0 };

function streamdesk(...args: string[]): Promise<Ran> {
  return runStreamdesk(args, env, 240_000);
}

beforeAll(async () => {
  ports.ksql = await freePort();
  ports.tickets = await freePort();
  ports.intake = await freePort();
  database = await createTestDatabase(`sd_up_${Date.now().toString(36)}`);
  const databaseUrl = database.url;
  env = {
    ...INTAKE_ENV,
    STREAMDESK_STACK_DIR: stackDir,
    STREAMDESK_TOPIC_PREFIX: prefix,
    STREAMDESK_KSQL_SERVICE_ID: serviceId,
    STREAMDESK_KSQL_PORT: String(ports.ksql),
    STREAMDESK_TICKETS_PORT: String(ports.tickets),
    STREAMDESK_INTAKE_PORT: String(ports.intake),
    STREAMDESK_DATABASE_URL: databaseUrl,
    STREAMDESK_INTAKE_FORMS_FILE: forms.file,
    STREAMDESK_LOG_LEVEL: 'info',
  };
  db = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  admin = testKafka('up-test').admin();
  await admin.connect();
});

afterAll(async () => {
  await streamdesk('down', '--keep-stack').catch(() => undefined);
  await db.end();
  await database.drop();
  const mine = (await admin.listTopics()).filter(
    (t) => t.startsWith(prefix) || t.startsWith(`_confluent-ksql-${serviceId}`) || t.startsWith(serviceId),
  );
  if (mine.length > 0) await admin.deleteTopics({ topics: mine, timeout: 30_000 }).catch(() => undefined);
  await admin.disconnect();
  rmSync(stackDir, { recursive: true, force: true });
});

describe('streamdesk up', () => {
  it('runs every step in order, and messages through the intake become tickets', async () => {
    const up = await streamdesk('up');
    expect(up.stderr).not.toContain('SD_ERR');
    expect(up.status).toBe(0);
    const steps = [...up.stdout.matchAll(/^\[(\d)\/7\] (\S+)/gm)].map((m) => m[2]);
    expect(steps).toEqual(['stack', 'topics', 'contracts', 'ksql', 'topology', 'tickets', 'intake']);
    expect(up.stdout).toContain('applied 4 migration(s); the server is at version 4');
    const states = Object.fromEntries(
      [...up.stdout.matchAll(/^(kafka|registry|ksql|tickets|intake)\s+\S+\s+\S+\s+(\w+)/gm)].map((m) => [
        m[1],
        m[2],
      ]),
    );
    expect(states).toEqual({
      kafka: expect.stringMatching(/running|external/),
      registry: expect.stringMatching(/running|external/),
      ksql: 'running',
      tickets: 'running',
      intake: 'running',
    });

    // A web form (email contact) and a WhatsApp message, through every piece.
    const form = await fetch(`http://127.0.0.1:${ports.intake}/forms/${forms.contact}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        email: ' Erin@Example.com',
        message: 'The invoice page is broken',
        name: 'Erin',
      }),
    });
    expect(form.status).toBe(202);
    const reference = ((await form.json()) as { reference: string }).reference;
    const wa = signedWhatsAppText('15550109999', 'Hello, where is my order?');
    const whatsapp = await fetch(`http://127.0.0.1:${ports.intake}/webhooks/whatsapp`, {
      method: 'POST',
      headers: wa.headers,
      body: wa.body,
    });
    expect(whatsapp.status).toBe(200);

    let rows: { channel: string; priority: string; thread_key: string; customer_id: string }[] = [];
    await eventually(
      async () => {
        rows = (
          await db.query<{ channel: string; priority: string; thread_key: string; customer_id: string }>(
            'SELECT channel, priority, thread_key, customer_id FROM tickets ORDER BY channel',
          )
        ).rows;
        return rows.length === 2;
      },
      60_000,
      'two tickets',
    );
    expect(rows.map((r) => [r.channel, r.priority, r.thread_key])).toEqual([
      ['WEB_FORM', 'HIGH', `form:${reference}`],
      ['WHATSAPP', 'NORMAL', `whatsapp:106540352242922:phone:+15550109999`],
    ]);
    const contacts = await db.query<{ contact_key: string }>(
      'SELECT contact_key FROM customer_identities ORDER BY contact_key',
    );
    expect(contacts.rows.map((r) => r.contact_key)).toEqual(['email:erin@example.com', 'phone:+15550109999']);

    // Again: everything is found running, nothing is applied twice.
    const again = await streamdesk('up');
    expect(again.status).toBe(0);
    expect(again.stdout).toContain('nothing to apply: the server is at version 4');
    expect(again.stdout.match(/already running/g)?.length).toBe(3);

    const down = await streamdesk('down', '--keep-stack');
    expect(down.status).toBe(0);
    for (const port of Object.values(ports)) expect(await isPortOpen(port)).toBe(false);
    const status = await streamdesk('status');
    expect(status.status).toBe(1);
    expect(status.stdout).toMatch(/^intake\s+\S+\s+\S+\s+stopped/m);
  }, 300_000);
});
