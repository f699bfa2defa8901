/**
 * What every local stack service has in common: a pid file for what `up` started, a readiness probe
 * that does real work (a metadata request, a registry call, PING, SELECT 1), and clear failures
 * (port taken by something else, a process that dies while starting, a timeout) naming the log.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { StreamdeskError } from '../errors.ts';
import { portOwner, isPortOpen } from './net.ts';
import { isAlive, PidFile, stopProcess, tailFile } from './process.ts';

export interface StackPaths {
  /** The project root (stack/ poms and configs live under it). */
  readonly root: string;
  /** `.stack/logs`: one log per service. */
  readonly logs: string;
  /** `.stack/run`: pid files and the lock. */
  readonly run: string;
}

/** The infrastructure (`stack up`) and streamdesk's own processes (`streamdesk up`, src/stack/apps.ts). */
export type ServiceName = 'postgres' | 'redis' | 'kafka' | 'registry' | 'ksql' | 'tickets' | 'intake';

/** running: started by this stack; external: answering, but not ours (left alone by `down`). */
export type ServiceState = 'running' | 'external' | 'stopped' | 'unhealthy';

export interface ServiceStatus {
  readonly name: ServiceName;
  readonly version: string;
  readonly address: string;
  readonly state: ServiceState;
  readonly pid?: number | undefined;
}

export type UpOutcome = 'started' | 'already running' | 'external';
export type DownOutcome = 'stopped' | 'not running' | 'external (left running)';

export type Progress = (message: string) => void;

export interface StackService {
  readonly name: ServiceName;
  /** Where its log goes; undefined for an external service (not ours to read). */
  readonly logFile: string;
  up(progress: Progress): Promise<UpOutcome>;
  down(progress: Progress): Promise<DownOutcome>;
  status(): Promise<ServiceStatus>;
}

export interface OwnProcess {
  readonly name: ServiceName;
  readonly pidFile: PidFile;
  readonly logFile: string;
  /** Every port the process binds; all must be free before it starts. */
  readonly ports: readonly number[];
  readonly readyTimeoutMs: number;
  probe(): Promise<boolean>;
  /** Prepare (resolve jars, format storage...) and spawn; returns the pid. */
  start(progress: Progress): Promise<number>;
}

export async function assertPortsFree(name: string, ports: readonly number[]): Promise<void> {
  for (const port of ports) {
    if (await isPortOpen(port)) {
      const owner = (await portOwner(port)) ?? 'another program';
      throw new StreamdeskError(
        'STACK_PORT_TAKEN',
        `${name}: port 127.0.0.1:${port} is already used by ${owner}, which this stack did not start. ` +
          `Stop it, or move ${name} to another port (see .env.example).`,
      );
    }
  }
}

/** Poll `probe` until it answers, failing fast with the log tail if the process exits. */
export async function waitUntilReady(
  name: string,
  pid: number,
  logFile: string,
  probe: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!isAlive(pid)) {
      const tail = await tailFile(logFile, 25);
      throw new StreamdeskError(
        'STACK_SERVICE_DIED',
        `${name} exited while starting (pid ${pid}). Last lines of ${logFile}:\n${tail.map((l) => `  | ${l}`).join('\n')}`,
      );
    }
    if (await probe()) return;
    if (Date.now() > deadline) {
      const tail = await tailFile(logFile, 15);
      throw new StreamdeskError(
        'STACK_READY_TIMEOUT',
        `${name} did not become ready within ${Math.round(timeoutMs / 1000)} s (pid ${pid} still running). ` +
          `Last lines of ${logFile}:\n${tail.map((l) => `  | ${l}`).join('\n')}`,
      );
    }
    await sleep(200);
  }
}

/** Start a process this stack owns, unless the pid file says it already runs. Idempotent. */
export async function upOwnProcess(p: OwnProcess, progress: Progress): Promise<UpOutcome> {
  const live = p.pidFile.live();
  if (live !== undefined) {
    // Ours and alive: either ready, or still starting from another `up` (wait for it).
    if (!(await p.probe())) {
      progress(`already starting (pid ${live}), waiting for readiness`);
      await waitUntilReady(p.name, live, p.logFile, () => p.probe(), p.readyTimeoutMs);
    }
    return 'already running';
  }
  p.pidFile.remove();
  await assertPortsFree(p.name, p.ports);
  const started = Date.now();
  const pid = await p.start(progress);
  p.pidFile.write(pid);
  progress(`started (pid ${pid}), waiting for readiness`);
  try {
    await waitUntilReady(p.name, pid, p.logFile, () => p.probe(), p.readyTimeoutMs);
  } catch (error) {
    // Don't leave a half-started service behind: `down` would find it, but the user asked for `up`.
    if (isAlive(pid)) await stopProcess(pid, 10_000);
    p.pidFile.remove();
    throw error;
  }
  progress(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return 'started';
}

export async function downOwnProcess(
  p: Pick<OwnProcess, 'pidFile'>,
  progress: Progress,
  graceMs: number,
): Promise<boolean> {
  const pid = p.pidFile.live();
  if (pid === undefined) {
    p.pidFile.remove();
    return false;
  }
  progress(`stopping (pid ${pid})`);
  const killed = await stopProcess(pid, graceMs);
  if (killed) progress(`did not stop within ${graceMs / 1000} s; killed`);
  p.pidFile.remove();
  return true;
}

export interface ProcessServiceSpec {
  readonly own: OwnProcess;
  readonly address: string;
  readonly stopGraceMs: number;
  /** The running server's version, or the pinned one; undefined when it cannot be told. */
  version(): Promise<string | undefined>;
  /** Work after the service answers, whether started or reused (databases, global rules). */
  afterUp?(progress: Progress): Promise<void>;
}

/**
 * A StackService around one process this stack may own, built from its spec. A server that already
 * answers the service's protocol on its port (the machine's PostgreSQL, another checkout's broker) is
 * used as it is and reported as external; `down` leaves it alone. A port held by anything that does
 * not answer the protocol is an error (SD_ERR_STACK_PORT_TAKEN).
 */
export function processService(spec: ProcessServiceSpec): StackService {
  const { own } = spec;
  return {
    name: own.name,
    logFile: own.logFile,
    async up(progress) {
      const outcome =
        own.pidFile.live() === undefined && (await own.probe())
          ? 'external'
          : await upOwnProcess(own, progress);
      await spec.afterUp?.(progress);
      return outcome;
    },
    async down(progress) {
      if (await downOwnProcess(own, progress, spec.stopGraceMs)) return 'stopped';
      return (await own.probe()) ? 'external (left running)' : 'not running';
    },
    async status() {
      const pid = own.pidFile.live();
      const ready = await own.probe();
      const state: ServiceState =
        pid === undefined ? (ready ? 'external' : 'stopped') : ready ? 'running' : 'unhealthy';
      return { name: own.name, version: (await spec.version()) ?? '-', address: spec.address, state, pid };
    },
  };
}
