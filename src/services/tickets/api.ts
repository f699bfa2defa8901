/**
 * The tickets HTTP API, built apart from listen(): read tickets and customers, change a ticket's
 * status, merge customers; health, readiness and metrics.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { isStreamdeskError, StreamdeskError } from '../../errors.ts';
import { sendError } from '../../http/errors.ts';
import { isTicketStatus } from './lifecycle.ts';
import type { TicketsMetrics } from './metrics.ts';
import {
  changeStatus,
  getCustomer,
  getTicket,
  merge,
  type Actor,
  type OperationsDeps,
} from './operations.ts';

export interface TicketsApiDeps extends OperationsDeps {
  readonly logger: Logger;
  readonly metrics: TicketsMetrics;
  readonly readiness: readonly { name: string; check(): Promise<boolean> }[];
}

function invalid(message: string): StreamdeskError {
  return new StreamdeskError('TICKETS_INVALID_REQUEST', message);
}

function actorOf(body: Record<string, unknown>): Actor {
  const actor = body['actor'];
  if (actor === undefined) return { type: 'API_CLIENT', id: null };
  if (actor === null || typeof actor !== 'object')
    throw invalid('actor must be {"type": "AGENT"|"API_CLIENT"|"SYSTEM", "id": "..."}');
  const { type, id } = actor as { type?: unknown; id?: unknown };
  if (type !== 'AGENT' && type !== 'API_CLIENT' && type !== 'SYSTEM')
    throw invalid('actor.type must be AGENT, API_CLIENT or SYSTEM');
  if (id !== undefined && id !== null && (typeof id !== 'string' || id.length > 128))
    throw invalid('actor.id must be a string');
  return { type, id: typeof id === 'string' ? id : null };
}

function bodyObject(body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw invalid('the body must be a JSON object');
  return body as Record<string, unknown>;
}

export function buildTicketsApp(deps: TicketsApiDeps): FastifyInstance {
  const logger: FastifyBaseLogger = deps.logger;
  const app = Fastify({
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 64 * 1024,
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
    },
  });
  app.setErrorHandler((error: unknown, request, reply) => {
    if (isStreamdeskError(error)) return sendError(reply, error);
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    if (status >= 400 && status < 500)
      return sendError(
        reply,
        invalid('the request could not be read (JSON body expected)'),
        status === 415 ? 415 : 400,
      );
    // A database outage is the usual cause here: answer 503 so clients retry.
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && /^(08|57P|53)|ECONNREFUSED/.test(code)) {
      return sendError(reply, new StreamdeskError('TICKETS_UNAVAILABLE', 'the database is unavailable'));
    }
    request.log.error({ err: { type: (error as Error).name }, requestId: request.id }, 'tickets API error');
    return sendError(reply, error);
  });
  app.setNotFoundHandler((_request, reply) =>
    sendError(reply, new StreamdeskError('TICKET_NOT_FOUND', 'no such endpoint')),
  );

  app.get('/tickets/:id', async (request) => getTicket(deps, (request.params as { id: string }).id));
  app.post('/tickets/:id/status', async (request) => {
    const body = bodyObject(request.body);
    const status = body['status'];
    if (!isTicketStatus(status)) throw invalid('status must be one of NEW, OPEN, PENDING, SOLVED, CLOSED');
    return changeStatus(deps, (request.params as { id: string }).id, status, actorOf(body), request.id);
  });
  app.get('/customers/:id', async (request) => getCustomer(deps, (request.params as { id: string }).id));
  app.post('/customers/merge', async (request) => {
    const body = bodyObject(request.body);
    const ids = body['customer_ids'];
    if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string'))
      throw invalid('customer_ids must be a list of customer ids');
    const result = await merge(deps, ids as string[], actorOf(body), request.id);
    return {
      survivor: result.survivor,
      merged: result.merged,
      moved_tickets: result.movedTickets,
      moved_contact_keys: result.movedContactKeys.length,
    };
  });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const results = await Promise.all(
      deps.readiness.map(async (r) => [r.name, await r.check().catch(() => false)] as const),
    );
    const ready = results.every(([, ok]) => ok);
    return reply.code(ready ? 200 : 503).send({
      status: ready ? 'ready' : 'not ready',
      checks: Object.fromEntries(results.map(([name, ok]) => [name, ok ? 'ok' : 'failing'])),
    });
  });
  app.get('/metrics', async (_request, reply) =>
    reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics()),
  );
  return app;
}
