/**
 * The tickets service on the real stack (PostgreSQL, Kafka, registry): customers minted once,
 * threading per channel, lifecycle over HTTP, merges, identity changes, delivery states, duplicates,
 * poison records, SLA breaches with an injected clock — and the events it publishes.
 */
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../../src/contracts/generated/notifications-alerts-value.ts';
import type { AuditEvent } from '../../../src/contracts/generated/notifications-audit-value.ts';
import type { CustomerIdentity } from '../../../src/contracts/generated/processing-customer-identities-value.ts';
import type { TicketEvent } from '../../../src/contracts/generated/processing-tickets-out-value.ts';
import { TOPICS } from '../../../src/contracts/topics.ts';
import { HEADERS } from '../../../src/kafka/consumer-runner.ts';
import { checkSlaBreaches } from '../../../src/services/tickets/operations.ts';
import {
  createTicketsService,
  ticketsTopics,
  type TicketsService,
} from '../../../src/services/tickets/main.ts';
import { testKafka } from '../../support/env.ts';
import { CONTRACTS, eventually, ticketRequest, ticketsEnv, type TicketsEnv } from '../../support/tickets.ts';

let admin: Admin;
let env: TicketsEnv;
let service: TicketsService;
let clock = Date.now();
const now = () => clock;

beforeAll(async () => {
  admin = testKafka('tickets-test').admin();
  await admin.connect();
  env = await ticketsEnv(admin, 'tickets', { STREAMDESK_TICKETS_SLA_CHECK_INTERVAL: '1h' });
  service = await createTicketsService(env.config, { now, defaultMetrics: false });
  await service.start();
}, 120_000);
afterAll(async () => {
  await service.stop();
  await env.cleanup();
  await admin.disconnect();
});

const processed = async (eventId: string | null) =>
  (await env.db.query('SELECT 1 FROM processed_events WHERE event_id = $1', [eventId])).rowCount === 1;
const ticketOf = async (eventId: string) =>
  (
    await env.db.query<{ ticket_id: string; customer_id: string; status: string }>(
      'SELECT t.ticket_id, t.customer_id, t.status FROM ticket_messages m JOIN tickets t USING (ticket_id) WHERE m.event_id = $1',
      [eventId],
    )
  ).rows[0];
async function deliver(...requests: Parameters<typeof ticketRequest>[0][]) {
  const built = requests.map(ticketRequest);
  await env.send(built);
  for (const r of built) await eventually(() => processed(r.event_id), 20_000, `event ${r.event_id}`);
  return built;
}

describe('tickets service', () => {
  it('mints a customer once for a new contact, opens a ticket, and publishes identity, ticket and audit events', async () => {
    const [first, second] = await deliver(
      { contact_key: 'email:ana@example.com' },
      { contact_key: 'email:ana@example.com' },
    );
    const a = await ticketOf(first?.event_id ?? '');
    const b = await ticketOf(second?.event_id ?? '');
    expect(a?.customer_id).toBe(b?.customer_id); // one customer for the contact
    expect(a?.ticket_id).not.toBe(b?.ticket_id); // different threads → different tickets
    expect(a?.status).toBe('NEW');
    const identities = await env.read<CustomerIdentity>(TOPICS.customerIdentities, CONTRACTS.Identities, 1);
    expect(identities.filter((i) => i.value.contact_key === 'email:ana@example.com')).toEqual([
      expect.objectContaining({
        key: 'email:ana@example.com',
        value: expect.objectContaining({ customer_id: a?.customer_id, reason: 'MINTED' }),
      }),
    ]);
    const events = await env.read<TicketEvent>(TOPICS.ticketsOut, CONTRACTS.TicketEvents, 2);
    const created = events.filter(
      (e) => e.value.type === 'CREATED' && e.value.customer_id === a?.customer_id,
    );
    expect(created.map((e) => e.key).sort()).toEqual([a?.ticket_id, b?.ticket_id].sort());
    expect(created[0]?.value).toMatchObject({
      status: 'NEW',
      channel: 'EMAIL',
      priority: 'NORMAL',
      actor: { type: 'CUSTOMER', id: null },
    });
    const audits = await env.read<AuditEvent>(TOPICS.audit, CONTRACTS.Audit, 3);
    expect(
      audits.some((e) => e.value.action === 'customer.created' && e.value.subject_id === a?.customer_id),
    ).toBe(true);
    expect(audits.filter((e) => e.value.action === 'ticket.created').length).toBeGreaterThanOrEqual(2);
  });

  it('threads: an email reply appends; WhatsApp within 24 h appends, after it opens a new ticket; a form opens one unless it references a ticket', async () => {
    const thread = 'email:root-1@mail.example.com';
    const [mail, reply] = await deliver(
      { contact_key: 'email:bo@example.com', thread_key: thread },
      { contact_key: 'email:bo@example.com', thread_key: thread },
    );
    expect((await ticketOf(reply?.event_id ?? ''))?.ticket_id).toBe(
      (await ticketOf(mail?.event_id ?? ''))?.ticket_id,
    );

    const wa = {
      contact_key: 'phone:+15550100200',
      channel: 'WHATSAPP',
      provider: 'whatsapp_cloud',
      thread_key: 'whatsapp:PN1:phone:+15550100200',
    };
    const t0 = Date.now();
    const [w1, w2, w3] = await deliver(
      { ...wa, received_at: t0 },
      { ...wa, received_at: t0 + 3_600_000 },
      { ...wa, received_at: t0 + 3_600_000 + 25 * 3_600_000 },
    );
    const [t1, t2, t3] = await Promise.all([w1, w2, w3].map((w) => ticketOf(w?.event_id ?? '')));
    expect(t2?.ticket_id).toBe(t1?.ticket_id);
    expect(t3?.ticket_id).not.toBe(t1?.ticket_id);

    const [form] = await deliver({
      contact_key: 'email:cy@example.com',
      channel: 'WEB_FORM',
      provider: 'web_form',
      thread_key: null,
    });
    const formTicket = await ticketOf(form?.event_id ?? '');
    const [followUp, fresh] = await deliver(
      {
        contact_key: 'email:cy@example.com',
        channel: 'WEB_FORM',
        provider: 'web_form',
        thread_key: `ticket:${formTicket?.ticket_id}`,
      },
      { contact_key: 'email:cy@example.com', channel: 'WEB_FORM', provider: 'web_form', thread_key: null },
    );
    expect((await ticketOf(followUp?.event_id ?? ''))?.ticket_id).toBe(formTicket?.ticket_id);
    expect((await ticketOf(fresh?.event_id ?? ''))?.ticket_id).not.toBe(formTicket?.ticket_id);
  });

  it('a redelivered request has no second effect', async () => {
    const request = ticketRequest({ contact_key: 'email:dup@example.com' });
    await env.send([request, request, request]);
    await eventually(() => processed(request.event_id));
    await new Promise((r) => setTimeout(r, 500));
    const messages = await env.db.query(
      'SELECT count(*)::int AS n FROM ticket_messages WHERE event_id = $1',
      [request.event_id],
    );
    expect(messages.rows[0]).toEqual({ n: 1 });
    const customers = await env.db.query(
      "SELECT count(*)::int AS n FROM customer_identities WHERE contact_key = 'email:dup@example.com'",
    );
    expect(customers.rows[0]).toEqual({ n: 1 });
  });

  it('lifecycle over HTTP: allowed transitions, 409 for the others, and a customer message reopens a solved ticket', async () => {
    const thread = 'email:life@mail.example.com';
    const [first] = await deliver({ contact_key: 'email:dee@example.com', thread_key: thread });
    const ticket = await ticketOf(first?.event_id ?? '');
    const id = ticket?.ticket_id ?? '';
    const post = (status: string) =>
      service.app.inject({
        method: 'POST',
        url: `/tickets/${id}/status`,
        payload: { status, actor: { type: 'AGENT', id: 'agent-7' } },
      });
    expect((await post('OPEN')).statusCode).toBe(200);
    const illegal = await post('CLOSED');
    expect(illegal.statusCode).toBe(409);
    expect(illegal.json<{ error: { code: string; message: string } }>().error).toEqual({
      code: 'SD_ERR_TICKET_TRANSITION',
      message: 'a OPEN ticket cannot become CLOSED (allowed: PENDING, SOLVED)',
    });
    const solved = await post('SOLVED');
    expect(solved.json<{ status: string; sla: { kind: string; met_at: string | null }[] }>()).toMatchObject({
      status: 'SOLVED',
    });
    expect(solved.json<{ sla: { met_at: string | null }[] }>().sla.every((s) => s.met_at !== null)).toBe(
      true,
    );

    const [again] = await deliver({ contact_key: 'email:dee@example.com', thread_key: thread });
    expect((await ticketOf(again?.event_id ?? ''))?.status).toBe('OPEN');
    const get = await service.app.inject({ url: `/tickets/${id}` });
    expect(get.json<{ status: string; message_count: number }>()).toMatchObject({
      status: 'OPEN',
      message_count: 2,
    });

    const events = (await env.read<TicketEvent>(TOPICS.ticketsOut, CONTRACTS.TicketEvents, 5)).filter(
      (e) => e.key === id,
    );
    expect(events.map((e) => `${e.value.type}:${e.value.previous_status ?? ''}>${e.value.status}`)).toEqual([
      'CREATED:>NEW',
      'STATUS_CHANGED:NEW>OPEN',
      'STATUS_CHANGED:OPEN>SOLVED',
      'MESSAGE_APPENDED:>OPEN',
      'STATUS_CHANGED:SOLVED>OPEN',
    ]);
    const audits = (await env.read<AuditEvent>(TOPICS.audit, CONTRACTS.Audit, 4)).filter(
      (e) => e.key === id && e.value.action === 'ticket.status_changed',
    );
    expect(audits.map((a) => [a.value.actor.type, a.value.before, a.value.after])).toEqual([
      ['AGENT', '{"status":"NEW"}', '{"status":"OPEN"}'],
      ['AGENT', '{"status":"OPEN"}', '{"status":"SOLVED"}'],
      ['CUSTOMER', '{"status":"SOLVED"}', '{"status":"OPEN","reason":"customer message"}'],
    ]);
    expect((await service.app.inject({ url: '/tickets/T-999999' })).statusCode).toBe(404);
    expect(
      (
        await service.app.inject({
          method: 'POST',
          url: `/tickets/${id}/status`,
          payload: { status: 'DONE' },
        })
      ).statusCode,
    ).toBe(422);
  });

  it('merges customers (HTTP): the oldest survives, contact keys and tickets move, events are published', async () => {
    const [older] = await deliver({ contact_key: 'email:eve@example.com' });
    const [newer] = await deliver({
      contact_key: 'phone:+15550100300',
      channel: 'WHATSAPP',
      thread_key: 'whatsapp:PN1:phone:+15550100300',
    });
    const a = await ticketOf(older?.event_id ?? '');
    const b = await ticketOf(newer?.event_id ?? '');
    const response = await service.app.inject({
      method: 'POST',
      url: '/customers/merge',
      payload: { customer_ids: [b?.customer_id, a?.customer_id] },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      survivor: a?.customer_id,
      merged: [b?.customer_id],
      moved_tickets: [b?.ticket_id],
      moved_contact_keys: 1,
    });
    const customer = await service.app.inject({ url: `/customers/${a?.customer_id}` });
    expect(
      customer
        .json<{ identities: { contact_key: string }[] }>()
        .identities.map((i) => i.contact_key)
        .sort(),
    ).toEqual(['email:eve@example.com', 'phone:+15550100300']);
    const identities = await env.read<CustomerIdentity>(TOPICS.customerIdentities, CONTRACTS.Identities, 1);
    expect(
      identities.find((i) => i.key === 'phone:+15550100300' && i.value.reason === 'MERGED')?.value,
    ).toMatchObject({ customer_id: a?.customer_id, previous_customer_id: b?.customer_id });
    const merged = (await env.read<TicketEvent>(TOPICS.ticketsOut, CONTRACTS.TicketEvents, 1)).filter(
      (e) => e.value.type === 'MERGED',
    );
    expect(merged.map((e) => [e.key, e.value.customer_id])).toContainEqual([b?.ticket_id, a?.customer_id]);
    // A later message from the merged contact lands on the survivor.
    const [later] = await deliver({
      contact_key: 'phone:+15550100300',
      channel: 'WHATSAPP',
      thread_key: 'whatsapp:PN1:phone:+15550100300',
    });
    expect((await ticketOf(later?.event_id ?? ''))?.customer_id).toBe(a?.customer_id);
    expect(
      (
        await service.app.inject({
          method: 'POST',
          url: '/customers/merge',
          payload: { customer_ids: ['C-424242', a?.customer_id] },
        })
      ).statusCode,
    ).toBe(404);
  });

  it('a WhatsApp number change links the new number to the same customer', async () => {
    const [message] = await deliver({
      contact_key: 'phone:+15550100400',
      channel: 'WHATSAPP',
      thread_key: 'whatsapp:PN1:phone:+15550100400',
    });
    const owner = (await ticketOf(message?.event_id ?? ''))?.customer_id;
    await deliver({
      contact_key: 'phone:+15550100400',
      kind: 'IDENTITY_CHANGE',
      new_contact_key: 'phone:+15550100401',
      channel: 'WHATSAPP',
      thread_key: null,
    });
    const [fromNew] = await deliver({
      contact_key: 'phone:+15550100401',
      channel: 'WHATSAPP',
      thread_key: 'whatsapp:PN1:phone:+15550100401',
    });
    expect((await ticketOf(fromNew?.event_id ?? ''))?.customer_id).toBe(owner);
    const identities = await env.read<CustomerIdentity>(TOPICS.customerIdentities, CONTRACTS.Identities, 1);
    expect(identities.find((i) => i.key === 'phone:+15550100401')?.value).toMatchObject({
      customer_id: owner,
      reason: 'NUMBER_CHANGED',
    });
  });

  it('records delivery statuses without opening tickets, never moving backwards', async () => {
    const status = (s: string) => ({
      contact_key: 'phone:+15550100500',
      kind: 'STATUS' as const,
      channel: 'WHATSAPP',
      provider_message_id: 'wamid.OUT1',
      delivery_status: s,
      thread_key: null,
    });
    await deliver(status('DELIVERED'), status('SENT'), status('READ'), status('DELIVERED'));
    const state = await env.db.query('SELECT status FROM delivery_states WHERE provider_message_id = $1', [
      'wamid.OUT1',
    ]);
    expect(state.rows).toEqual([{ status: 'READ' }]);
    const tickets = await env.db.query(
      "SELECT count(*)::int AS n FROM ticket_messages WHERE contact_key = 'phone:+15550100500'",
    );
    expect(tickets.rows[0]).toEqual({ n: 0 });
  });

  it('poison records go to the dead-letter topic with coordinates and error, and the partition keeps going', async () => {
    await env.sendRaw(Buffer.from('not avro at all'));
    await env.sendRaw(null);
    const invalid = ticketRequest({ contact_key: '' });
    await env.send([invalid]);
    const [after] = await deliver({ contact_key: 'email:poison@example.com' });
    expect(await ticketOf(after?.event_id ?? '')).toBeDefined();
    const dlt = await env.readRaw(ticketsTopics(env.prefix).deadLetter, 3);
    expect(dlt).toHaveLength(3);
    for (const record of dlt) {
      expect(record.headers[HEADERS.originalTopic]).toBe(ticketsTopics(env.prefix).input);
      expect(Number(record.headers[HEADERS.originalOffset])).toBeGreaterThanOrEqual(0);
      expect(record.headers[HEADERS.attempts]).toBe('1');
    }
    expect(dlt.map((r) => r.headers[HEADERS.errorCode]).sort()).toEqual([
      'SD_ERR_RECORD_INVALID',
      'SD_ERR_RECORD_UNDECODABLE',
      'SD_ERR_RECORD_UNDECODABLE',
    ]);
    // The original bytes, untouched (records of different partitions reach the DLT in any order).
    const raw = dlt.find((r) => r.value?.toString() === 'not avro at all');
    expect(raw?.headers[HEADERS.errorCode]).toBe('SD_ERR_RECORD_UNDECODABLE');
  });

  it('health, readiness and metrics (no ids or contact data in labels)', async () => {
    expect((await service.app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const ready = await service.app.inject({ url: '/readyz' });
    expect(ready.json()).toEqual({
      status: 'ready',
      checks: { postgres: 'ok', kafka: 'ok', registry: 'ok' },
    });
    const metrics = (await service.app.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/streamdesk_tickets_records_total\{outcome="processed"\} [1-9]/);
    expect(metrics).toMatch(/streamdesk_tickets_records_total\{outcome="dead_lettered"\} [1-9]/);
    expect(metrics).toMatch(/streamdesk_tickets_effects_total\{effect="ticket_created"\} [1-9]/);
    expect(metrics).toMatch(/streamdesk_tickets_end_to_end_seconds_count [1-9]/);
    expect(metrics).toContain('streamdesk_tickets_outbox_unpublished');
    expect(metrics).not.toMatch(/@example\.com|\+1555/);
  });

  it('SLA: a missed first-response target raises exactly one alert (injected clock)', async () => {
    const [urgent] = await deliver({ contact_key: 'email:sla@example.com', priority: 'URGENT' });
    const ticket = await ticketOf(urgent?.event_id ?? '');
    const deps = { pool: service.pool, outbox: service.outbox, now };
    clock += 16 * 60_000; // past the 15 min first-response target, before the 4 h resolution target
    expect(await checkSlaBreaches(deps)).toBeGreaterThanOrEqual(1);
    expect(await checkSlaBreaches(deps)).toBe(0); // already alerted
    const alerts = (await env.read<Alert>(TOPICS.alerts, CONTRACTS.Alerts, 1)).filter(
      (a) => a.value.ticket_id === ticket?.ticket_id,
    );
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.value).toMatchObject({
      type: 'SLA_FIRST_RESPONSE_BREACH',
      severity: 'CRITICAL',
      priority: 'URGENT',
      alert_id: `sla:${ticket?.ticket_id}:first_response`,
    });
    expect(alerts[0]?.value.summary).not.toContain('sla@example.com');
  });
});
