/**
 * Detached child processes with pid files: the stack's services outlive the `stack up` command that
 * started them, and `stack down` stops only what a pid file says `up` started.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

export interface DetachedSpec {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly logFile: string;
  readonly uid?: number;
  readonly gid?: number;
}

/** Start a process in its own session, stdout and stderr appended to `logFile`; returns its pid. */
export function startDetached(spec: DetachedSpec): number {
  const fd = openSync(spec.logFile, 'a');
  try {
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      detached: true,
      stdio: ['ignore', fd, fd],
      ...(spec.uid === undefined ? {} : { uid: spec.uid }),
      ...(spec.gid === undefined ? {} : { gid: spec.gid }),
    });
    if (child.pid === undefined) throw new Error(`could not start ${spec.command}`);
    child.unref();
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to someone else (e.g. postgres started under its own uid).
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie (exited, not yet reaped) still answers signal 0; /proc tells the truth.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** The process's command line, to confirm a pid from a pid file is still the process we started. */
export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

export class PidFile {
  readonly path: string;
  /** A string that the command line of the recorded process must contain (guards against pid reuse). */
  readonly marker: string;

  constructor(path: string, marker: string) {
    this.path = path;
    this.marker = marker;
  }

  read(): number | undefined {
    if (!existsSync(this.path)) return undefined;
    const pid = Number(readFileSync(this.path, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  }

  /** The recorded pid if that process is alive and is still ours. */
  live(): number | undefined {
    const pid = this.read();
    if (pid === undefined || !isAlive(pid)) return undefined;
    return commandLine(pid).includes(this.marker) ? pid : undefined;
  }

  write(pid: number): void {
    writeFileSync(this.path, `${pid}\n`);
  }

  remove(): void {
    rmSync(this.path, { force: true });
  }
}

/** SIGTERM, wait up to `graceMs` for exit, then SIGKILL. Returns true if it had to kill. */
export async function stopProcess(pid: number, graceMs: number): Promise<boolean> {
  const signal = (sig: NodeJS.Signals): void => {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return false;
    await sleep(100);
  }
  signal('SIGKILL');
  for (let i = 0; i < 50 && isAlive(pid); i++) await sleep(100);
  return true;
}

/** The last `lines` lines of a text file (reads at most the last 64 KiB). */
export async function tailFile(path: string, lines: number): Promise<string[]> {
  if (!existsSync(path)) return [];
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, 64 * 1024);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    const all = buffer.toString('utf8').split('\n');
    if (all.at(-1) === '') all.pop();
    return all.slice(-lines);
  } finally {
    await handle.close();
  }
}
