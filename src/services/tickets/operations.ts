/**
 * What agents and integrations do to tickets and customers (status changes, merges, reads), and the
 * SLA breach check. Each change is one transaction with its outbox events (ticket event + audit).
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { StreamdeskError } from '../../errors.ts';
import { audit, mergeCustomers, type MergeResult } from './effects.ts';
import { canTransition, isTicketStatus, TRANSITIONS, type TicketStatus } from './lifecycle.ts';
import { transactionWithOutbox, type OutboxWriter } from './outbox.ts';
import { breachAlertId, type SlaKind } from './sla.ts';

export interface OperationsDeps {
  readonly pool: pg.Pool;
  readonly outbox: OutboxWriter;
  readonly now: () => number;
}

export interface Actor {
  readonly type: 'SYSTEM' | 'AGENT' | 'API_CLIENT';
  readonly id: string | null;
}

const iso = (value: Date | null): string | null => (value === null ? null : value.toISOString());

export interface TicketView {
  readonly ticket_id: string;
  readonly customer_id: string;
  readonly status: string;
  readonly priority: string;
  readonly channel: string;
  readonly thread_key: string | null;
  readonly subject: string | null;
  readonly assignee_id: string | null;
  readonly message_count: number;
  readonly created_at: string | null;
  readonly updated_at: string | null;
  readonly last_message_at: string | null;
  readonly first_response_at: string | null;
  readonly solved_at: string | null;
  readonly sla: readonly {
    kind: string;
    due_at: string | null;
    met_at: string | null;
    breached_at: string | null;
  }[];
  readonly allowed_transitions: readonly string[];
}

interface TicketDbRow {
  ticket_id: string;
  customer_id: string;
  status: string;
  priority: string;
  channel: string;
  thread_key: string | null;
  subject: string | null;
  assignee_id: string | null;
  message_count: number;
  created_at: Date;
  updated_at: Date;
  last_message_at: Date;
  first_response_at: Date | null;
  solved_at: Date | null;
}

async function view(client: pg.PoolClient | pg.Pool, row: TicketDbRow): Promise<TicketView> {
  const sla = (
    await client.query<{ kind: string; due_at: Date; met_at: Date | null; breached_at: Date | null }>(
      'SELECT kind, due_at, met_at, breached_at FROM sla_timers WHERE ticket_id = $1 ORDER BY kind',
      [row.ticket_id],
    )
  ).rows.map((s) => ({
    kind: s.kind,
    due_at: iso(s.due_at),
    met_at: iso(s.met_at),
    breached_at: iso(s.breached_at),
  }));
  return {
    ticket_id: row.ticket_id,
    customer_id: row.customer_id,
    status: row.status,
    priority: row.priority,
    channel: row.channel,
    thread_key: row.thread_key,
    subject: row.subject,
    assignee_id: row.assignee_id,
    message_count: row.message_count,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
    last_message_at: iso(row.last_message_at),
    first_response_at: iso(row.first_response_at),
    solved_at: iso(row.solved_at),
    sla,
    allowed_transitions: isTicketStatus(row.status) ? TRANSITIONS[row.status] : [],
  };
}

export async function getTicket(deps: Pick<OperationsDeps, 'pool'>, ticketId: string): Promise<TicketView> {
  const row = (await deps.pool.query<TicketDbRow>('SELECT * FROM tickets WHERE ticket_id = $1', [ticketId]))
    .rows[0];
  if (!row) throw new StreamdeskError('TICKET_NOT_FOUND', 'no such ticket');
  return view(deps.pool, row);
}

export async function getCustomer(deps: Pick<OperationsDeps, 'pool'>, customerId: string) {
  const row = (
    await deps.pool.query<{
      customer_id: string;
      created_at: Date;
      display_name: string | null;
      merged_into: string | null;
    }>('SELECT * FROM customers WHERE customer_id = $1', [customerId])
  ).rows[0];
  if (!row) throw new StreamdeskError('CUSTOMER_NOT_FOUND', 'no such customer');
  const identities = (
    await deps.pool.query<{ contact_key: string; reason: string; linked_at: Date }>(
      'SELECT contact_key, reason, linked_at FROM customer_identities WHERE customer_id = $1 ORDER BY linked_at',
      [customerId],
    )
  ).rows.map((i) => ({ contact_key: i.contact_key, reason: i.reason, linked_at: iso(i.linked_at) }));
  const tickets = (
    await deps.pool.query<{ ticket_id: string; status: string }>(
      'SELECT ticket_id, status FROM tickets WHERE customer_id = $1 ORDER BY created_at',
      [customerId],
    )
  ).rows;
  return {
    customer_id: row.customer_id,
    display_name: row.display_name,
    created_at: iso(row.created_at),
    merged_into: row.merged_into,
    identities,
    tickets,
  };
}

/** Move a ticket through the lifecycle (SD_ERR_TICKET_TRANSITION when the table does not allow it). */
export async function changeStatus(
  deps: OperationsDeps,
  ticketId: string,
  to: TicketStatus,
  actor: Actor,
  correlationId: string,
): Promise<TicketView> {
  return transactionWithOutbox(deps.pool, deps.outbox, async (client) => {
    const row = (
      await client.query<TicketDbRow>('SELECT * FROM tickets WHERE ticket_id = $1 FOR UPDATE', [ticketId])
    ).rows[0];
    if (!row) throw new StreamdeskError('TICKET_NOT_FOUND', 'no such ticket');
    const from = row.status as TicketStatus;
    if (!canTransition(from, to)) {
      throw new StreamdeskError(
        'TICKET_TRANSITION',
        `a ${from} ticket cannot become ${to} (allowed: ${TRANSITIONS[from].join(', ') || 'none, it is final'})`,
      );
    }
    const now = deps.now();
    // Leaving NEW by someone other than the customer is the first response; SOLVED resolves.
    const firstResponse = from === 'NEW' && row.first_response_at === null;
    await client.query(
      `UPDATE tickets SET status = $2, updated_at = to_timestamp($3 / 1000.0),
         first_response_at = CASE WHEN $4 THEN to_timestamp($3 / 1000.0) ELSE first_response_at END,
         solved_at = CASE WHEN $2 = 'SOLVED' THEN to_timestamp($3 / 1000.0) ELSE solved_at END
       WHERE ticket_id = $1`,
      [ticketId, to, now, firstResponse],
    );
    const met: SlaKind[] = [
      ...(firstResponse ? (['FIRST_RESPONSE'] as const) : []),
      ...(to === 'SOLVED' ? (['RESOLUTION'] as const) : []),
    ];
    if (to === 'SOLVED' && !met.includes('FIRST_RESPONSE')) met.push('FIRST_RESPONSE');
    if (met.length > 0) {
      await client.query(
        'UPDATE sla_timers SET met_at = to_timestamp($3 / 1000.0) WHERE ticket_id = $1 AND kind = ANY($2) AND met_at IS NULL',
        [ticketId, met, now],
      );
    }
    await deps.outbox.ticketEvent(client, {
      event_id: randomUUID(),
      type: 'STATUS_CHANGED',
      ticket_id: ticketId,
      customer_id: row.customer_id,
      occurred_at: now,
      status: to,
      previous_status: from,
      assignee_id: row.assignee_id,
      merged_into_ticket_id: null,
      message_event_id: null,
      channel: row.channel,
      priority: row.priority,
      thread_key: row.thread_key,
      delivery_status: null,
      actor,
      correlation_id: correlationId,
    });
    await audit(client, deps, {
      action: 'ticket.status_changed',
      subjectType: 'ticket',
      subjectId: ticketId,
      before: { status: from },
      after: { status: to },
      correlationId,
      actor,
    });
    const updated = (
      await client.query<TicketDbRow>('SELECT * FROM tickets WHERE ticket_id = $1', [ticketId])
    ).rows[0] as TicketDbRow;
    return view(client, updated);
  });
}

export async function merge(
  deps: OperationsDeps,
  customerIds: readonly string[],
  actor: Actor,
  correlationId: string,
): Promise<MergeResult> {
  if (new Set(customerIds).size < 2)
    throw new StreamdeskError('TICKETS_INVALID_REQUEST', 'a merge needs at least two different customer ids');
  return transactionWithOutbox(deps.pool, deps.outbox, (client) =>
    mergeCustomers(client, deps, customerIds, { correlationId, actor }),
  );
}

/**
 * Raise one alert per SLA target that passed unmet on a ticket still open. The timer row is marked
 * breached in the same transaction as the outbox alert, whose id is derived from ticket and target:
 * a breach can never be alerted twice, even by two instances at once (SKIP LOCKED).
 */
export async function checkSlaBreaches(deps: OperationsDeps, limit = 200): Promise<number> {
  return transactionWithOutbox(deps.pool, deps.outbox, async (client) => {
    const now = deps.now();
    const due = (
      await client.query<{
        ticket_id: string;
        kind: SlaKind;
        due_at: Date;
        customer_id: string;
        priority: string;
      }>(
        `SELECT s.ticket_id, s.kind, s.due_at, t.customer_id, t.priority
           FROM sla_timers s JOIN tickets t USING (ticket_id)
          WHERE s.met_at IS NULL AND s.breached_at IS NULL AND s.due_at <= to_timestamp($1 / 1000.0)
            AND t.status NOT IN ('SOLVED', 'CLOSED')
          ORDER BY s.due_at
          LIMIT $2
          FOR UPDATE OF s SKIP LOCKED`,
        [now, limit],
      )
    ).rows;
    for (const d of due) {
      await client.query(
        'UPDATE sla_timers SET breached_at = to_timestamp($3 / 1000.0) WHERE ticket_id = $1 AND kind = $2',
        [d.ticket_id, d.kind, now],
      );
      await deps.outbox.alert(client, {
        alert_id: breachAlertId(d.ticket_id, d.kind),
        type: d.kind === 'FIRST_RESPONSE' ? 'SLA_FIRST_RESPONSE_BREACH' : 'SLA_RESOLUTION_BREACH',
        severity: d.priority === 'URGENT' || d.priority === 'HIGH' ? 'CRITICAL' : 'WARNING',
        ticket_id: d.ticket_id,
        customer_id: d.customer_id,
        priority: d.priority,
        raised_at: now,
        due_at: d.due_at.getTime(),
        summary: `${d.kind === 'FIRST_RESPONSE' ? 'First response' : 'Resolution'} target missed on ${d.priority} ticket ${d.ticket_id}`,
        correlation_id: `sla-check:${randomUUID()}`,
      });
    }
    return due.length;
  });
}
