/**
 * The local stack as a whole: which services, in which order, under one lock. PostgreSQL and Redis
 * come first (the registry stores its schemas in PostgreSQL), then Kafka and the registry start side
 * by side, which halves a cold `up` on two cores.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StackConfig } from '../config/index.ts';
import { StreamdeskError } from '../errors.ts';
import { createKafkaService } from './kafka.ts';
import { createPostgresService } from './postgres.ts';
import { isAlive } from './process.ts';
import { createRedisService } from './redis.ts';
import { createRegistryService } from './registry.ts';
import type { ServiceName, ServiceStatus, StackPaths, StackService, UpOutcome } from './service.ts';

export const SERVICE_NAMES: readonly ServiceName[] = ['postgres', 'redis', 'kafka', 'registry'];

/** Start phases: every service of a phase starts in parallel once the previous phase is up. */
const PHASES: readonly (readonly ServiceName[])[] = [
  ['postgres', 'redis'],
  ['kafka', 'registry'],
];

const DEPENDS_ON: Partial<Record<ServiceName, readonly ServiceName[]>> = { registry: ['postgres'] };

export interface Stack {
  readonly paths: StackPaths;
  readonly services: ReadonlyMap<ServiceName, StackService>;
  up(names?: readonly ServiceName[]): Promise<Map<ServiceName, UpOutcome>>;
  down(names?: readonly ServiceName[]): Promise<void>;
  status(): Promise<ServiceStatus[]>;
}

export function isServiceName(name: string): name is ServiceName {
  return (SERVICE_NAMES as readonly string[]).includes(name);
}

function withDependencies(names: readonly ServiceName[]): Set<ServiceName> {
  const all = new Set<ServiceName>();
  const add = (n: ServiceName): void => {
    if (all.has(n)) return;
    all.add(n);
    for (const d of DEPENDS_ON[n] ?? []) add(d);
  };
  names.forEach(add);
  return all;
}

/** An exclusive lock file holding the owner's pid; waits for a live owner, steals from a dead one. */
async function withLock<T>(file: string, say: (line: string) => void, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 300_000;
  let announced = false;
  for (;;) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(readFileSync(file, 'utf8').trim() || '0');
      if (!owner || !isAlive(owner)) {
        rmSync(file, { force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new StreamdeskError('STACK_BUSY', `another stack command (pid ${owner}) holds ${file}`);
      }
      if (!announced) say(`waiting for another stack command (pid ${owner}) to finish`);
      announced = true;
      await sleep(250);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(file, { force: true });
  }
}

export function createStack(config: StackConfig, root: string, say: (line: string) => void): Stack {
  const paths: StackPaths = { root, logs: `${config.dir}/logs`, run: `${config.dir}/run` };
  const services = new Map<ServiceName, StackService>([
    ['postgres', createPostgresService(config, paths)],
    ['redis', createRedisService(config, paths)],
    ['kafka', createKafkaService(config, paths)],
    ['registry', createRegistryService(config, paths)],
  ]);
  const service = (name: ServiceName): StackService => {
    const s = services.get(name);
    if (!s) throw new Error(`no service ${name}`);
    return s;
  };
  const prepare = (): void => {
    mkdirSync(paths.logs, { recursive: true });
    mkdirSync(paths.run, { recursive: true });
  };
  const lockFile = (): string => `${paths.run}/stack.lock`;

  return {
    paths,
    services,
    async up(names = SERVICE_NAMES) {
      prepare();
      const wanted = withDependencies(names);
      return withLock(lockFile(), say, async () => {
        const outcomes = new Map<ServiceName, UpOutcome>();
        for (const phase of PHASES) {
          const members = phase.filter((n) => wanted.has(n));
          const results = await Promise.allSettled(
            members.map(async (name) => {
              const outcome = await service(name).up((m) => say(`${name}: ${m}`));
              outcomes.set(name, outcome);
              say(`${name}: ${outcome}`);
            }),
          );
          const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
          if (failed) throw failed.reason;
        }
        return outcomes;
      });
    },
    async down(names = SERVICE_NAMES) {
      prepare();
      await withLock(lockFile(), say, async () => {
        // Reverse order: nothing is stopped while something that depends on it still runs.
        for (const phase of [...PHASES].reverse()) {
          const members = phase.filter((n) => names.includes(n));
          await Promise.all(
            members.map(async (name) =>
              say(`${name}: ${await service(name).down((m) => say(`${name}: ${m}`))}`),
            ),
          );
        }
      });
    },
    status: () => Promise.all(SERVICE_NAMES.map((n) => service(n).status())),
  };
}

/** A fixed-width table: service, version, address, state, pid. */
export function formatStatusTable(rows: readonly ServiceStatus[]): string {
  const header = ['SERVICE', 'VERSION', 'ADDRESS', 'STATE', 'PID'];
  const body = rows.map((r) => [
    r.name,
    r.version,
    r.address,
    r.state,
    r.pid === undefined ? '-' : String(r.pid),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]?.length ?? 0)));
  return [header, ...body]
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
