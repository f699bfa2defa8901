/**
 * The intake HTTP app, built apart from listen() (CONVENTIONS item 8): one plugin per channel, the
 * shared accept path, operations endpoints. Every 2xx means the broker acknowledged the records;
 * client mistakes get a precise 4xx with a stable code and no personal data echoed back.
 */
import { randomUUID, timingSafeEqual, createHmac } from 'node:crypto';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { Logger } from 'pino';
import type { IntakeConfig } from '../../config/index.ts';
import { isStreamdeskError, StreamdeskError, type ErrorKey } from '../../errors.ts';
import { sendError } from '../../http/errors.ts';
import { acceptCandidates, type AcceptDeps } from './accept.ts';
import { parseJson, registerBodyParsers, type Body } from './body.ts';
import { InvalidPayload, type Candidate } from './candidate.ts';
import { parseMailgun, parsePostmark, parseSendGrid } from './channels/email-parse.ts';
import { formFields, parseFormSubmission, type FormConfig } from './channels/forms.ts';
import { parseWhatsAppWebhook } from './channels/whatsapp-parse.ts';
import type { Dedup } from './dedup.ts';
import type { Channel, IntakeMetrics, Outcome } from './metrics.ts';
import type { RawPublisher } from './publisher.ts';
import type { RateLimiter } from './rate-limit.ts';

export interface ReadinessCheck {
  readonly name: string;
  check(): Promise<boolean>;
}

export interface IntakeDeps {
  readonly config: IntakeConfig;
  readonly forms: ReadonlyMap<string, FormConfig>;
  readonly publisher: RawPublisher;
  readonly dedup: Dedup;
  readonly rateLimiter: RateLimiter;
  /** Mailgun tokens already seen (replay protection); false when Redis is unavailable. */
  readonly rememberToken: (token: string, ttlSeconds: number) => Promise<boolean | 'unavailable'>;
  readonly metrics: IntakeMetrics;
  readonly logger: Logger;
  readonly readiness: readonly ReadinessCheck[];
  readonly now?: () => number;
}

interface RouteConfig {
  readonly channel?: Channel;
  /** Status a provider treats as "never retry", for deliveries that can never be accepted. */
  readonly finalStatus?: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    outcome?: Outcome;
  }
}

const FINAL_ERRORS: readonly string[] = [
  'SD_ERR_INTAKE_MALFORMED_BODY',
  'SD_ERR_INTAKE_INVALID_PAYLOAD',
  'SD_ERR_INTAKE_PAYLOAD_TOO_LARGE',
  'SD_ERR_INTAKE_UNSUPPORTED_MEDIA_TYPE',
];

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  // Compare equal-length buffers only; the length check leaks nothing useful about the secret.
  return x.length === y.length && timingSafeEqual(x, y);
}

function basicAuthMatches(request: FastifyRequest, expected: string): boolean {
  const header = request.headers.authorization;
  if (header?.startsWith('Basic ') !== true) return false;
  return safeEqual(Buffer.from(header.slice(6), 'base64').toString('utf8'), expected);
}

function unauthorized(channel: Channel, deps: IntakeDeps, what: string): StreamdeskError {
  deps.metrics.signatureFailures.inc({ channel });
  return new StreamdeskError('INTAKE_UNAUTHORIZED', what);
}

function rawBody(body: unknown): Buffer {
  const b = body as Body | undefined;
  if (b?.kind !== 'raw')
    throw new StreamdeskError('INTAKE_UNSUPPORTED_MEDIA_TYPE', 'this endpoint takes application/json');
  return b.raw;
}

function fieldsBody(body: unknown): Extract<Body, { kind: 'fields' }> {
  const b = body as Body | undefined;
  if (b?.kind !== 'fields') {
    throw new StreamdeskError(
      'INTAKE_UNSUPPORTED_MEDIA_TYPE',
      'this endpoint takes application/x-www-form-urlencoded or multipart/form-data',
    );
  }
  return b;
}

/** Parsers throw InvalidPayload with safe messages; give them the stable code. */
function parsed<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof InvalidPayload) throw new StreamdeskError('INTAKE_INVALID_PAYLOAD', error.message);
    throw error;
  }
}

export function buildApp(deps: IntakeDeps): FastifyInstance {
  const { config, metrics } = deps;
  const now = deps.now ?? Date.now;
  const acceptDeps: AcceptDeps = {
    dedup: deps.dedup,
    publisher: deps.publisher,
    metrics,
    logger: deps.logger,
    now,
    publishTimeoutMs: config.publishTimeoutMs,
  };
  const logger: FastifyBaseLogger = deps.logger;
  const app = Fastify({
    loggerInstance: logger,
    // Fastify's request log prints URLs; the SendGrid URL carries a secret. We log our own line.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.maxBodyBytes,
    trustProxy: config.trustProxy,
    return503OnClosing: true,
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
    },
  });
  registerBodyParsers(app, (routeLimit) => routeLimit ?? config.maxEmailBytes);

  // Graceful close: requests being handled finish, and their keep-alive connections close with
  // them (Fastify keeps idle sockets 72 s otherwise, holding close() up).
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_request, reply) => {
    if (closing) void reply.header('connection', 'close');
  });

  const started = new WeakMap<FastifyRequest, bigint>();
  app.addHook('onRequest', async (request) => {
    started.set(request, process.hrtime.bigint());
    metrics.inFlight.inc();
  });
  app.addHook('onResponse', async (request, reply) => {
    metrics.inFlight.dec();
    const channel = (request.routeOptions.config as RouteConfig | undefined)?.channel;
    if (!channel) return;
    const outcome = request.outcome ?? (reply.statusCode < 400 ? 'accepted' : 'error');
    metrics.requests.inc({ channel, outcome });
    const begin = started.get(request);
    if (begin !== undefined)
      metrics.requestSeconds.observe({ channel }, Number(process.hrtime.bigint() - begin) / 1e9);
    request.log.info(
      { channel, route: request.routeOptions.url, status: reply.statusCode, outcome, requestId: request.id },
      'intake request',
    );
  });

  const reject = (reply: FastifyReply, request: FastifyRequest, error: StreamdeskError): FastifyReply => {
    const route = request.routeOptions.config as RouteConfig | undefined;
    let status = error.httpStatus ?? 500;
    if (route?.finalStatus !== undefined && FINAL_ERRORS.includes(error.code)) status = route.finalStatus;
    request.outcome ??=
      status === 503
        ? 'unavailable'
        : status === 429
          ? 'rate_limited'
          : status === 401
            ? 'unauthorized'
            : status >= 500
              ? 'error'
              : 'rejected';
    return sendError(reply, error, status);
  };

  app.setErrorHandler((error: unknown, request, reply) => {
    if (isStreamdeskError(error)) return reject(reply, request, error);
    const fastifyError = error as { statusCode?: number; code?: string };
    const status = fastifyError.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const key: ErrorKey =
        status === 413
          ? 'INTAKE_PAYLOAD_TOO_LARGE'
          : status === 415
            ? 'INTAKE_UNSUPPORTED_MEDIA_TYPE'
            : 'INTAKE_MALFORMED_BODY';
      const message =
        status === 413
          ? 'the body is over the size limit'
          : status === 415
            ? 'unsupported Content-Type'
            : 'the request could not be read';
      return reject(reply, request, new StreamdeskError(key, message));
    }
    request.log.error(
      { err: { type: (error as Error).name, code: fastifyError.code }, requestId: request.id },
      'intake error',
    );
    request.outcome = 'error';
    return sendError(reply, error);
  });
  app.setNotFoundHandler((request, reply) =>
    reject(reply, request, new StreamdeskError('INTAKE_NOT_FOUND', 'no such endpoint')),
  );

  const accept = async (request: FastifyRequest, channel: Channel, candidates: readonly Candidate[]) => {
    const result = await acceptCandidates(acceptDeps, channel, candidates, request.id);
    request.outcome = result.accepted === 0 && result.duplicates > 0 ? 'duplicate' : 'accepted';
    return result;
  };
  const webhookAnswer = (result: { accepted: number; duplicates: number }) => ({
    status: 'accepted',
    accepted: result.accepted,
    duplicates: result.duplicates,
  });

  // --- WhatsApp Business Cloud API ---
  if (config.whatsapp) {
    const { appSecret, verifyToken } = config.whatsapp;
    const route = { channel: 'whatsapp' } satisfies RouteConfig;
    app.get('/webhooks/whatsapp', { config: route }, async (request, reply) => {
      const q = request.query as Record<string, string | undefined>;
      if (
        q['hub.mode'] === 'subscribe' &&
        verifyToken !== '' &&
        safeEqual(q['hub.verify_token'] ?? '', verifyToken)
      ) {
        request.outcome = 'verified';
        return reply.type('text/plain').send(q['hub.challenge'] ?? '');
      }
      throw new StreamdeskError(
        'INTAKE_FORBIDDEN',
        'verification refused: wrong hub.mode or hub.verify_token',
      );
    });
    app.post('/webhooks/whatsapp', { config: route }, async (request) => {
      const raw = rawBody(request.body);
      const header = request.headers['x-hub-signature-256'];
      const expected = `sha256=${createHmac('sha256', appSecret).update(raw).digest('hex')}`;
      if (typeof header !== 'string' || !safeEqual(header.toLowerCase(), expected)) {
        throw unauthorized('whatsapp', deps, 'X-Hub-Signature-256 is missing or does not match the body');
      }
      const candidates = parsed(() => parseWhatsAppWebhook(parseJson(raw)));
      return webhookAnswer(await accept(request, 'whatsapp', candidates));
    });
  }

  // --- Email: Postmark (JSON, basic auth; 403 stops its retries) ---
  if (config.postmark) {
    const { basicAuth } = config.postmark;
    app.post(
      '/webhooks/email/postmark',
      {
        config: { channel: 'email', finalStatus: 403 } satisfies RouteConfig,
        bodyLimit: config.maxEmailBytes,
        onRequest: async (request) => {
          if (!basicAuthMatches(request, basicAuth))
            throw unauthorized('email', deps, 'basic auth is missing or wrong');
        },
      },
      async (request) => {
        const candidate = parsed(() => parsePostmark(parseJson(rawBody(request.body))));
        return webhookAnswer(await accept(request, 'email', [candidate]));
      },
    );
  }

  // --- Email: Mailgun (urlencoded or multipart; HMAC of timestamp+token; 406 stops its retries) ---
  if (config.mailgun) {
    const { signingKey, maxAgeSeconds } = config.mailgun;
    app.post(
      '/webhooks/email/mailgun',
      {
        config: { channel: 'email', finalStatus: 406 } satisfies RouteConfig,
        bodyLimit: config.maxEmailBytes,
      },
      async (request) => {
        const body = fieldsBody(request.body);
        const { timestamp = '', token = '', signature = '' } = body.fields;
        const expected = createHmac('sha256', signingKey)
          .update(timestamp + token)
          .digest('hex');
        if (timestamp === '' || token === '' || !safeEqual(signature.toLowerCase(), expected)) {
          throw unauthorized('email', deps, 'the Mailgun signature is missing or does not match');
        }
        if (Math.abs(now() / 1000 - Number(timestamp)) > maxAgeSeconds) {
          deps.metrics.signatureFailures.inc({ channel: 'email' });
          throw new StreamdeskError(
            'INTAKE_STALE_SIGNATURE',
            `the signed timestamp is outside the ${maxAgeSeconds}-second window`,
          );
        }
        const fresh = await deps.rememberToken(`mailgun:${token}`, maxAgeSeconds * 2);
        if (fresh === 'unavailable') deps.metrics.dedupUnavailable.inc();
        if (fresh === false) {
          deps.metrics.signatureFailures.inc({ channel: 'email' });
          throw new StreamdeskError(
            'INTAKE_STALE_SIGNATURE',
            'this signature token was already used (replay)',
          );
        }
        const candidate = parsed(() => parseMailgun(body));
        return webhookAnswer(await accept(request, 'email', [candidate]));
      },
    );
  }

  // --- Email: SendGrid Inbound Parse (multipart; secret path and/or basic auth) ---
  if (config.sendgrid) {
    const { pathSecret, basicAuth } = config.sendgrid;
    const handler = async (request: FastifyRequest) => {
      const candidate = parsed(() => parseSendGrid(fieldsBody(request.body)));
      return webhookAnswer(await accept(request, 'email', [candidate]));
    };
    const route = { config: { channel: 'email' } satisfies RouteConfig, bodyLimit: config.maxEmailBytes };
    app.post(
      '/webhooks/email/sendgrid/:secret',
      {
        ...route,
        onRequest: async (request) => {
          const given = (request.params as { secret?: string }).secret ?? '';
          if (pathSecret === undefined || !safeEqual(given, pathSecret))
            throw unauthorized('email', deps, 'unknown SendGrid path secret');
          if (basicAuth !== undefined && !basicAuthMatches(request, basicAuth))
            throw unauthorized('email', deps, 'basic auth is missing or wrong');
        },
      },
      handler,
    );
    if (basicAuth !== undefined) {
      app.post(
        '/webhooks/email/sendgrid',
        {
          ...route,
          onRequest: async (request) => {
            if (!basicAuthMatches(request, basicAuth))
              throw unauthorized('email', deps, 'basic auth is missing or wrong');
          },
        },
        handler,
      );
    }
  }

  // --- Web forms ---
  const formOf = (request: FastifyRequest): FormConfig => {
    const form = deps.forms.get((request.params as { formId: string }).formId);
    if (!form) throw new StreamdeskError('INTAKE_NOT_FOUND', 'no such form');
    return form;
  };
  const corsFor = (request: FastifyRequest, reply: FastifyReply, form: FormConfig): void => {
    const origin = request.headers.origin;
    if (origin === undefined) return; // not a browser cross-origin request
    if (!form.allowedOrigins.includes(origin))
      throw new StreamdeskError('INTAKE_FORBIDDEN', 'this origin may not post to this form');
    void reply.header('access-control-allow-origin', origin).header('vary', 'Origin');
  };
  app.options(
    '/forms/:formId',
    { config: { channel: 'form' } satisfies RouteConfig },
    async (request, reply) => {
      corsFor(request, reply, formOf(request));
      request.outcome = 'verified';
      return reply
        .header('access-control-allow-methods', 'POST, OPTIONS')
        .header('access-control-allow-headers', 'content-type, idempotency-key')
        .header('access-control-max-age', '600')
        .code(204)
        .send();
    },
  );
  app.post(
    '/forms/:formId',
    { config: { channel: 'form' } satisfies RouteConfig },
    async (request, reply) => {
      const form = formOf(request);
      corsFor(request, reply, form);
      if (form.rateLimit) {
        const decision = await deps.rateLimiter.hit(
          `form:${form.id}`,
          request.ip,
          form.rateLimit.requests,
          form.rateLimit.windowSeconds,
        );
        if (!decision.allowed) {
          void reply.header('retry-after', String(decision.retryAfterSeconds));
          throw new StreamdeskError(
            'INTAKE_RATE_LIMITED',
            `too many submissions; retry in ${decision.retryAfterSeconds} s`,
          );
        }
      }
      const body = request.body as Body | undefined;
      const fields =
        body?.kind === 'raw' ? parsed(() => formFields(parseJson(body.raw))) : fieldsBody(body).fields;
      const header = request.headers['idempotency-key'];
      const outcome = parsed(() =>
        parseFormSubmission(form, fields, typeof header === 'string' ? header : undefined),
      );
      if (outcome.spam) {
        request.outcome = 'spam_dropped';
        return reply.code(202).send({ status: 'accepted', reference: randomUUID() });
      }
      const result = await accept(request, 'form', [outcome.candidate]);
      return reply.code(202).send({ status: 'accepted', reference: result.references[0] });
    },
  );

  // --- Operations ---
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
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
  return app;
}
