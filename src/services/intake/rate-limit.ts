/**
 * Fixed-window rate limiting per client in Redis (INCR + EXPIRE NX). Fails open when Redis is down:
 * a form submission is worth more than a perfect limit.
 */
import type { Redis } from 'ioredis';

export type RateDecision =
  { readonly allowed: true } | { readonly allowed: false; readonly retryAfterSeconds: number };

export interface RateLimiter {
  hit(scope: string, client: string, limit: number, windowSeconds: number): Promise<RateDecision>;
}

export function createRateLimiter(
  redis: Redis,
  onUnavailable: (error: unknown) => void,
  prefix = 'sd:rl:',
): RateLimiter {
  return {
    async hit(scope, client, limit, windowSeconds) {
      const key = `${prefix}${scope}:${client}`;
      try {
        const results = await redis.multi().incr(key).expire(key, windowSeconds, 'NX').ttl(key).exec();
        const count = Number(results?.[0]?.[1] ?? 0);
        const ttl = Number(results?.[2]?.[1] ?? windowSeconds);
        return count <= limit ? { allowed: true } : { allowed: false, retryAfterSeconds: Math.max(1, ttl) };
      } catch (error) {
        onUnavailable(error);
        return { allowed: true };
      }
    },
  };
}
