/**
 * HTTP load generator for benchmarks, run in a worker thread so it does not share the event loop
 * with the server under test. Two modes:
 * - closed loop: `concurrency` clients, each sending its next request when the previous answered;
 *   measures capacity (requests/s).
 * - open loop: requests are *scheduled* at a fixed rate regardless of answers; latency is measured
 *   from the scheduled time, so queueing shows up (no coordinated omission).
 * Each request's body comes from a generator module (`bodies`) so every request is unique.
 */
import { parentPort, workerData, Worker } from 'node:worker_threads';
import { Pool } from 'undici';

export interface LoadSpec {
  readonly url: string;
  readonly path: string;
  readonly mode: 'closed' | 'open';
  readonly concurrency: number;
  /** Open loop: requests per second. */
  readonly rate?: number;
  readonly durationMs: number;
  readonly warmupMs: number;
  /**
   * Module exporting `next(scheduledAtEpochMs): { body: string; headers: Record<string,string> }`;
   * the argument is when the request was due (wall clock), for bodies that carry their send time.
   */
  readonly bodies: string;
}

export interface LoadResult {
  readonly requests: number;
  readonly ok: number;
  readonly errors: number;
  readonly statuses: Record<string, number>;
  readonly durationMs: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function generate(spec: LoadSpec): Promise<LoadResult> {
  const { next } = (await import(spec.bodies)) as {
    next: (scheduledAtEpochMs: number) => { body: string; headers: Record<string, string> };
  };
  const pool = new Pool(spec.url, { connections: spec.concurrency, pipelining: 1, keepAliveTimeout: 30_000 });
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const state = { measuring: false, stop: false };
  const send = async (scheduledAt: number): Promise<void> => {
    const { body, headers } = next(performance.timeOrigin + scheduledAt);
    let status: string;
    try {
      const response = await pool.request({ method: 'POST', path: spec.path, body, headers });
      await response.body.dump();
      status = String(response.statusCode);
    } catch {
      status = 'error';
    }
    if (state.measuring) {
      latencies.push(performance.now() - scheduledAt);
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
  };
  const begin = performance.now();
  let measureStart = 0;
  setTimeout(() => {
    state.measuring = true;
    measureStart = performance.now();
  }, spec.warmupMs);
  setTimeout(() => {
    state.stop = true;
  }, spec.warmupMs + spec.durationMs);

  if (spec.mode === 'closed') {
    await Promise.all(
      Array.from({ length: spec.concurrency }, async () => {
        while (!state.stop) await send(performance.now());
      }),
    );
  } else {
    const interval = 1000 / (spec.rate ?? 1000);
    const inFlight: Promise<void>[] = [];
    let n = 0;
    while (!state.stop) {
      const due = begin + n * interval;
      const now = performance.now();
      if (now < due) {
        await new Promise((r) => setTimeout(r, Math.max(0, due - now - 1)));
        continue;
      }
      // Fire every request that is due (catching up after a timer was late), each stamped with its due time.
      while (begin + n * interval <= performance.now()) {
        const p = send(begin + n * interval);
        inFlight.push(p);
        n++;
      }
      if (inFlight.length > 10_000) await Promise.all(inFlight.splice(0, inFlight.length));
    }
    await Promise.all(inFlight);
  }
  const measuredMs = performance.now() - measureStart;
  await pool.close();
  const sorted = Float64Array.from(latencies).sort();
  const ok = Object.entries(statuses)
    .filter(([s]) => s.startsWith('2'))
    .reduce((n, [, c]) => n + c, 0);
  return {
    requests: latencies.length,
    ok,
    errors: latencies.length - ok,
    statuses,
    durationMs: measuredMs,
    perSecond: (ok / measuredMs) * 1000,
    p50Ms: percentile(sorted, 50),
    p90Ms: percentile(sorted, 90),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted.length ? (sorted[sorted.length - 1] ?? 0) : 0,
  };
}

/** Run a load in a worker thread; resolves with its measurements. */
export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: spec });
    worker.once('message', (result: LoadResult) => resolve(result));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`load generator exited with ${code}`));
    });
  });
}

if (parentPort && workerData) {
  const port = parentPort;
  void generate(workerData as LoadSpec).then((result) => {
    port.postMessage(result);
  });
}
