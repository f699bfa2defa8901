/**
 * bench e2e — intake HTTP receipt → ticket row: the product started by `streamdesk up` exactly as a
 * user runs it (isolated: its own topic prefix, ksql service id, database, ports and pid files; the
 * running Kafka, registry, Redis and PostgreSQL are reused), then signed WhatsApp webhooks from 500
 * customers offered at a fixed rate (open loop) for a fixed time.
 *
 * Figure: end-to-end p99 = ticket effect time (processed_at of the message's row) − the time the
 * request was due (carried in the message text). Baseline (same run): the intake's own HTTP latency
 * p99 for the same requests. Ratio = end-to-end p99 / intake p99. Target: p99 < 500 ms and every
 * accepted message turned into its ticket effect.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createKafka } from '../src/kafka/client.ts';
import { PROJECT_ROOT } from '../src/paths.ts';
import { createTestDatabase, freePort, testConfig } from '../test/support/env.ts';
import { INTAKE_ENV } from '../test/support/payloads.ts';
import { E2E_MARK } from './e2e-bodies.ts';
import { runLoad, type LoadResult } from './loadgen.ts';
import type { BenchContext, BenchResult } from './run.ts';

const BODIES = new URL('./e2e-bodies.ts', import.meta.url).href;

function streamdesk(env: Record<string, string>, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [join(PROJECT_ROOT, 'bin', 'streamdesk.js'), ...args],
      { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 300_000 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`streamdesk ${args.join(' ')} failed: ${stderr || error.message}`));
        else resolve(stdout);
      },
    );
  });
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/** Bench rows: [due time from the text, effect time], for messages due at or after `since`. */
async function effects(db: pg.Pool, since: number): Promise<{ due: number; done: number }[]> {
  const rows = await db.query<{ body: string; done: string }>(
    `SELECT m.body, (extract(epoch FROM p.processed_at) * 1000)::bigint AS done
       FROM ticket_messages m JOIN processed_events p USING (event_id)
      WHERE m.body LIKE $1`,
    [`${E2E_MARK} %`],
  );
  return rows.rows
    .map((r) => ({ due: Number(r.body.split(' ')[1]), done: Number(r.done) }))
    .filter((r) => r.due >= since);
}

export async function run(ctx: BenchContext): Promise<BenchResult> {
  const rate = ctx.number('rate', 500);
  const seconds = ctx.number('seconds', 60);
  const drainSeconds = ctx.number('drain-seconds', 120);
  const tag = Date.now().toString(36);
  const stackDir = mkdtempSync(join(tmpdir(), 'sd-bench-e2e-'));
  const prefix = `bench.e2e.${tag}.`;
  const serviceId = `bench_e2e_${tag}_`;
  const ports = { ksql: await freePort(), tickets: await freePort(), intake: await freePort() };
  const database = await createTestDatabase(`sd_bench_e2e_${tag}`);
  const databaseUrl = database.url;
  const env = {
    ...INTAKE_ENV,
    STREAMDESK_STACK_DIR: stackDir,
    STREAMDESK_TOPIC_PREFIX: prefix,
    STREAMDESK_KSQL_SERVICE_ID: serviceId,
    STREAMDESK_KSQL_PORT: String(ports.ksql),
    STREAMDESK_TICKETS_PORT: String(ports.tickets),
    STREAMDESK_INTAKE_PORT: String(ports.intake),
    STREAMDESK_DATABASE_URL: databaseUrl,
    STREAMDESK_LOG_LEVEL: 'warn',
  };
  const db = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  const load = (durationMs: number): Promise<LoadResult> =>
    runLoad({
      url: `http://127.0.0.1:${ports.intake}`,
      path: '/webhooks/whatsapp',
      mode: 'open',
      rate,
      concurrency: 64,
      durationMs,
      warmupMs: 0,
      bodies: BODIES,
    });
  const drain = async (since: number, expected: number): Promise<{ due: number; done: number }[]> => {
    const deadline = Date.now() + drainSeconds * 1000;
    for (;;) {
      const rows = await effects(db, since);
      if (rows.length >= expected || Date.now() > deadline) return rows;
      await new Promise((r) => setTimeout(r, 500));
    }
  };
  try {
    ctx.say('streamdesk up (isolated: own prefix, service id, database, ports)');
    const upStarted = Date.now();
    await streamdesk(env, 'up');
    ctx.say(`up in ${((Date.now() - upStarted) / 1000).toFixed(1)} s`);

    ctx.say(`warm-up: ${rate} msg/s for 5 s, drained`);
    const warmSince = Date.now();
    const warm = await load(5000);
    await drain(warmSince, warm.ok);

    ctx.say(
      `measured: ${rate} msg/s offered for ${seconds} s (open loop), then up to ${drainSeconds} s to drain`,
    );
    const since = Date.now();
    const measured = await load(seconds * 1000);
    const rows = await drain(since, measured.ok);
    const latencies = rows.map((r) => r.done - r.due).sort((a, b) => a - b);
    const e2e = {
      p50: percentile(latencies, 50),
      p90: percentile(latencies, 90),
      p99: percentile(latencies, 99),
      max: latencies.at(-1) ?? 0,
    };
    const missing = measured.ok - rows.length;
    const ratio = e2e.p99 / Math.max(measured.p99Ms, 0.001);
    ctx.say(
      `intake (baseline): ${measured.requests} requests, ${measured.ok} accepted, ${measured.errors} errors, ` +
        `p50 ${measured.p50Ms.toFixed(1)} ms, p99 ${measured.p99Ms.toFixed(1)} ms`,
    );
    ctx.say(
      `end to end: ${rows.length} ticket effects (${missing} missing), p50 ${e2e.p50} ms, p90 ${e2e.p90} ms, ` +
        `p99 ${e2e.p99} ms, max ${e2e.max} ms`,
    );
    ctx.say(
      `ratio end-to-end p99 / intake p99: ${ratio.toFixed(1)}; target: p99 < 500 ms (${e2e.p99 < 500 ? 'met' : 'NOT met'}), every accepted message a ticket effect (${missing === 0 ? 'met' : 'NOT met'})`,
    );
    return {
      name: 'e2e',
      unit: 'ms (p99)',
      value: e2e.p99,
      baseline: 'intake HTTP latency p99 of the same requests (end-to-end = intake receipt → ticket row)',
      baseline_value: Number(measured.p99Ms.toFixed(2)),
      ratio: Number(ratio.toFixed(2)),
      offered_rate: rate,
      offered_seconds: seconds,
      accepted: measured.ok,
      errors: measured.errors,
      effects: rows.length,
      missing,
      e2e_p50_ms: e2e.p50,
      e2e_p90_ms: e2e.p90,
      e2e_p99_ms: e2e.p99,
      e2e_max_ms: e2e.max,
      intake_p50_ms: Number(measured.p50Ms.toFixed(2)),
      intake_p99_ms: Number(measured.p99Ms.toFixed(2)),
    };
  } finally {
    // A full down: it stops only what this run's stack directory started (a stack already running
    // is used as external and left alone); --keep-stack orphaned a broker and registry whose
    // directory is deleted below when the bench had started them itself.
    await streamdesk(env, 'down').catch((e: unknown) => ctx.say(String(e)));
    await db.end();
    await database.drop().catch(() => undefined);
    const kafka = createKafka({ brokers: testConfig.kafka.brokers, clientId: 'bench-e2e-cleanup' });
    const admin = kafka.admin();
    await admin.connect();
    const mine = (await admin.listTopics()).filter(
      (t) => t.startsWith(prefix) || t.startsWith(`_confluent-ksql-${serviceId}`) || t.startsWith(serviceId),
    );
    if (mine.length > 0) await admin.deleteTopics({ topics: mine, timeout: 30_000 }).catch(() => undefined);
    await admin.disconnect();
    rmSync(stackDir, { recursive: true, force: true });
  }
}
