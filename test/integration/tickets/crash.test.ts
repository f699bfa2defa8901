/**
 * Acceptance: 10,000 messages across 500 contacts, the tickets service killed with kill -9 at a
 * random point and restarted. Every message has exactly one effect, no customer or ticket is
 * duplicated, and every outbox event is on its topic exactly once (read_committed).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TicketRequest } from '../../../src/contracts/generated/processing-tickets-in-value.ts';
import { prefixed, TOPICS } from '../../../src/contracts/topics.ts';
import { PROJECT_ROOT } from '../../../src/paths.ts';
import { EVENT_ID_HEADER } from '../../../src/services/tickets/outbox.ts';
import { freePort, testKafka } from '../../support/env.ts';
import { eventually, ticketRequest, ticketsEnv, type TicketsEnv } from '../../support/tickets.ts';

const CONTACTS = 500;
const PER_CONTACT = 20;
const HOUR = 3_600_000;

/** The workload, and the number of tickets the threading rules must produce from it. */
function workload(): { requests: TicketRequest[]; expectedTickets: number } {
  const requests: TicketRequest[] = [];
  let expectedTickets = 0;
  const start = Date.now() - 48 * HOUR;
  for (let c = 0; c < CONTACTS; c++) {
    const kind = c % 3;
    for (let m = 0; m < PER_CONTACT; m++) {
      if (kind === 0) {
        // Email: four threads of five messages.
        requests.push(
          ticketRequest({
            contact_key: `email:crash-${c}@example.com`,
            thread_key: `email:crash-${c}-${m % 4}@mail.example.com`,
          }),
        );
      } else if (kind === 1) {
        // WhatsApp: hourly, with a 30 h silence after the 10th message → two tickets.
        const at = start + m * HOUR + (m >= 10 ? 30 * HOUR : 0);
        const key = `phone:+1555${String(200000 + c)}`;
        requests.push(
          ticketRequest({
            contact_key: key,
            channel: 'WHATSAPP',
            provider: 'whatsapp_cloud',
            thread_key: `whatsapp:PN1:${key}`,
            received_at: at,
          }),
        );
      } else {
        // Web forms: each submission its own ticket.
        requests.push(
          ticketRequest({
            contact_key: `email:form-${c}@example.com`,
            channel: 'WEB_FORM',
            provider: 'web_form',
            thread_key: null,
          }),
        );
      }
    }
    expectedTickets += kind === 0 ? 4 : kind === 1 ? 2 : PER_CONTACT;
  }
  // Interleave contacts, as real traffic does (per-contact order is kept: same key, same partition).
  const byContact = new Map<string, TicketRequest[]>();
  for (const r of requests)
    byContact.set(r.contact_key ?? '', [...(byContact.get(r.contact_key ?? '') ?? []), r]);
  const interleaved: TicketRequest[] = [];
  for (let m = 0; m < PER_CONTACT; m++)
    for (const list of byContact.values()) {
      const r = list[m];
      if (r) interleaved.push(r);
    }
  return { requests: interleaved, expectedTickets };
}

let admin: Admin;
let env: TicketsEnv;
let child: ChildProcess | undefined;

function startService(port: number): ChildProcess {
  const proc = spawn(process.execPath, [`${PROJECT_ROOT}/bin/streamdesk.js`, 'tickets', 'run'], {
    env: { ...process.env, ...env.env, STREAMDESK_TICKETS_PORT: String(port), STREAMDESK_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return proc;
}

const count = async (sql: string): Promise<number> =>
  Number((await env.db.query<{ n: string }>(sql)).rows[0]?.n ?? 0);

beforeAll(async () => {
  admin = testKafka('crash-test').admin();
  await admin.connect();
  env = await ticketsEnv(admin, 'crash');
}, 120_000);
afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await env.cleanup();
  await admin.disconnect();
});

describe('tickets service under kill -9', () => {
  it('10,000 messages, 500 contacts: exactly one effect each, no duplicates, every outbox event once on its topic', async () => {
    const { requests, expectedTickets } = workload();
    expect(requests).toHaveLength(CONTACTS * PER_CONTACT);
    const port = await freePort();
    child = startService(port);
    await env.send(requests);

    // Kill at a random point of the run.
    const killAt = 1500 + Math.floor(Math.random() * 5000);
    await eventually(
      async () => (await count('SELECT count(*) AS n FROM processed_events')) >= killAt,
      180_000,
      `${killAt} processed`,
    );
    child.kill('SIGKILL');
    await new Promise((r) => child?.once('exit', r));
    const atKill = await count('SELECT count(*) AS n FROM processed_events');

    child = startService(port);
    await eventually(
      async () => (await count('SELECT count(*) AS n FROM processed_events')) >= requests.length,
      240_000,
      'all processed',
    );
    await eventually(
      async () => (await count('SELECT count(*) AS n FROM outbox WHERE published_at IS NULL')) === 0,
      60_000,
      'outbox drained',
    );

    // Exactly one effect per message; no duplicate customers or tickets.
    expect(await count('SELECT count(*) AS n FROM processed_events')).toBe(requests.length);
    expect(await count('SELECT count(*) AS n FROM ticket_messages')).toBe(requests.length);
    expect(await count('SELECT count(*) AS n FROM customers')).toBe(CONTACTS);
    expect(await count('SELECT count(*) AS n FROM customer_identities')).toBe(CONTACTS);
    expect(await count('SELECT count(*) AS n FROM tickets')).toBe(expectedTickets);
    expect(
      await count(
        'SELECT count(*) AS n FROM tickets WHERE message_count <> (SELECT count(*) FROM ticket_messages m WHERE m.ticket_id = tickets.ticket_id)',
      ),
    ).toBe(0);

    // Every outbox event exactly once on its topic.
    const outbox = (
      await env.db.query<{ topic: string; n: string }>(
        'SELECT topic, count(*) AS n FROM outbox GROUP BY topic',
      )
    ).rows;
    let total = 0;
    for (const { topic, n } of outbox) {
      const records = await env.readRaw(prefixed(env.prefix, topic), Number(n));
      const ids = records.map((r) => r.headers[EVENT_ID_HEADER]);
      expect(ids.every((id) => id !== undefined)).toBe(true);
      expect(new Set(ids).size, `${topic}: no event id twice`).toBe(ids.length);
      expect(records.length, `${topic}: every outbox event`).toBe(Number(n));
      total += records.length;
    }
    expect(outbox.map((o) => o.topic).sort()).toEqual(
      [TOPICS.audit, TOPICS.customerIdentities, TOPICS.ticketsOut].sort(),
    );
    console.info(
      `crash test: killed after ${atKill} of ${requests.length} processed; ${expectedTickets} tickets, ${total} outbox events, each once`,
    );

    child.kill('SIGTERM');
    await new Promise((r) => child?.once('exit', r));
  }, 420_000);
});
