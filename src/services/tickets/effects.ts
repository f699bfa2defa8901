/**
 * The side effects of one ticket request, in one PostgreSQL transaction together with the request's
 * identity (processed_events) and the outbox events that describe them: a redelivered request finds
 * its id and does nothing, and a crash anywhere leaves either all of it or none of it.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { TicketRequest } from '../../contracts/generated/processing-tickets-in-value.ts';
import { StreamdeskError } from '../../errors.ts';
import { isTicketStatus, statusAfterCustomerMessage, type TicketStatus } from './lifecycle.ts';
import type { CustomerIdentity, OutboxWriter, TicketEvent } from './outbox.ts';
import { dueTimes, priorityOf, type Priority, type SlaTarget } from './sla.ts';
import { decideThread, referencedTicketId, type ThreadCandidate } from './threading.ts';

export interface EffectsDeps {
  readonly outbox: OutboxWriter;
  readonly now: () => number;
  readonly whatsappWindowMs: number;
  readonly sla: Readonly<Record<Priority, SlaTarget>>;
}

export type Effect =
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'ticket-created'; readonly ticketId: string; readonly customerId: string }
  | { readonly kind: 'message-appended'; readonly ticketId: string; readonly customerId: string }
  | { readonly kind: 'delivery-recorded'; readonly status: string }
  | { readonly kind: 'identity-linked'; readonly customerId: string };

type Client = pg.PoolClient;

const SYSTEM = { type: 'SYSTEM' as const, id: null };
const CUSTOMER = { type: 'CUSTOMER' as const, id: null };

function invalid(message: string): StreamdeskError {
  return new StreamdeskError('RECORD_INVALID', message);
}

const ms = (value: unknown): number => (value instanceof Date ? value.getTime() : Number(value));

/** Follow merges to the surviving customer. */
async function survivor(client: Client, customerId: string): Promise<string | undefined> {
  let id = customerId;
  for (let hops = 0; hops < 16; hops++) {
    const row: { merged_into: string | null } | undefined = (
      await client.query<{ merged_into: string | null }>(
        'SELECT merged_into FROM customers WHERE customer_id = $1',
        [id],
      )
    ).rows[0];
    if (!row) return undefined;
    if (row.merged_into === null) return id;
    id = row.merged_into;
  }
  return id;
}

export interface AuditInput {
  readonly action: string;
  readonly subjectType: string;
  readonly subjectId: string;
  readonly before: object | null;
  readonly after: object | null;
  readonly correlationId: string;
  readonly actor?: { type: 'SYSTEM' | 'AGENT' | 'API_CLIENT' | 'CUSTOMER'; id: string | null };
}

export async function audit(
  client: Client,
  deps: Pick<EffectsDeps, 'outbox' | 'now'>,
  input: AuditInput,
): Promise<void> {
  await deps.outbox.audit(client, {
    audit_id: randomUUID(),
    occurred_at: deps.now(),
    actor: input.actor ?? SYSTEM,
    action: input.action,
    subject_type: input.subjectType,
    subject_id: input.subjectId,
    before: input.before === null ? null : JSON.stringify(input.before),
    after: input.after === null ? null : JSON.stringify(input.after),
    correlation_id: input.correlationId,
  });
}

async function publishIdentity(
  client: Client,
  deps: EffectsDeps,
  identity: Omit<CustomerIdentity, 'linked_at'>,
): Promise<void> {
  await deps.outbox.identity(client, { ...identity, linked_at: deps.now() });
}

/**
 * The customer of a contact key: the one the enrichment join found, else the one PostgreSQL knows,
 * else a new one — minted exactly once thanks to the contact key's primary key (a concurrent mint
 * loses the race at the INSERT and reads the winner's).
 */
async function resolveCustomer(
  client: Client,
  deps: EffectsDeps,
  r: TicketRequest,
  contactKey: string,
  cache?: RunCache,
): Promise<string> {
  const survivorOf = async (id: string): Promise<string | undefined> =>
    cache?.survivors.get(id) ?? (await survivor(client, id));
  if (r.customer_id !== null) {
    const id = await survivorOf(r.customer_id);
    if (id !== undefined) return id;
  }
  const cached = cache?.identities.get(contactKey);
  const known =
    cached !== undefined
      ? { customer_id: cached }
      : (
          await client.query<{ customer_id: string }>(
            'SELECT customer_id FROM customer_identities WHERE contact_key = $1',
            [contactKey],
          )
        ).rows[0];
  if (known) return (await survivorOf(known.customer_id)) ?? known.customer_id;

  await client.query('SAVEPOINT mint');
  const seq = (await client.query<{ n: string }>("SELECT nextval('customer_seq') AS n")).rows[0]?.n ?? '0';
  const customerId = `C-${seq.padStart(6, '0')}`;
  const now = deps.now();
  await client.query(
    'INSERT INTO customers (customer_id, created_at, display_name) VALUES ($1, to_timestamp($2 / 1000.0), $3)',
    [customerId, now, r.display_name],
  );
  const linked = await client.query(
    "INSERT INTO customer_identities (contact_key, customer_id, reason, linked_at) VALUES ($1, $2, 'MINTED', to_timestamp($3 / 1000.0)) ON CONFLICT (contact_key) DO NOTHING",
    [contactKey, customerId, now],
  );
  if (linked.rowCount === 0) {
    await client.query('ROLLBACK TO SAVEPOINT mint');
    const winner = (
      await client.query<{ customer_id: string }>(
        'SELECT customer_id FROM customer_identities WHERE contact_key = $1',
        [contactKey],
      )
    ).rows[0];
    if (!winner) throw new Error('identity vanished during a concurrent mint');
    return winner.customer_id;
  }
  await client.query('RELEASE SAVEPOINT mint');
  cache?.identities.set(contactKey, customerId);
  cache?.survivors.set(customerId, customerId);
  await publishIdentity(client, deps, {
    contact_key: contactKey,
    customer_id: customerId,
    reason: 'MINTED',
    previous_customer_id: null,
    correlation_id: r.correlation_id ?? '',
  });
  await audit(client, deps, {
    action: 'customer.created',
    subjectType: 'customer',
    subjectId: customerId,
    before: null,
    after: { customer_id: customerId, contact_keys: 1 },
    correlationId: r.correlation_id ?? '',
  });
  return customerId;
}

interface TicketRow {
  ticket_id: string;
  customer_id: string;
  status: string;
  priority: string;
  channel: string;
  thread_key: string | null;
  last_message_at: Date;
}

function candidate(row: TicketRow | undefined): ThreadCandidate | undefined {
  if (!row || !isTicketStatus(row.status)) return undefined;
  return { ticketId: row.ticket_id, status: row.status, lastMessageAt: ms(row.last_message_at) };
}

function ticketEvent(
  deps: Pick<EffectsDeps, 'now'>,
  ticket: {
    ticket_id: string;
    customer_id: string;
    status: TicketStatus;
    priority: string;
    channel: string;
    thread_key: string | null;
  },
  type: TicketEvent['type'],
  extra: Partial<TicketEvent> & { correlation_id: string },
): TicketEvent {
  return {
    event_id: randomUUID(),
    type,
    ticket_id: ticket.ticket_id,
    customer_id: ticket.customer_id,
    occurred_at: deps.now(),
    status: ticket.status,
    previous_status: null,
    assignee_id: null,
    merged_into_ticket_id: null,
    message_event_id: null,
    channel: ticket.channel,
    priority: ticket.priority,
    thread_key: ticket.thread_key,
    delivery_status: null,
    actor: CUSTOMER,
    ...extra,
  };
}

/**
 * Writes a batch defers to its end, in one statement each instead of one per record: nothing in a
 * request's handling reads them back.
 */
interface Deferred {
  /** ticket_messages rows, in column order (see MESSAGE_COLUMNS). */
  readonly messages: unknown[][];
  /** What the run reads, fetched for all of it up front (see RunCache); absent: query each time. */
  readonly cache?: RunCache;
}

/**
 * Rows a run of requests reads, fetched set-wise before it starts and kept equal to what a query
 * would return as the run writes: per customer id its surviving customer, per contact key its
 * customer, per thread key its latest ticket (locked FOR UPDATE, like the query it replaces). An entry
 * that is absent is queried as usual. Merges change customers and tickets under it, so an identity
 * change empties it.
 */
interface RunCache {
  readonly survivors: Map<string, string>;
  readonly identities: Map<string, string>;
  /** null: the thread has no ticket yet. */
  readonly latest: Map<string, TicketRow | null>;
}

function clearCache(cache: RunCache | undefined): void {
  cache?.survivors.clear();
  cache?.identities.clear();
  cache?.latest.clear();
}

async function loadRunCache(client: Client, requests: readonly TicketRequest[]): Promise<RunCache> {
  const messages = requests.filter((r) => r.kind === 'MESSAGE' || r.kind === null);
  const contactKeys = [...new Set(messages.flatMap((r) => (r.contact_key ? [r.contact_key] : [])))];
  const identities = new Map<string, string>();
  if (contactKeys.length > 0) {
    const rows = await client.query<{ contact_key: string; customer_id: string }>(
      'SELECT contact_key, customer_id FROM customer_identities WHERE contact_key = ANY($1::text[])',
      [contactKeys],
    );
    for (const row of rows.rows) identities.set(row.contact_key, row.customer_id);
  }
  const customerIds = [
    ...new Set([
      ...messages.flatMap((r) => (r.customer_id === null ? [] : [r.customer_id])),
      ...identities.values(),
    ]),
  ];
  const survivors = new Map<string, string>();
  if (customerIds.length > 0) {
    const rows = await client.query<{ customer_id: string; merged_into: string | null }>(
      'SELECT customer_id, merged_into FROM customers WHERE customer_id = ANY($1::text[])',
      [customerIds],
    );
    // Merged customers are followed by survivor() as usual.
    for (const row of rows.rows)
      if (row.merged_into === null) survivors.set(row.customer_id, row.customer_id);
  }
  const threadKeys = [
    ...new Set(
      messages.flatMap((r) =>
        r.thread_key !== null && !referencedTicketId(r.thread_key) ? [r.thread_key] : [],
      ),
    ),
  ];
  const latest = new Map<string, TicketRow | null>();
  if (threadKeys.length > 0) {
    // Every ticket of these threads, locked in one order (thread, newest first): the first of each
    // thread is what the per-message query would have returned.
    const rows = await client.query<TicketRow>(
      'SELECT * FROM tickets WHERE thread_key = ANY($1::text[]) ORDER BY thread_key, last_message_at DESC FOR UPDATE',
      [threadKeys],
    );
    for (const key of threadKeys) latest.set(key, null);
    for (const row of rows.rows) {
      if (row.thread_key !== null && latest.get(row.thread_key) === null) latest.set(row.thread_key, row);
    }
  }
  return { survivors, identities, latest };
}

const MESSAGE_COLUMNS =
  'event_id, ticket_id, channel, provider, provider_message_id, contact_key, subject, body, received_at, correlation_id';

async function insertMessages(client: Client, rows: readonly unknown[][]): Promise<void> {
  if (rows.length === 0) return;
  const width = 10;
  const values = rows.map((_, i) => {
    const p = (k: number): string => `$${i * width + k}`;
    return `(${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}, ${p(7)}, ${p(8)}, to_timestamp(${p(9)} / 1000.0), ${p(10)})`;
  });
  await client.query(
    `INSERT INTO ticket_messages (${MESSAGE_COLUMNS}) VALUES ${values.join(', ')}`,
    rows.flat(),
  );
}

async function handleMessage(
  client: Client,
  deps: EffectsDeps,
  r: TicketRequest,
  contactKey: string,
  deferred?: Deferred,
): Promise<Effect> {
  const cache = deferred?.cache;
  const customerId = await resolveCustomer(client, deps, r, contactKey, cache);
  const receivedAt = r.received_at ?? deps.now();
  const channel = r.channel ?? 'UNKNOWN';
  const referencedId = referencedTicketId(r.thread_key);
  const referenced = referencedId
    ? (await client.query<TicketRow>('SELECT * FROM tickets WHERE ticket_id = $1 FOR UPDATE', [referencedId]))
        .rows[0]
    : undefined;
  const cachedLatest = r.thread_key !== null && !referencedId ? cache?.latest.get(r.thread_key) : undefined;
  const latest =
    r.thread_key !== null && !referencedId
      ? cachedLatest !== undefined
        ? (cachedLatest ?? undefined)
        : (
            await client.query<TicketRow>(
              'SELECT * FROM tickets WHERE thread_key = $1 ORDER BY last_message_at DESC LIMIT 1 FOR UPDATE',
              [r.thread_key],
            )
          ).rows[0]
      : undefined;
  const decision = decideThread({
    channel,
    threadKey: r.thread_key,
    receivedAt,
    referenced: candidate(referenced),
    latestInThread: candidate(latest),
    whatsappWindowMs: deps.whatsappWindowMs,
  });
  const correlation = r.correlation_id ?? '';
  let ticketId: string;
  let effect: Effect;
  if (decision.action === 'append') {
    ticketId = decision.ticketId;
    const row = (referenced?.ticket_id === ticketId ? referenced : latest) as TicketRow;
    const before = row.status as TicketStatus;
    const after = statusAfterCustomerMessage(before);
    await client.query(
      `UPDATE tickets SET status = $2, last_message_at = GREATEST(last_message_at, to_timestamp($3 / 1000.0)),
         updated_at = to_timestamp($4 / 1000.0), message_count = message_count + 1 WHERE ticket_id = $1`,
      [ticketId, after, receivedAt, deps.now()],
    );
    const ticket = { ...row, status: after };
    if (cache !== undefined && row.thread_key !== null) {
      // What the thread's latest ticket now reads as (the UPDATE above, in memory); a ticket reached by
      // reference may not be its thread's latest, so that thread is queried again instead.
      if (row === latest && cache.latest.get(row.thread_key) === latest) {
        const last = Math.max(ms(row.last_message_at), receivedAt);
        cache.latest.set(row.thread_key, { ...row, status: after, last_message_at: new Date(last) });
      } else {
        cache.latest.delete(row.thread_key);
      }
    }
    await deps.outbox.ticketEvent(
      client,
      ticketEvent(deps, ticket, 'MESSAGE_APPENDED', {
        message_event_id: r.event_id,
        correlation_id: correlation,
      }),
    );
    if (after !== before) {
      await deps.outbox.ticketEvent(
        client,
        ticketEvent(deps, ticket, 'STATUS_CHANGED', { previous_status: before, correlation_id: correlation }),
      );
      await audit(client, deps, {
        action: 'ticket.status_changed',
        subjectType: 'ticket',
        subjectId: ticketId,
        before: { status: before },
        after: { status: after, reason: 'customer message' },
        correlationId: correlation,
        actor: CUSTOMER,
      });
    }
    effect = { kind: 'message-appended', ticketId, customerId: row.customer_id };
  } else {
    const seq = (await client.query<{ n: string }>("SELECT nextval('ticket_seq') AS n")).rows[0]?.n ?? '0';
    ticketId = `T-${seq.padStart(6, '0')}`;
    const priority = priorityOf(r.priority);
    const now = deps.now();
    // A form without a thread of its own, or a channel without one, threads on the ticket itself.
    const threadKey = r.thread_key ?? `ticket:${ticketId}`;
    await client.query(
      `INSERT INTO tickets (ticket_id, customer_id, status, priority, channel, thread_key, subject, created_at, updated_at, last_message_at, message_count)
       VALUES ($1, $2, 'NEW', $3, $4, $5, $6, to_timestamp($7 / 1000.0), to_timestamp($7 / 1000.0), to_timestamp($8 / 1000.0), 1)`,
      [ticketId, customerId, priority, channel, threadKey, r.subject, now, receivedAt],
    );
    const due = dueTimes(priority, now, deps.sla);
    await client.query(
      `INSERT INTO sla_timers (ticket_id, kind, due_at) VALUES ($1, 'FIRST_RESPONSE', to_timestamp($2 / 1000.0)), ($1, 'RESOLUTION', to_timestamp($3 / 1000.0))`,
      [ticketId, due.FIRST_RESPONSE, due.RESOLUTION],
    );
    const ticket = {
      ticket_id: ticketId,
      customer_id: customerId,
      status: 'NEW' as const,
      priority,
      channel,
      thread_key: threadKey,
    };
    if (cache !== undefined) {
      // The new ticket is its thread's latest unless an older-looking message made it: a ticket of the
      // thread with a later (or equal: order undefined) last message stays first in the query.
      const newest = latest === undefined || ms(latest.last_message_at) < receivedAt;
      if (newest) cache.latest.set(threadKey, { ...ticket, last_message_at: new Date(receivedAt) });
      else cache.latest.delete(threadKey);
    }
    await deps.outbox.ticketEvent(
      client,
      ticketEvent(deps, ticket, 'CREATED', { message_event_id: r.event_id, correlation_id: correlation }),
    );
    await audit(client, deps, {
      action: 'ticket.created',
      subjectType: 'ticket',
      subjectId: ticketId,
      before: null,
      after: { status: 'NEW', priority, channel, customer_id: customerId },
      correlationId: correlation,
      actor: CUSTOMER,
    });
    effect = { kind: 'ticket-created', ticketId, customerId };
  }
  const message = [
    r.event_id,
    ticketId,
    channel,
    r.provider,
    r.provider_message_id,
    contactKey,
    r.subject,
    r.text,
    receivedAt,
    r.correlation_id,
  ];
  if (deferred === undefined) await insertMessages(client, [message]);
  else deferred.messages.push(message);
  return effect;
}

const DELIVERY_RANK: Record<string, number> = { SENT: 1, DELIVERED: 2, READ: 3, FAILED: 4 };

async function handleStatus(client: Client, deps: EffectsDeps, r: TicketRequest): Promise<Effect> {
  const status = r.delivery_status ?? 'UNKNOWN';
  const rank = DELIVERY_RANK[status];
  if (r.provider_message_id === null || rank === undefined)
    throw invalid('a delivery status needs provider_message_id and a known delivery_status');
  // Statuses arrive out of order: keep the furthest one (sent < delivered < read; failed is final).
  await client.query(
    `INSERT INTO delivery_states (provider_message_id, status, rank, error, updated_at) VALUES ($1, $2, $3, $4, to_timestamp($5 / 1000.0))
     ON CONFLICT (provider_message_id) DO UPDATE SET status = EXCLUDED.status, rank = EXCLUDED.rank, error = EXCLUDED.error, updated_at = EXCLUDED.updated_at
     WHERE delivery_states.rank < EXCLUDED.rank`,
    [r.provider_message_id, status, rank, r.delivery_error, deps.now()],
  );
  return { kind: 'delivery-recorded', status };
}

async function handleIdentityChange(
  client: Client,
  deps: EffectsDeps,
  r: TicketRequest,
  contactKey: string,
): Promise<Effect> {
  if (r.new_contact_key === null) throw invalid('an identity change needs new_contact_key');
  const customerId = await resolveCustomer(client, deps, r, contactKey);
  const existing = (
    await client.query<{ customer_id: string }>(
      'SELECT customer_id FROM customer_identities WHERE contact_key = $1 FOR UPDATE',
      [r.new_contact_key],
    )
  ).rows[0];
  const correlation = r.correlation_id ?? '';
  if (!existing) {
    await client.query(
      "INSERT INTO customer_identities (contact_key, customer_id, reason, linked_at) VALUES ($1, $2, 'NUMBER_CHANGED', to_timestamp($3 / 1000.0))",
      [r.new_contact_key, customerId, deps.now()],
    );
    await publishIdentity(client, deps, {
      contact_key: r.new_contact_key,
      customer_id: customerId,
      reason: 'NUMBER_CHANGED',
      previous_customer_id: null,
      correlation_id: correlation,
    });
    await audit(client, deps, {
      action: 'identity.linked',
      subjectType: 'customer',
      subjectId: customerId,
      before: null,
      after: { reason: 'NUMBER_CHANGED' },
      correlationId: correlation,
      actor: CUSTOMER,
    });
    return { kind: 'identity-linked', customerId };
  }
  const other = (await survivor(client, existing.customer_id)) ?? existing.customer_id;
  if (other === customerId) return { kind: 'identity-linked', customerId };
  // The new number already belongs to another customer: the same person, so merge them.
  const result = await mergeCustomers(client, deps, [customerId, other], {
    correlationId: correlation,
    actor: CUSTOMER,
  });
  return { kind: 'identity-linked', customerId: result.survivor };
}

export interface MergeResult {
  readonly survivor: string;
  readonly merged: readonly string[];
  readonly movedTickets: readonly string[];
  readonly movedContactKeys: readonly string[];
}

/**
 * Merge customers into the oldest one: the others point at it (merged_into), their contact keys and
 * tickets move to it, and each move is published (identity updates, a MERGED ticket event per moved
 * ticket, an audit event).
 */
export async function mergeCustomers(
  client: Client,
  deps: Pick<EffectsDeps, 'outbox' | 'now'>,
  customerIds: readonly string[],
  context: { correlationId: string; actor: AuditInput['actor'] },
): Promise<MergeResult> {
  const ids = [...new Set(customerIds)];
  const rows = (
    await client.query<{ customer_id: string; created_at: Date; merged_into: string | null }>(
      'SELECT customer_id, created_at, merged_into FROM customers WHERE customer_id = ANY($1) ORDER BY created_at, customer_id FOR UPDATE',
      [ids],
    )
  ).rows;
  const missing = ids.filter((id) => !rows.some((r) => r.customer_id === id));
  if (missing.length > 0)
    throw new StreamdeskError('CUSTOMER_NOT_FOUND', `no customer ${missing.join(', ')}`);
  const active = rows.filter((r) => r.merged_into === null);
  const survivorRow = active[0] ?? rows[0];
  if (!survivorRow) throw new StreamdeskError('CUSTOMER_NOT_FOUND', 'no customers to merge');
  const survivorId = survivorRow.customer_id;
  const losers = active.slice(1).map((r) => r.customer_id);
  const movedKeys: string[] = [];
  const movedTickets: string[] = [];
  for (const loser of losers) {
    await client.query('UPDATE customers SET merged_into = $2 WHERE customer_id = $1', [loser, survivorId]);
    const keys = (
      await client.query<{ contact_key: string }>(
        "UPDATE customer_identities SET customer_id = $2, reason = 'MERGED', linked_at = to_timestamp($3 / 1000.0) WHERE customer_id = $1 RETURNING contact_key",
        [loser, survivorId, deps.now()],
      )
    ).rows.map((r) => r.contact_key);
    for (const key of keys) {
      await deps.outbox.identity(client, {
        contact_key: key,
        customer_id: survivorId,
        reason: 'MERGED',
        previous_customer_id: loser,
        linked_at: deps.now(),
        correlation_id: context.correlationId,
      });
    }
    movedKeys.push(...keys);
    const tickets = (
      await client.query<TicketRow>(
        'UPDATE tickets SET customer_id = $2, updated_at = to_timestamp($3 / 1000.0) WHERE customer_id = $1 RETURNING *',
        [loser, survivorId, deps.now()],
      )
    ).rows;
    for (const t of tickets) {
      const status = isTicketStatus(t.status) ? t.status : 'OPEN';
      await deps.outbox.ticketEvent(client, {
        ...ticketEvent(deps, { ...t, status }, 'MERGED', { correlation_id: context.correlationId }),
        actor: context.actor ?? SYSTEM,
      });
    }
    movedTickets.push(...tickets.map((t) => t.ticket_id));
    await audit(client, deps, {
      action: 'customer.merged',
      subjectType: 'customer',
      subjectId: survivorId,
      before: { customer_id: loser },
      after: { merged_into: survivorId, contact_keys_moved: keys.length, tickets_moved: tickets.length },
      correlationId: context.correlationId,
      ...(context.actor ? { actor: context.actor } : {}),
    });
  }
  return { survivor: survivorId, merged: losers, movedTickets, movedContactKeys: movedKeys };
}

/** Apply one ticket request exactly once. */
export async function applyTicketRequest(
  client: Client,
  deps: EffectsDeps,
  r: TicketRequest,
): Promise<Effect> {
  if (r.event_id === null || r.event_id === '') throw invalid('a ticket request needs event_id');
  const claimed = await client.query(
    "INSERT INTO processed_events (event_id, effect, processed_at) VALUES ($1, 'pending', to_timestamp($2 / 1000.0)) ON CONFLICT (event_id) DO NOTHING",
    [r.event_id, deps.now()],
  );
  if (claimed.rowCount === 0) return { kind: 'duplicate' };
  const effect = await applyClaimed(client, deps, r);
  await client.query('UPDATE processed_events SET effect = $2 WHERE event_id = $1', [
    r.event_id,
    summaryOf(effect),
  ]);
  return effect;
}

/**
 * Apply a run of ticket requests exactly once each, in the caller's transaction, with the same effects
 * as `applyTicketRequest` one after the other — but with the per-request bookkeeping done set-wise:
 * one statement claims every event id, one records every effect, one inserts every message. (Each
 * statement is a round trip to PostgreSQL; at 500 messages/s they were most of the service's CPU.)
 * An id twice in the run is applied once, like a redelivery.
 */
export async function applyTicketRequests(
  client: Client,
  deps: EffectsDeps,
  requests: readonly TicketRequest[],
): Promise<Effect[]> {
  const ids = requests.map((r) => {
    if (r.event_id === null || r.event_id === '') throw invalid('a ticket request needs event_id');
    return r.event_id;
  });
  const claimed = new Set(
    (
      await client.query<{ event_id: string }>(
        `INSERT INTO processed_events (event_id, effect, processed_at)
         SELECT id, 'pending', to_timestamp($2 / 1000.0) FROM unnest($1::text[]) AS id
         ON CONFLICT (event_id) DO NOTHING RETURNING event_id`,
        [ids, deps.now()],
      )
    ).rows.map((row) => row.event_id),
  );
  // Fetching up front costs three statements: worth it from two requests on, not for one.
  const deferred: Deferred =
    requests.length > 1 ? { messages: [], cache: await loadRunCache(client, requests) } : { messages: [] };
  const effects: Effect[] = [];
  const done: string[] = [];
  const summaries: string[] = [];
  for (const [i, r] of requests.entries()) {
    const id = ids[i] as string;
    if (!claimed.delete(id)) {
      effects.push({ kind: 'duplicate' });
      continue;
    }
    const effect = await applyClaimed(client, deps, r, deferred);
    effects.push(effect);
    done.push(id);
    summaries.push(summaryOf(effect));
  }
  await insertMessages(client, deferred.messages);
  if (done.length > 0) {
    await client.query(
      `UPDATE processed_events p SET effect = v.effect
       FROM unnest($1::text[], $2::text[]) AS v(event_id, effect) WHERE p.event_id = v.event_id`,
      [done, summaries],
    );
  }
  return effects;
}

function summaryOf(effect: Effect): string {
  return 'ticketId' in effect ? `${effect.kind}:${effect.ticketId}` : effect.kind;
}

/** The effect of a request whose event id this transaction has just claimed. */
async function applyClaimed(
  client: Client,
  deps: EffectsDeps,
  r: TicketRequest,
  deferred?: Deferred,
): Promise<Effect> {
  switch (r.kind) {
    case 'STATUS':
      return handleStatus(client, deps, r);
    case 'IDENTITY_CHANGE':
    case 'MESSAGE':
    case null: {
      if (r.contact_key === null || r.contact_key === '') throw invalid('a message needs contact_key');
      if (r.kind !== 'IDENTITY_CHANGE') return handleMessage(client, deps, r, r.contact_key, deferred);
      // It may merge customers, which moves identities and tickets: what the run cached is stale.
      clearCache(deferred?.cache);
      return handleIdentityChange(client, deps, r, r.contact_key);
    }
    default:
      throw invalid('unknown kind');
  }
}
