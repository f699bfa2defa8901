/**
 * Delivery dedup in Redis. A message id is first claimed as PENDING (short TTL) while its record is
 * being published, then marked DONE (long TTL) once Kafka acknowledged it, or released if publishing
 * failed — so a provider's retry after a 503 is published, never mistaken for a duplicate. A delivery
 * that finds the id PENDING (a concurrent redelivery) waits for the outcome instead of answering early.
 *
 * Redis down: every claim answers `unchecked` (accept without dedup; downstream effects are idempotent).
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';

export type Claim =
  | { readonly status: 'claimed'; readonly token: string }
  | { readonly status: 'duplicate'; readonly reference: string }
  | { readonly status: 'pending' }
  | { readonly status: 'unchecked' };

export interface Dedup {
  /** Claim every key; waits up to `waitMs` for keys another request is publishing. */
  claim(keys: readonly string[]): Promise<Claim[]>;
  /** Publishing succeeded: remember the keys (with the reference the first delivery answered). */
  done(claims: readonly { key: string; token: string; reference: string }[]): Promise<void>;
  /** Publishing failed: forget the claims so a retry can publish. */
  release(claims: readonly { key: string; token: string }[]): Promise<void>;
}

export interface DedupOptions {
  readonly prefix?: string;
  readonly pendingTtlSeconds?: number;
  readonly doneTtlSeconds: number;
  readonly waitMs?: number;
  /** Called when Redis fails (for the metric and a warning); never with personal data. */
  readonly onUnavailable?: (error: unknown) => void;
}

// Compare-and-set / compare-and-delete: only the claimer's token may finish or release a claim.
const DONE_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3]) end return nil`;
const RELEASE_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

interface DedupCommands {
  sdDedupDone(key: string, token: string, value: string, ttl: number): Promise<unknown>;
  sdDedupRelease(key: string, token: string): Promise<unknown>;
}

export function createDedup(redis: Redis, options: DedupOptions): Dedup {
  // defineCommand sends EVALSHA (the script is sent once, not with every call).
  redis.defineCommand('sdDedupDone', { numberOfKeys: 1, lua: DONE_SCRIPT });
  redis.defineCommand('sdDedupRelease', { numberOfKeys: 1, lua: RELEASE_SCRIPT });
  const scripts = redis as unknown as DedupCommands & Redis;
  const prefix = options.prefix ?? 'sd:dedup:';
  const pendingTtl = options.pendingTtlSeconds ?? 60;
  const waitMs = options.waitMs ?? 4000;
  const unavailable = (error: unknown): void => options.onUnavailable?.(error);

  const claimOne = async (key: string): Promise<Claim> => {
    const token = `P:${randomUUID()}`;
    const deadline = Date.now() + waitMs;
    for (;;) {
      if ((await redis.set(prefix + key, token, 'EX', pendingTtl, 'NX')) === 'OK')
        return { status: 'claimed', token };
      const current = await redis.get(prefix + key);
      if (current?.startsWith('D:')) return { status: 'duplicate', reference: current.slice(2) };
      // null: released between our SET and GET — try again. P:…: someone is publishing it — wait.
      if (current !== null && Date.now() > deadline) return { status: 'pending' };
      if (current !== null) await sleep(25);
    }
  };

  return {
    async claim(keys) {
      try {
        return await Promise.all(keys.map(claimOne));
      } catch (error) {
        unavailable(error);
        return keys.map(() => ({ status: 'unchecked' as const }));
      }
    },
    async done(claims) {
      if (claims.length === 0) return;
      try {
        const pipeline = redis.pipeline();
        for (const c of claims)
          pipeline.eval(DONE_SCRIPT, 1, prefix + c.key, c.token, `D:${c.reference}`, options.doneTtlSeconds);
        await pipeline.exec();
      } catch (error) {
        // The records are in Kafka; only the memory of them is lost (a retry may publish a duplicate).
        unavailable(error);
      }
    },
    async release(claims) {
      if (claims.length === 0) return;
      try {
        await Promise.all(claims.map((c) => scripts.sdDedupRelease(prefix + c.key, c.token)));
      } catch (error) {
        // The pending claims expire on their own after pendingTtl.
        unavailable(error);
      }
    },
  };
}
