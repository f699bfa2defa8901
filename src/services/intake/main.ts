/**
 * Wiring of the intake (the one place that creates clients): config → Kafka producer, Redis,
 * registry client, publisher, dedup → buildApp → listen. Graceful shutdown: stop accepting, finish
 * in-flight requests, flush the producer, close clients.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { Partitioners, type ProducerConfig } from 'kafkajs';
import { pino, type Logger } from 'pino';
import type { Config } from '../../config/index.ts';
import { prefixed, TOPICS } from '../../contracts/topics.ts';
import { createKafka } from '../../kafka/client.ts';
import { createRenewingProducer, warnOnRenewal } from '../../kafka/renewing-producer.ts';
import { createRegistryClient } from '../../registry/client.ts';
import { buildApp, type IntakeDeps } from './app.ts';
import { loadForms } from './channels/forms.ts';
import { createDedup } from './dedup.ts';
import { createIntakeMetrics } from './metrics.ts';
import { createRawPublisher } from './publisher.ts';
import { createRateLimiter } from './rate-limit.ts';

/**
 * The intake's producer settings. Idempotent, acks=all (per send), one request in flight (kafkajs's
 * idempotent sequencing is only safe so), retrying until the broker answers: a request gives up
 * after publishTimeoutMs, and its send settles the dedup claims when it finally completes. The
 * Java-compatible partitioner puts a key where Kafka Streams/ksqlDB would, which co-partitioned
 * joins depend on.
 */
export const INTAKE_PRODUCER: ProducerConfig = {
  idempotent: true,
  maxInFlightRequests: 1,
  allowAutoTopicCreation: false,
  createPartitioner: Partitioners.DefaultPartitioner,
  retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 100, maxRetryTime: 2000 },
};

export interface IntakeRuntime {
  readonly deps: IntakeDeps;
  /** Flush the producer (up to `drainMs` for queued records) and close every client. */
  close(drainMs?: number): Promise<void>;
}

export interface RuntimeOptions {
  readonly logger?: Logger;
  /** Topic to publish to (tests use their own). */
  readonly topic?: string;
  readonly defaultMetrics?: boolean;
}

export function createLogger(config: Config, service: string): Logger {
  return pino({ level: config.logLevel, base: { service } });
}

/** Create every client the intake needs and the deps for buildApp. Kafka connects in the background. */
export async function createIntakeRuntime(
  config: Config,
  options: RuntimeOptions = {},
): Promise<IntakeRuntime> {
  const logger = options.logger ?? createLogger(config, 'intake');
  const metrics = createIntakeMetrics({ defaultMetrics: options.defaultMetrics ?? true });
  const kafka = createKafka({
    brokers: config.kafka.brokers,
    clientId: 'streamdesk-intake',
    log: (level, message) => logger[level]({ component: 'kafkajs' }, message),
  });
  // A failed send retires the producer (see renewing-producer.ts: kafkajs would reuse its sequence numbers).
  const producer = createRenewingProducer(() => kafka.producer(INTAKE_PRODUCER), warnOnRenewal(logger));
  const state = { connected: false, closing: false };
  const connecting = (async () => {
    for (let attempt = 1; !state.closing; attempt++) {
      try {
        await producer.connect();
        state.connected = true;
        logger.info({ attempt }, 'producer connected');
        return;
      } catch {
        logger.warn({ attempt }, 'Kafka not reachable yet; retrying');
        await sleep(Math.min(5000, 250 * attempt));
      }
    }
  })();
  const admin = kafka.admin();
  const redis = new Redis(config.redis.url, {
    // Fail fast when Redis is down: dedup is best-effort and must never hold a request up.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: 500,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
  redis.on('error', () => undefined); // connection errors surface as failed commands (counted)
  // Give Redis a moment to connect before the first request (commands fail fast without a connection).
  await Promise.race([new Promise((resolve) => redis.once('ready', resolve)), sleep(2000)]);
  const registry = createRegistryClient(config.registry.url, 3000);
  const publisher = createRawPublisher({
    producer,
    registry,
    topic: options.topic ?? prefixed(config.topicPrefix, TOPICS.rawMessages),
    maxRecordBytes: config.intake.maxRecordBytes,
  });
  const warnRedis = (what: string) => () => {
    metrics[what === 'dedup' ? 'dedupUnavailable' : 'rateLimiterUnavailable'].inc();
    logger.warn({ component: what }, 'Redis unavailable');
  };
  const dedup = createDedup(redis, {
    doneTtlSeconds: config.intake.dedupTtlSeconds,
    onUnavailable: warnRedis('dedup'),
  });
  const rateLimiter = createRateLimiter(redis, warnRedis('rate-limit'));

  let kafkaReady: { at: number; ok: boolean } = { at: 0, ok: false };
  const deps: IntakeDeps = {
    config: config.intake,
    forms: loadForms(config.intake.formsFile),
    publisher,
    dedup,
    rateLimiter,
    async rememberToken(token, ttlSeconds) {
      try {
        return (await redis.set(`sd:token:${token}`, '1', 'EX', ttlSeconds, 'NX')) === 'OK';
      } catch {
        return 'unavailable';
      }
    },
    metrics,
    logger,
    readiness: [
      {
        name: 'kafka',
        async check() {
          if (!state.connected) return false;
          if (Date.now() - kafkaReady.at < 1000) return kafkaReady.ok;
          try {
            await admin.connect();
            kafkaReady = { at: Date.now(), ok: (await admin.describeCluster()).brokers.length > 0 };
          } catch {
            kafkaReady = { at: Date.now(), ok: false };
          }
          return kafkaReady.ok;
        },
      },
      {
        name: 'registry',
        check: async () =>
          await publisher.schemaId().then(
            () => true,
            () => false,
          ),
      },
      { name: 'redis', check: async () => (await redis.ping().catch(() => '')) === 'PONG' },
    ],
  };
  return {
    deps,
    async close(drainMs = 10_000) {
      state.closing = true;
      const deadline = Date.now() + drainMs;
      while (publisher.backlog() > 0 && Date.now() < deadline) await sleep(50);
      await connecting;
      await producer.disconnect().catch(() => undefined);
      await admin.disconnect().catch(() => undefined);
      redis.disconnect();
    },
  };
}

/** `streamdesk intake`: run until SIGINT/SIGTERM. */
export async function runIntake(config: Config, say: (line: string) => void): Promise<void> {
  const runtime = await createIntakeRuntime(config);
  const app = buildApp(runtime.deps);
  await app.listen({ host: config.intake.host, port: config.intake.port });
  const channels = [
    config.intake.whatsapp && 'whatsapp',
    config.intake.postmark && 'postmark',
    config.intake.mailgun && 'mailgun',
    config.intake.sendgrid && 'sendgrid',
    runtime.deps.forms.size > 0 && `forms (${[...runtime.deps.forms.keys()].join(', ')})`,
  ].filter(Boolean);
  say(
    `intake listening on http://${config.intake.host}:${config.intake.port} — channels: ${channels.join(', ') || 'none configured'}`,
  );
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      say(`${signal}: closing (finishing in-flight requests, flushing the producer)`);
      resolve();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  await app.close();
  await runtime.close();
  say('intake stopped');
}
