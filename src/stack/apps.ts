/**
 * streamdesk's own long-running processes on one machine — the local ksql engine, the tickets service
 * and the intake — as detached children with pid files and logs under the stack directory, like the
 * infrastructure services (`streamdesk up` starts them, `streamdesk down` stops them). Readiness is the
 * service's health endpoint answering 200. A server already answering there that this stack did not
 * start (e.g. `streamdesk intake` in a terminal) is reported as external and left alone.
 */
import type { Config } from '../config/index.ts';
import { PACKAGE_VERSION } from '../paths.ts';
import { PidFile, startDetached } from './process.ts';
import { processService, type StackPaths, type StackService } from './service.ts';

export const APP_NAMES = ['ksql', 'tickets', 'intake'] as const;
export type AppName = (typeof APP_NAMES)[number];

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}

interface AppSpec {
  readonly args: readonly string[];
  readonly port: number;
  readonly host: string;
  readonly health: string;
  readonly readyTimeoutMs: number;
}

function specOf(name: AppName, config: Config): AppSpec {
  switch (name) {
    case 'ksql':
      return {
        args: ['ksql-server', '--port', String(config.ksql.port)],
        host: config.ksql.host,
        port: config.ksql.port,
        health: '/healthcheck',
        readyTimeoutMs: 120_000,
      };
    case 'tickets':
      return {
        args: ['tickets', 'run'],
        host: config.tickets.host,
        port: config.tickets.port,
        health: '/readyz',
        readyTimeoutMs: 120_000,
      };
    case 'intake':
      return {
        args: ['intake', '--port', String(config.intake.port)],
        host: config.intake.host,
        port: config.intake.port,
        health: '/readyz',
        readyTimeoutMs: 60_000,
      };
  }
}

export function createAppService(
  name: AppName,
  config: Config,
  paths: StackPaths,
  env: NodeJS.ProcessEnv = process.env,
): StackService {
  const spec = specOf(name, config);
  const base = `http://${spec.host}:${spec.port}`;
  const logFile = `${paths.logs}/${name}.log`;
  const script = `${paths.root}/bin/streamdesk.js`;
  return processService({
    own: {
      name,
      // The command line names the script and the command: a reused pid is not mistaken for ours.
      pidFile: new PidFile(`${paths.run}/${name}.pid`, `${script} ${spec.args.join(' ')}`),
      logFile,
      ports: [spec.port],
      readyTimeoutMs: spec.readyTimeoutMs,
      probe: () => answers(`${base}${spec.health}`),
      start() {
        return Promise.resolve(
          startDetached({
            command: process.execPath,
            args: [script, ...spec.args],
            cwd: paths.root,
            env,
            logFile,
          }),
        );
      },
    },
    address: base,
    // Graceful stops flush producers and finish in-flight work.
    stopGraceMs: 30_000,
    version: () => Promise.resolve(PACKAGE_VERSION),
  });
}
