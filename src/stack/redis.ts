/**
 * Redis: the machine's own server is used when it answers PING on the configured port; otherwise
 * one is started from the installed redis-server binary, loopback only, data under .stack/redis.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { Redis } from 'ioredis';
import type { StackConfig } from '../config/index.ts';
import { StreamdeskError } from '../errors.ts';
import { PidFile, startDetached } from './process.ts';
import { processService, type OwnProcess, type StackPaths, type StackService } from './service.ts';

async function withRedis<T>(port: number, fn: (r: Redis) => Promise<T>): Promise<T | undefined> {
  const redis = new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return await fn(redis);
  } catch {
    return undefined;
  } finally {
    redis.disconnect();
  }
}

export async function probeRedis(port: number): Promise<boolean> {
  return (await withRedis(port, (r) => r.ping())) === 'PONG';
}

async function redisVersion(port: number): Promise<string | undefined> {
  const info = await withRedis(port, (r) => r.info('server'));
  return info === undefined ? undefined : /redis_version:(\S+)/.exec(info)?.[1];
}

const REDIS_SERVER_PATHS = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'];

export function createRedisService(config: StackConfig, paths: StackPaths): StackService {
  const port = config.redis.port;
  const home = `${config.dir}/redis`;
  const logFile = `${paths.logs}/redis.log`;
  const address = `127.0.0.1:${port}`;

  const own: OwnProcess = {
    name: 'redis',
    pidFile: new PidFile(`${paths.run}/redis.pid`, `127.0.0.1:${port}`),
    logFile,
    ports: [port],
    readyTimeoutMs: 30_000,
    probe: () => probeRedis(port),
    start() {
      const binary = REDIS_SERVER_PATHS.find((p) => existsSync(p));
      if (!binary) {
        return Promise.reject(
          new StreamdeskError(
            'STACK_BINARY_MISSING',
            `redis: nothing answers on ${address} and redis-server is not installed ` +
              '(Debian: apt-get install redis-server; .ci/run does this).',
          ),
        );
      }
      mkdirSync(home, { recursive: true });
      // Dedup keys are a cache with TTLs: no persistence needed, so nothing is written to disk.
      return Promise.resolve(
        startDetached({
          command: binary,
          args: [
            '--bind',
            '127.0.0.1',
            '--port',
            String(port),
            '--save',
            '',
            '--appendonly',
            'no',
            '--dir',
            home,
          ],
          cwd: home,
          logFile,
        }),
      );
    },
  };

  return processService({
    own,
    address,
    stopGraceMs: 10_000,
    version: () => redisVersion(port),
  });
}
