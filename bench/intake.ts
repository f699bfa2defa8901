/**
 * bench intake — three measurements on the same broker, in one run:
 *  (a) capacity: accepted WhatsApp webhooks/s through the real intake (signed, verified, deduplicated
 *      in Redis, Avro, idempotent producer, acks=all), closed loop at a fixed concurrency;
 *  (b) baseline: a bare Fastify route in the same process setup that produces the request body with
 *      the same producer settings and nothing else — the floor any HTTP-to-Kafka intake pays;
 *  (c) latency of the intake at a fixed offered rate (open loop), p50/p99 and errors;
 * plus, as context, the raw kafkajs producer rate for the same records without HTTP.
 * Figure: (a); baseline: (b); ratio a/b. Target: ≥ 0.70, and (c) p99 < 50 ms with zero errors.
 */
import Fastify from 'fastify';
import type { Producer } from 'kafkajs';
import { loadCatalog } from '../src/contracts/catalog.ts';
import { loadLocalSchemas, registerSchemas } from '../src/contracts/schemas.ts';
import { createKafka } from '../src/kafka/client.ts';
import { PROJECT_ROOT } from '../src/paths.ts';
import { createRegistryClient } from '../src/registry/client.ts';
import { buildApp } from '../src/services/intake/app.ts';
import { createIntakeRuntime, INTAKE_PRODUCER } from '../src/services/intake/main.ts';
import { createRawPublisher } from '../src/services/intake/publisher.ts';
import { createStack } from '../src/stack/stack.ts';
import { intakeConfig } from '../test/support/intake.ts';
import { runLoad, type LoadResult } from './loadgen.ts';
import type { BenchContext, BenchResult } from './run.ts';
import { createTopicsReady } from '../src/kafka/admin.ts';

const BODIES = new URL('./whatsapp-bodies.ts', import.meta.url).href;

export async function run(ctx: BenchContext): Promise<BenchResult> {
  const concurrency = ctx.number('concurrency', 32);
  const seconds = ctx.number('seconds', 10);
  const rate = ctx.number('rate', 2000);
  const latencySeconds = ctx.number('latency-seconds', 30);
  const config = intakeConfig({ STREAMDESK_LOG_LEVEL: 'warn' });

  ctx.say('stack up');
  await createStack(config.stack, PROJECT_ROOT, () => undefined).up();
  await registerSchemas(
    loadCatalog(PROJECT_ROOT),
    loadLocalSchemas(PROJECT_ROOT),
    createRegistryClient(config.registry.url),
    () => undefined,
  );
  const kafka = createKafka({ brokers: config.kafka.brokers, clientId: 'bench-intake' });
  const admin = kafka.admin();
  await admin.connect();
  const topic = `bench.intake.${Date.now().toString(36)}`;
  await createTopicsReady(admin, [{ topic, numPartitions: 6, replicationFactor: 1 }]);

  try {
    // (b) baseline first: a bare route, same producer settings as the intake's.
    const producer: Producer = kafka.producer(INTAKE_PRODUCER);
    await producer.connect();
    const bare = Fastify();
    bare.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_r, body, done) =>
      done(null, body),
    );
    bare.post('/webhooks/whatsapp', async (request) => {
      await producer.send({ topic, acks: -1, messages: [{ value: request.body as Buffer }] });
      return { status: 'accepted' };
    });
    const bareUrl = await bare.listen({ host: '127.0.0.1', port: 0 });
    ctx.say(
      `(b) baseline: bare Fastify route → producer.send, closed loop, concurrency ${concurrency}, ${seconds} s`,
    );
    const baseline = await runLoad({
      url: bareUrl,
      path: '/webhooks/whatsapp',
      mode: 'closed',
      concurrency,
      durationMs: seconds * 1000,
      warmupMs: 2000,
      bodies: BODIES,
    });
    await bare.close();

    // (b') the same bare route, but group-committing like the intake's publisher: isolates what the
    // intake's own work (signature, JSON, dedup, Avro) costs, with batching equal on both sides.
    const batching = createRawPublisher({
      producer,
      registry: createRegistryClient(config.registry.url),
      topic,
      maxRecordBytes: config.intake.maxRecordBytes,
    });
    const bareBatched = Fastify();
    bareBatched.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_r, body, done) =>
      done(null, body),
    );
    bareBatched.post('/webhooks/whatsapp', async (request) => {
      await batching.send([{ value: request.body as Buffer }]);
      return { status: 'accepted' };
    });
    const batchedUrl = await bareBatched.listen({ host: '127.0.0.1', port: 0 });
    ctx.say(
      `(b') baseline with the intake's group commit, closed loop, concurrency ${concurrency}, ${seconds} s`,
    );
    const baselineBatched = await runLoad({
      url: batchedUrl,
      path: '/webhooks/whatsapp',
      mode: 'closed',
      concurrency,
      durationMs: seconds * 1000,
      warmupMs: 2000,
      bodies: BODIES,
    });
    await bareBatched.close();

    // Context: the same producer without HTTP, same concurrency, records of the same size.
    ctx.say(`context: raw kafkajs producer.send, concurrency ${concurrency}, ${Math.min(seconds, 5)} s`);
    const record = Buffer.alloc(520, 'x');
    let sent = 0;
    const rawEnd = Date.now() + Math.min(seconds, 5) * 1000;
    const rawStart = Date.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (Date.now() < rawEnd) {
          await producer.send({ topic, acks: -1, messages: [{ value: record }] });
          sent++;
        }
      }),
    );
    const rawRate = (sent / (Date.now() - rawStart)) * 1000;
    await producer.disconnect();

    // (a) and (c): the real intake, wired as in production, listening on loopback.
    const runtime = await createIntakeRuntime(config, { topic, defaultMetrics: false });
    const app = buildApp(runtime.deps);
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    ctx.say(
      `(a) intake capacity: signed WhatsApp webhooks, closed loop, concurrency ${concurrency}, ${seconds} s`,
    );
    const capacity = await runLoad({
      url,
      path: '/webhooks/whatsapp',
      mode: 'closed',
      concurrency,
      durationMs: seconds * 1000,
      warmupMs: 2000,
      bodies: BODIES,
    });
    ctx.say(`(c) intake latency: open loop at ${rate} msg/s for ${latencySeconds} s`);
    const latency = await runLoad({
      url,
      path: '/webhooks/whatsapp',
      mode: 'open',
      rate,
      concurrency: 256,
      durationMs: latencySeconds * 1000,
      warmupMs: 2000,
      bodies: BODIES,
    });
    await app.close();
    await runtime.close();

    const line = (label: string, r: LoadResult) =>
      `${label}: ${r.perSecond.toFixed(0)} req/s accepted, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms, errors ${r.errors} (${JSON.stringify(r.statuses)})`;
    ctx.say(line('(a) intake   ', capacity));
    ctx.say(line('(b) baseline ', baseline));
    ctx.say(line("(b') baseline, group commit", baselineBatched));
    ctx.say(`    raw kafkajs producer: ${rawRate.toFixed(0)} msg/s`);
    ctx.say(line(`(c) intake @${rate}/s`, latency));
    const ratio = capacity.perSecond / baseline.perSecond;
    const ratioBatched = capacity.perSecond / baselineBatched.perSecond;
    ctx.say(
      `ratio (a)/(b): ${ratio.toFixed(2)} (target ≥ 0.70); (a)/(b'): ${ratioBatched.toFixed(2)}; (c) p99 ${latency.p99Ms.toFixed(1)} ms (target < 50) with ${latency.errors} errors (target 0)`,
    );
    return {
      name: 'intake',
      unit: 'req/s',
      value: Math.round(capacity.perSecond),
      baseline: 'bare Fastify route producing the body with the same producer settings',
      baseline_value: Math.round(baseline.perSecond),
      ratio: Number(ratio.toFixed(3)),
      concurrency,
      baseline_group_commit_value: Math.round(baselineBatched.perSecond),
      ratio_group_commit: Number(ratioBatched.toFixed(3)),
      raw_producer_msgs_per_s: Math.round(rawRate),
      capacity_p50_ms: Number(capacity.p50Ms.toFixed(2)),
      capacity_p99_ms: Number(capacity.p99Ms.toFixed(2)),
      capacity_errors: capacity.errors,
      offered_rate: rate,
      offered_seconds: latencySeconds,
      achieved_rate: Math.round(latency.perSecond),
      p50_ms: Number(latency.p50Ms.toFixed(2)),
      p90_ms: Number(latency.p90Ms.toFixed(2)),
      p99_ms: Number(latency.p99Ms.toFixed(2)),
      max_ms: Number(latency.maxMs.toFixed(2)),
      errors: latency.errors,
      requests: latency.requests,
    };
  } finally {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  }
}
