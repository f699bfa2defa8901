/** Smoke tests for the two services the product uses directly: Redis (dedup) and PostgreSQL. */
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { testConfig, uniqueName } from '../../support/env.ts';

describe('Redis', () => {
  const redis = new Redis(testConfig.redis.url, { maxRetriesPerRequest: 1 });
  afterAll(() => redis.quit());

  it('SET NX EX admits the first writer only and expires', async () => {
    const key = uniqueName('dedup');
    expect(await redis.set(key, 'first', 'EX', 1, 'NX')).toBe('OK');
    expect(await redis.set(key, 'second', 'EX', 1, 'NX')).toBeNull();
    expect(await redis.get(key)).toBe('first');
    const ttl = await redis.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(1000);
    await new Promise((r) => setTimeout(r, ttl + 100));
    expect(await redis.set(key, 'third', 'EX', 1, 'NX')).toBe('OK');
  });

  it('concurrent SET NX on one key: exactly one winner', async () => {
    const key = uniqueName('race');
    const clients = Array.from({ length: 10 }, () => new Redis(testConfig.redis.url));
    const results = await Promise.all(clients.map((c, i) => c.set(key, String(i), 'EX', 10, 'NX')));
    await Promise.all(clients.map((c) => c.quit()));
    expect(results.filter((r) => r === 'OK')).toHaveLength(1);
  });
});

describe('PostgreSQL', () => {
  const pool = new pg.Pool({ connectionString: testConfig.database.url, max: 2 });
  afterAll(() => pool.end());

  it('answers queries in the streamdesk database, with transactions', async () => {
    const table = uniqueName('smoke').replaceAll('.', '_');
    const client = await pool.connect();
    try {
      expect((await client.query<{ db: string }>('SELECT current_database() AS db')).rows[0]?.db).toBe(
        new URL(testConfig.database.url).pathname.slice(1),
      );
      await client.query(`CREATE TEMP TABLE ${table} (id text PRIMARY KEY)`);
      await client.query('BEGIN');
      await client.query(`INSERT INTO ${table} VALUES ($1)`, ['a']);
      await client.query('ROLLBACK');
      await client.query(`INSERT INTO ${table} VALUES ($1) ON CONFLICT DO NOTHING`, ['b']);
      await client.query(`INSERT INTO ${table} VALUES ($1) ON CONFLICT DO NOTHING`, ['b']);
      const rows = await client.query<{ id: string }>(`SELECT id FROM ${table} ORDER BY id`);
      expect(rows.rows.map((r) => r.id)).toEqual(['b']);
    } finally {
      client.release();
    }
  });
});
