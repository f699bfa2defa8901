import { randomUUID } from 'node:crypto';
import { createLogger } from '../services/intake/main.ts';
import { migrate } from '../services/tickets/db.ts';
import { isTicketStatus } from '../services/tickets/lifecycle.ts';
import { createTicketsClients, runTickets } from '../services/tickets/main.ts';
import { changeStatus, getCustomer, getTicket, merge, type Actor } from '../services/tickets/operations.ts';
import { createOutboxWriter } from '../services/tickets/outbox.ts';
import { usageError, type CliContext, type Command } from './command.ts';

function actorOf(value: unknown): Actor {
  if (value === undefined) return { type: 'AGENT', id: null };
  const match = typeof value === 'string' ? /^(agent|api|system)(?::(.+))?$/.exec(value) : null;
  if (!match) throw usageError('--actor must be agent[:id], api[:id] or system');
  const type = match[1] === 'agent' ? 'AGENT' : match[1] === 'api' ? 'API_CLIENT' : 'SYSTEM';
  return { type, id: match[2] ?? null };
}

/** Run a one-off operation with the service's clients (the outbox relay of a running service publishes). */
async function withOperations<T>(
  ctx: CliContext,
  fn: (deps: Parameters<typeof changeStatus>[0]) => Promise<T>,
): Promise<T> {
  const { pool, encoders } = createTicketsClients(ctx.config, createLogger(ctx.config, 'tickets-cli'));
  try {
    await migrate(pool);
    return await fn({ pool, outbox: createOutboxWriter(encoders, Date.now), now: Date.now });
  } finally {
    await pool.end();
  }
}

const run: Command = {
  name: 'run',
  summary:
    'Run the tickets service: consume processing.tickets.in, apply effects, relay the outbox, check SLAs, serve the API.',
  usage: ['tickets run'],
  details: `
API (STREAMDESK_TICKETS_HOST:STREAMDESK_TICKETS_PORT, default 127.0.0.1:8082):
  GET  /tickets/:id                    a ticket with its SLA timers and allowed transitions
  POST /tickets/:id/status             {"status": "OPEN", "actor": {"type": "AGENT", "id": "a-7"}}
  GET  /customers/:id                  a customer with contact keys and tickets
  POST /customers/merge                {"customer_ids": ["C-000001", "C-000042"]} (keeps the oldest)
  GET  /healthz  /readyz  /metrics
Every message has exactly one effect (its id is stored with the effect in one transaction); events reach
processing.tickets.out, notifications.audit, notifications.alerts and processing.customer.identities
through a transactional outbox, exactly once. Failed records go to the .retry topic, then .dlt.`,
  async run(_args, ctx) {
    await runTickets(ctx.config, ctx.out);
    return 0;
  },
};

const migrateCommand: Command = {
  name: 'migrate',
  summary: "Create or upgrade the tickets service's PostgreSQL schema (the service also does it at start).",
  usage: ['tickets migrate'],
  async run(_args, ctx) {
    const { pool } = createTicketsClients(ctx.config, createLogger(ctx.config, 'tickets-cli'));
    try {
      const ran = await migrate(pool);
      ctx.out(ran === 0 ? 'schema up to date' : `applied ${ran} migration(s)`);
    } finally {
      await pool.end();
    }
    return 0;
  },
};

const show: Command = {
  name: 'show',
  summary: 'Print a ticket (JSON).',
  usage: ['tickets show <ticket id>'],
  async run(args, ctx) {
    const id = args.positionals[0];
    if (id === undefined) throw usageError('give a ticket id');
    ctx.out(JSON.stringify(await withOperations(ctx, (deps) => getTicket(deps, id)), null, 2));
    return 0;
  },
};

const customer: Command = {
  name: 'customer',
  summary: 'Print a customer with its contact keys and tickets (JSON).',
  usage: ['tickets customer <customer id>'],
  async run(args, ctx) {
    const id = args.positionals[0];
    if (id === undefined) throw usageError('give a customer id');
    ctx.out(JSON.stringify(await withOperations(ctx, (deps) => getCustomer(deps, id)), null, 2));
    return 0;
  },
};

const status: Command = {
  name: 'status',
  summary: "Change a ticket's status (NEW, OPEN, PENDING, SOLVED, CLOSED) following the lifecycle.",
  usage: ['tickets status <ticket id> <status> [--actor agent:<id>]'],
  options: {
    actor: { type: 'string', description: 'Who does it: agent[:id] (default), api[:id] or system.' },
  },
  async run(args, ctx) {
    const [id, to] = args.positionals;
    if (id === undefined || to === undefined) throw usageError('give a ticket id and a status');
    const wanted = to.toUpperCase();
    if (!isTicketStatus(wanted)) throw usageError('status must be NEW, OPEN, PENDING, SOLVED or CLOSED');
    const ticket = await withOperations(ctx, (deps) =>
      changeStatus(deps, id, wanted, actorOf(args.values['actor']), `cli:${randomUUID()}`),
    );
    ctx.out(`${ticket.ticket_id}: ${ticket.status}`);
    return 0;
  },
};

const mergeCommand: Command = {
  name: 'merge',
  summary: 'Merge customers into the oldest of them: contact keys and tickets move, events are published.',
  usage: ['tickets merge <customer id> <customer id>... [--actor agent:<id>]'],
  options: {
    actor: { type: 'string', description: 'Who does it: agent[:id] (default), api[:id] or system.' },
  },
  async run(args, ctx) {
    if (args.positionals.length < 2) throw usageError('give at least two customer ids');
    const result = await withOperations(ctx, (deps) =>
      merge(deps, args.positionals, actorOf(args.values['actor']), `cli:${randomUUID()}`),
    );
    ctx.out(
      `kept ${result.survivor}; merged ${result.merged.join(', ') || 'nothing'}; moved ${result.movedTickets.length} ticket(s) and ${result.movedContactKeys.length} contact key(s)`,
    );
    return 0;
  },
};

export const ticketsCommand: Command = {
  name: 'tickets',
  summary: 'The tickets service: customers, threading, lifecycle, SLA timers (PostgreSQL + outbox).',
  usage: ['tickets run|migrate|show|customer|status|merge'],
  subcommands: [run, migrateCommand, show, customer, status, mergeCommand],
};
