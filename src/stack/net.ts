import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** True when something accepts TCP connections on 127.0.0.1:`port`. */
export function isPortOpen(port: number, host = '127.0.0.1', timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    const done = (open: boolean): void => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Which program listens on a TCP port, for error messages ("java (pid 1234)"); undefined if unknown. */
export async function portOwner(port: number): Promise<string | undefined> {
  try {
    const { stdout } = await execFileAsync('ss', ['-H', '-ltnp', `sport = :${port}`]);
    const match = /users:\(\("([^"]+)",pid=(\d+)/.exec(stdout);
    if (match) return `${match[1]} (pid ${match[2]})`;
    return stdout.trim() === '' ? undefined : 'another program';
  } catch {
    return undefined;
  }
}

/** Every local TCP listener as `address:port` strings (used to check nothing binds beyond loopback). */
export async function listeningSockets(): Promise<{ address: string; pid: number | undefined }[]> {
  const { stdout } = await execFileAsync('ss', ['-H', '-ltnp']);
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line) => {
      const cols = line.trim().split(/\s+/);
      const pid = /pid=(\d+)/.exec(line)?.[1];
      return { address: cols[3] ?? '', pid: pid === undefined ? undefined : Number(pid) };
    });
}
