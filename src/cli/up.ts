/**
 * `streamdesk up | down | status`: the product on one machine. `up` brings up the stack, the topics,
 * the contracts, the local ksql engine, the topology (migrations), the tickets service and the intake,
 * in that order, each step waiting for the previous one; `down` stops them in reverse.
 */
import { loadCatalog } from '../contracts/catalog.ts';
import { loadLocalSchemas, registerSchemas } from '../contracts/schemas.ts';
import { createRegistryClient } from '../registry/client.ts';
import { APP_NAMES, createAppService, type AppName } from '../stack/apps.ts';
import type { ServiceStatus, StackPaths } from '../stack/service.ts';
import { createStack, formatStatusTable } from '../stack/stack.ts';
import { type CliContext, type Command, type OptionSpec, usageError } from './command.ts';
import { applyMigrations } from './ksql.ts';
import { applyCatalogTopics, profileOf } from './topics.ts';

function appsOf(ctx: CliContext, paths: StackPaths): Map<AppName, ReturnType<typeof createAppService>> {
  return new Map(APP_NAMES.map((name) => [name, createAppService(name, ctx.config, paths)]));
}

async function statusRows(ctx: CliContext): Promise<ServiceStatus[]> {
  const stack = createStack(ctx.config.stack, ctx.root, () => undefined);
  const apps = appsOf(ctx, stack.paths);
  return [...(await stack.status()), ...(await Promise.all([...apps.values()].map((a) => a.status())))];
}

const profileOption: OptionSpec = {
  type: 'string',
  description: 'Catalog profile for topics and migrations: local or production (default STREAMDESK_PROFILE).',
};

export const upCommand: Command = {
  name: 'up',
  summary:
    'Run streamdesk on this machine: stack, topics, contracts, ksql engine + topology, tickets, intake.',
  usage: ['up [--profile local|production] [--no-apps]'],
  options: {
    profile: profileOption,
    'no-apps': {
      type: 'boolean',
      description: 'Stop after the topology: do not start the tickets service and the intake.',
    },
  },
  details: `
Steps, in order (each idempotent; a second \`up\` finds everything running and changes nothing):
  1. stack        Kafka, Schema Registry, Redis, PostgreSQL (\`streamdesk stack up\`)
  2. topics       the catalog's topics (\`streamdesk topics apply\`)
  3. contracts    the Avro contracts (\`streamdesk schemas register\`)
  4. ksql         the local ksql engine on STREAMDESK_KSQL_PORT (\`streamdesk ksql-server\`)
  5. topology     pending migrations from ksql/migrations (\`streamdesk ksql migrate apply\`)
  6. tickets      the tickets service (\`streamdesk tickets run\`)
  7. intake       the channel intake (\`streamdesk intake\`)
Services run in the background with logs in STREAMDESK_STACK_DIR/logs (\`streamdesk stack logs\` shows
the stack's); \`streamdesk down\` stops them. A service already answering on its port that this
command did not start is used as it is.`,
  async run(args, ctx) {
    const profile = profileOf(args, ctx);
    const started = Date.now();
    const step = (n: number, what: string): void => ctx.out(`[${n}/7] ${what}`);
    const indent = (line: string): void => ctx.out(`      ${line}`);
    const sub: CliContext = { ...ctx, out: indent };

    step(1, 'stack');
    const stack = createStack(ctx.config.stack, ctx.root, indent);
    await stack.up();
    step(2, `topics (profile ${profile})`);
    await applyCatalogTopics(sub, profile);
    step(3, 'contracts');
    const results = await registerSchemas(
      loadCatalog(ctx.root),
      loadLocalSchemas(ctx.root),
      createRegistryClient(ctx.config.registry.url),
      indent,
    );
    indent(`${results.length} subject(s) registered`);
    const apps = appsOf(ctx, stack.paths);
    const startApp = async (name: AppName): Promise<void> => {
      const app = apps.get(name);
      if (app === undefined) throw new Error(`no app ${name}`);
      indent(await app.up((m) => indent(m)));
    };
    step(4, `ksql engine (${ctx.config.ksql.url})`);
    await startApp('ksql');
    step(5, 'topology (ksql/migrations)');
    await applyMigrations(sub, { profile, target: { kind: 'all' }, defines: [], dryRun: false });
    if (args.values['no-apps'] === true) {
      step(6, 'tickets: skipped (--no-apps)');
      step(7, 'intake: skipped (--no-apps)');
    } else {
      step(6, `tickets service (http://${ctx.config.tickets.host}:${ctx.config.tickets.port})`);
      await startApp('tickets');
      step(7, `intake (http://${ctx.config.intake.host}:${ctx.config.intake.port})`);
      await startApp('intake');
    }
    ctx.out(`streamdesk is up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    ctx.out('');
    ctx.out(formatStatusTable(await statusRows(ctx)));
    return 0;
  },
};

export const downCommand: Command = {
  name: 'down',
  summary: 'Stop what `streamdesk up` started: intake, tickets, ksql engine, then the stack.',
  usage: ['down [--keep-stack]'],
  options: {
    'keep-stack': {
      type: 'boolean',
      description: "Stop streamdesk's services only; leave Kafka and the rest running.",
    },
  },
  details: 'Services are stopped gracefully (in-flight work finishes, producers flush); data stays.',
  async run(args, ctx) {
    const stack = createStack(ctx.config.stack, ctx.root, (line) => ctx.out(line));
    const apps = appsOf(ctx, stack.paths);
    for (const name of [...APP_NAMES].reverse()) {
      const app = apps.get(name);
      if (app !== undefined) ctx.out(`${name}: ${await app.down((m) => ctx.out(`${name}: ${m}`))}`);
    }
    if (args.values['keep-stack'] !== true) await stack.down();
    return 0;
  },
};

export const statusCommand: Command = {
  name: 'status',
  summary: 'Show the stack and streamdesk services: version, address, state, pid.',
  usage: ['status [--json]'],
  options: { json: { type: 'boolean', description: 'Print JSON instead of a table.' } },
  details: 'Exit code 0 when everything answers, 1 otherwise.',
  async run(args, ctx) {
    if (args.positionals.length > 0) throw usageError('status takes no arguments');
    const rows = await statusRows(ctx);
    ctx.out(args.values['json'] === true ? JSON.stringify(rows, null, 2) : formatStatusTable(rows));
    return rows.every((r) => r.state === 'running' || r.state === 'external') ? 0 : 1;
  },
};
