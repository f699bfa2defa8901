import { existsSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { tailFile } from '../stack/process.ts';
import type { ServiceName } from '../stack/service.ts';
import { createStack, formatStatusTable, isServiceName, SERVICE_NAMES, type Stack } from '../stack/stack.ts';
import { usageError, type CliContext, type Command } from './command.ts';

function services(positionals: readonly string[]): ServiceName[] {
  for (const name of positionals) {
    if (!isServiceName(name)) {
      throw usageError(`unknown service "${name}" (services: ${SERVICE_NAMES.join(', ')})`);
    }
  }
  return positionals.length === 0 ? [...SERVICE_NAMES] : (positionals as ServiceName[]);
}

function stackOf(ctx: CliContext): Stack {
  return createStack(ctx.config.stack, ctx.root, (line) => ctx.out(line));
}

const SERVICES_HELP = `Services: ${SERVICE_NAMES.join(', ')} (default: all).`;

const up: Command = {
  name: 'up',
  summary: 'Start the local stack (idempotent) and wait until every service answers.',
  usage: ['stack up [service...]'],
  details: `
${SERVICES_HELP}
Kafka (single-node KRaft) and Apicurio Registry run on the JVM from Maven Central jars, fetched once;
Redis and PostgreSQL are used where they already answer, else started from the installed binaries.
Readiness means real answers: a Kafka metadata request, a registry call, PING, SELECT 1.
Data, pid files and logs live under STREAMDESK_STACK_DIR (default .stack/). Ports: see .env.example.`,
  async run(args, ctx) {
    const names = services(args.positionals);
    const stack = stackOf(ctx);
    const started = Date.now();
    await stack.up(names);
    ctx.out(`stack ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    ctx.out('');
    ctx.out(formatStatusTable(await stack.status()));
    return 0;
  },
};

const down: Command = {
  name: 'down',
  summary: 'Stop what `stack up` started (pid files); services found already running are left alone.',
  usage: ['stack down [service...]'],
  details: SERVICES_HELP,
  async run(args, ctx) {
    const names = services(args.positionals);
    await stackOf(ctx).down(names);
    return 0;
  },
};

const status: Command = {
  name: 'status',
  summary: 'Show each service: version, address, state (running, external, stopped, unhealthy), pid.',
  usage: ['stack status [--json]'],
  options: { json: { type: 'boolean', description: 'Print JSON instead of a table.' } },
  details: `
running: started by this stack and answering; external: answering, not started by this stack;
stopped: nothing answers; unhealthy: started by this stack, but not answering.
Exit code 0 when every service answers, 1 otherwise.`,
  async run(args, ctx) {
    const rows = await stackOf(ctx).status();
    ctx.out(args.values['json'] === true ? JSON.stringify(rows, null, 2) : formatStatusTable(rows));
    return rows.every((r) => r.state === 'running' || r.state === 'external') ? 0 : 1;
  },
};

async function follow(files: readonly { name: string; file: string }[], ctx: CliContext): Promise<never> {
  const offsets = new Map(files.map((f) => [f.file, existsSync(f.file) ? statSync(f.file).size : 0]));
  for (;;) {
    for (const { name, file } of files) {
      if (!existsSync(file)) continue;
      const size = statSync(file).size;
      const from = offsets.get(file) ?? 0;
      if (size <= from) continue;
      const handle = await open(file, 'r');
      const buffer = Buffer.alloc(size - from);
      await handle.read(buffer, 0, buffer.length, from);
      await handle.close();
      offsets.set(file, size);
      for (const line of buffer.toString('utf8').split('\n').filter(Boolean)) ctx.out(`${name} | ${line}`);
    }
    await sleep(500);
  }
}

const logs: Command = {
  name: 'logs',
  summary: 'Print the last lines of the logs of services this stack started (.stack/logs/).',
  usage: ['stack logs [service...] [-n <lines>] [-f]'],
  options: {
    lines: { type: 'string', short: 'n', description: 'Lines per service (default 50).' },
    follow: { type: 'boolean', short: 'f', description: 'Keep printing new lines until interrupted.' },
  },
  details: `${SERVICES_HELP}\nServices found already running (external) log elsewhere, not here.`,
  async run(args, ctx) {
    const lines = Number(args.values['lines'] ?? '50');
    if (!Number.isInteger(lines) || lines < 0) throw usageError('--lines must be a non-negative integer');
    const names = services(args.positionals);
    const stack = stackOf(ctx);
    const files = names.map((name) => ({
      name,
      file: stack.services.get(name)?.logFile ?? '',
    }));
    for (const { name, file } of files) {
      const tail = await tailFile(file, lines);
      if (!existsSync(file)) {
        ctx.out(`== ${name}: no log at ${file} (not started by this stack)`);
        continue;
      }
      ctx.out(`== ${name}: ${file}`);
      for (const line of tail) ctx.out(line);
    }
    if (args.values['follow'] === true) await follow(files, ctx);
    return 0;
  },
};

export const stackCommand: Command = {
  name: 'stack',
  summary: 'The local stack without Docker: Kafka, Schema Registry (Apicurio), Redis, PostgreSQL.',
  usage: ['stack up|down|status|logs [service...]'],
  subcommands: [up, down, status, logs],
};
