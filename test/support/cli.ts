import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../src/paths.ts';

export interface Ran {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `streamdesk <args>` in a child process with `env` over this process's environment (logs
 * silent unless `env` says otherwise). Asynchronous on purpose: a server the command talks to may run in
 * this process, and a synchronous spawn would deadlock it.
 */
export function runStreamdesk(
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
  timeoutMs = 120_000,
): Promise<Ran> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [join(PROJECT_ROOT, 'bin', 'streamdesk.js'), ...args],
      {
        encoding: 'utf8',
        env: { ...process.env, STREAMDESK_LOG_LEVEL: 'silent', ...env },
        timeout: timeoutMs,
      },
      (error, stdout, stderr) => {
        if (error !== null && typeof error.code !== 'number')
          reject(new Error(error.message, { cause: error }));
        else resolve({ status: error === null ? 0 : Number(error.code), stdout, stderr });
      },
    );
  });
}
