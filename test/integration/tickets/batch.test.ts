/**
 * Group commit applies a run of requests set-wise (applyTicketRequests: one statement claims every
 * event id, one records every effect, one inserts every message). Its results must be exactly those of
 * applying the same requests one by one: the same run goes to two fresh databases, one per path, and
 * every table the effects touch is compared.
 */
import type { Admin } from 'kafkajs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transactionWithOutbox, createOutboxWriter } from '../../../src/services/tickets/outbox.ts';
import {
  applyTicketRequest,
  applyTicketRequests,
  type Effect,
  type EffectsDeps,
} from '../../../src/services/tickets/effects.ts';
import { migrate } from '../../../src/services/tickets/db.ts';
import { createTicketsClients } from '../../../src/services/tickets/main.ts';
import { parseSlaTargets } from '../../../src/services/tickets/sla.ts';
import type { TicketRequest } from '../../../src/contracts/generated/processing-tickets-in-value.ts';
import { testKafka } from '../../support/env.ts';
import { deleteTestTopics } from '../../support/kafka.ts';
import { ticketRequest, ticketsEnv, type TicketsEnv } from '../../support/tickets.ts';

let admin: Admin;
const envs: TicketsEnv[] = [];

beforeAll(async () => {
  admin = testKafka('tickets-batch').admin();
  await admin.connect();
});
afterAll(async () => {
  for (const env of envs) await env.cleanup();
  await deleteTestTopics(admin);
  await admin.disconnect();
});

/** A run with new and known customers, threads that continue, a repeated id, a status, a number change. */
function run(): TicketRequest[] {
  const at = 1_800_000_000_000;
  const thread = 'email:thread-1@mail.example.com';
  const first = ticketRequest({ contact_key: 'email:ann@example.com', thread_key: thread, received_at: at });
  const requests = [
    first,
    ticketRequest({ contact_key: 'email:ann@example.com', thread_key: thread, received_at: at + 1000 }),
    ticketRequest({ contact_key: 'email:bob@example.com', received_at: at + 2000 }),
    first, // redelivered inside the run
    ticketRequest({
      contact_key: 'phone:+15550001',
      channel: 'WHATSAPP',
      thread_key: 'whatsapp:inbox-1:phone:+15550001',
      provider_message_id: 'wamid.1',
      received_at: at + 3000,
    }),
    ticketRequest({
      contact_key: 'phone:+15550001',
      channel: 'WHATSAPP',
      thread_key: 'whatsapp:inbox-1:phone:+15550001',
      received_at: at + 4000,
    }),
    ticketRequest({
      contact_key: 'phone:+15550001',
      kind: 'STATUS',
      provider_message_id: 'wamid.1',
      delivery_status: 'DELIVERED',
      thread_key: null,
    }),
    ticketRequest({
      contact_key: 'phone:+15550001',
      kind: 'IDENTITY_CHANGE',
      new_contact_key: 'phone:+15550002',
      thread_key: null,
    }),
    ticketRequest({
      contact_key: 'phone:+15550002',
      channel: 'WHATSAPP',
      thread_key: null,
      received_at: at + 5000,
    }),
    ticketRequest({
      contact_key: 'email:cy@example.com',
      thread_key: null,
      priority: 'URGENT',
      received_at: at + 6000,
    }),
    // A form referencing ann's ticket (the first one minted), then her thread again, now with the
    // customer id the enrichment join adds once it knows her.
    ticketRequest({
      contact_key: 'email:ann@example.com',
      thread_key: 'ticket:T-000001',
      received_at: at + 7000,
    }),
    ticketRequest({
      contact_key: 'email:ann@example.com',
      thread_key: thread,
      customer_id: 'C-000001',
      received_at: at + 8000,
    }),
    // The old number's thread after the number change, and a message a day later (a new ticket).
    ticketRequest({
      contact_key: 'phone:+15550001',
      channel: 'WHATSAPP',
      thread_key: 'whatsapp:inbox-1:phone:+15550001',
      received_at: at + 9000,
    }),
    ticketRequest({
      contact_key: 'phone:+15550001',
      channel: 'WHATSAPP',
      thread_key: 'whatsapp:inbox-1:phone:+15550001',
      received_at: at + 9000 + 25 * 3600_000,
    }),
    // The 24 h window counts from the thread's last message, including ones earlier in this run.
    ...[0, 23, 25].map((hours) =>
      ticketRequest({
        contact_key: 'phone:+15550003',
        channel: 'WHATSAPP',
        thread_key: 'whatsapp:inbox-1:phone:+15550003',
        received_at: at + hours * 3600_000,
      }),
    ),
  ];
  return requests;
}

async function apply(
  env: TicketsEnv,
  requests: readonly TicketRequest[],
  batched: boolean,
): Promise<Effect[]> {
  const clients = createTicketsClients(env.config, pino({ level: 'silent' }));
  try {
    await migrate(clients.pool);
    const now = (): number => 1_800_000_100_000;
    const outbox = createOutboxWriter(clients.encoders, now);
    const deps: EffectsDeps = {
      outbox,
      now,
      whatsappWindowMs: env.config.tickets.whatsappWindowMs,
      sla: parseSlaTargets(env.config.tickets.sla),
    };
    if (batched) {
      return await transactionWithOutbox(clients.pool, outbox, (client) =>
        applyTicketRequests(client, deps, requests),
      );
    }
    const effects: Effect[] = [];
    for (const r of requests) {
      effects.push(
        await transactionWithOutbox(clients.pool, outbox, (client) => applyTicketRequest(client, deps, r)),
      );
    }
    return effects;
  } finally {
    await clients.pool.end();
  }
}

/** Everything the effects write, without the random ids of audit and outbox events. */
async function tables(env: TicketsEnv): Promise<Record<string, unknown[]>> {
  const q = async (sql: string): Promise<unknown[]> =>
    (await env.db.query<Record<string, unknown>>(sql)).rows;
  return {
    processed: await q('SELECT event_id, effect FROM processed_events ORDER BY event_id'),
    customers: await q('SELECT customer_id, merged_into, display_name FROM customers ORDER BY customer_id'),
    identities: await q(
      'SELECT contact_key, customer_id, reason FROM customer_identities ORDER BY contact_key',
    ),
    tickets: await q(
      'SELECT ticket_id, customer_id, status, priority, channel, thread_key, subject, message_count, last_message_at FROM tickets ORDER BY ticket_id',
    ),
    messages: await q(
      'SELECT event_id, ticket_id, channel, contact_key, subject, body, received_at, correlation_id FROM ticket_messages ORDER BY event_id',
    ),
    timers: await q('SELECT ticket_id, kind, due_at FROM sla_timers ORDER BY ticket_id, kind'),
    deliveries: await q(
      'SELECT provider_message_id, status FROM delivery_states ORDER BY provider_message_id',
    ),
    outbox: await q('SELECT topic, count(*)::int AS n FROM outbox GROUP BY topic ORDER BY topic'),
  };
}

describe('group commit', () => {
  it('a run applied set-wise has exactly the effects of the same requests one by one', async () => {
    const requests = run();
    const [one, batch] = [await ticketsEnv(admin, 'batch-one'), await ticketsEnv(admin, 'batch-set')];
    envs.push(one, batch);
    const sequential = await apply(one, requests, false);
    const batched = await apply(batch, requests, true);
    expect(batched).toEqual(sequential);
    expect(sequential.filter((e) => e.kind === 'duplicate')).toHaveLength(1);
    const [a, b] = [await tables(one), await tables(batch)];
    expect(b).toEqual(a);
    // Not vacuous: the run made tickets, appended to one, minted and linked customers.
    expect(a['tickets']?.length).toBeGreaterThanOrEqual(4);
    expect(a['messages']).toHaveLength(14);
    expect(a['identities']).toHaveLength(6);
    // A second run continues threads the first made: the set-wise path now finds their tickets up front.
    const at = 1_800_000_000_000;
    const more = [26, 27, 52].map((hours) =>
      ticketRequest({
        contact_key: 'phone:+15550003',
        channel: 'WHATSAPP',
        thread_key: 'whatsapp:inbox-1:phone:+15550003',
        received_at: at + hours * 3600_000,
      }),
    );
    more.push(
      ticketRequest({ contact_key: 'email:ann@example.com', thread_key: 'email:thread-1@mail.example.com' }),
    );
    expect(await apply(batch, more, true)).toEqual(await apply(one, more, false));
    const continued = await tables(one);
    expect(await tables(batch)).toEqual(continued);
    expect(continued['messages']).toHaveLength(18);

    // Applied again, set-wise: every request is a duplicate and nothing changes.
    expect((await apply(batch, requests, true)).every((e) => e.kind === 'duplicate')).toBe(true);
    expect(await tables(batch)).toEqual(continued);
  }, 120_000);
});
