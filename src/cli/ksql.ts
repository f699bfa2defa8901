/**
 * `streamdesk ksql migrate …`: ksql-migrations' commands over the ksqlDB REST API (the local engine
 * or a real ksqlDB), on the files in ksql/migrations and the metadata the official tool keeps.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCatalog, PROFILES, type Profile } from '../contracts/catalog.ts';
import { profileOf } from './topics.ts';
import { StreamdeskError } from '../errors.ts';
import { contractVariables } from '../ksql/migrations/contract-variables.ts';
import { loadMigrations, loadMigrationsProject, newMigrationFileName } from '../ksql/migrations/files.ts';
import {
  createMigrator,
  type ApplyTarget,
  type InfoRow,
  type Migrator,
} from '../ksql/migrations/migrator.ts';
import { createKsqlRestClient } from '../ksql/migrations/rest-client.ts';
import { parseDefine } from '../ksql/migrations/sql-text.ts';
import { createRegistryClient } from '../registry/client.ts';
import { usageError, type CliContext, type Command, type OptionSpec, type ParsedArgs } from './command.ts';

const common: Record<string, OptionSpec> = {
  server: {
    type: 'string',
    description: 'ksqlDB REST endpoint (default STREAMDESK_KSQL_URL, http://127.0.0.1:8088).',
  },
  'config-dir': {
    type: 'string',
    description: 'Folder with ksql-migrations.properties and migrations/ (default ksql/).',
  },
};

interface Session {
  readonly migrator: Migrator;
  readonly url: string;
  readonly files: ReturnType<typeof loadMigrations>['files'];
  readonly ignored: string[];
  readonly migrationsDir: string;
}

function stringOption(args: ParsedArgs, name: string): string | undefined {
  const value = args.values[name];
  return typeof value === 'string' ? value : undefined;
}

function sessionOf(args: ParsedArgs, ctx: CliContext): Promise<Session> {
  return session(stringOption(args, 'config-dir'), stringOption(args, 'server'), ctx);
}

async function session(
  configDir: string | undefined,
  server: string | undefined,
  ctx: CliContext,
): Promise<Session> {
  const project = loadMigrationsProject(configDir ?? join(ctx.root, 'ksql'));
  const { files, ignored } = loadMigrations(project.migrationsDir);
  const url = (server ?? ctx.config.ksql.url).replace(/\/+$/, '');
  const client = createKsqlRestClient(url);
  let serviceId: string | undefined;
  const migrator = createMigrator(client, project.names, async () => {
    serviceId ??= (await client.info()).ksqlServiceId;
    return serviceId;
  });
  return { migrator, url, files, ignored, migrationsDir: project.migrationsDir };
}

function positiveInt(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw usageError(`${option} must be a positive integer`);
  return n;
}

function when(epochMs: string): string {
  const n = Number(epochMs);
  return epochMs === '' || !Number.isFinite(n)
    ? ''
    : new Date(n).toISOString().replace('T', ' ').slice(0, 19);
}

export function formatInfo(rows: readonly InfoRow[]): string[] {
  const table = [
    ['Version', 'Name', 'State', 'Executed at', 'Error'],
    ...rows.map((r) => [
      String(r.version),
      r.name,
      r.state + (r.changed ? ' (file changed)' : '') + (r.missingFile ? ' (file missing)' : ''),
      when(r.completedOn || r.startedOn),
      r.errorReason === 'N/A' ? '' : r.errorReason.slice(0, 120),
    ]),
  ];
  const widths = table[0]?.map((_, i) => Math.max(...table.map((row) => (row[i] ?? '').length))) ?? [];
  return table.map((row) =>
    row
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd(),
  );
}

const apply: Command = {
  name: 'apply',
  summary: 'Apply pending migrations (all by default), recording RUNNING/MIGRATED/ERROR in the metadata.',
  usage: [
    'ksql migrate apply [--all | --next | --until <v> | --version <v>] [--define name=value]... [--dry-run]',
  ],
  options: {
    ...common,
    all: { type: 'boolean', short: 'a', description: 'Apply every pending migration (the default).' },
    next: { type: 'boolean', short: 'n', description: 'Apply only the next pending migration.' },
    until: {
      type: 'string',
      short: 'u',
      description: 'Apply pending migrations up to and including this version.',
    },
    version: {
      type: 'string',
      short: 'v',
      description: 'Apply pending migrations up to exactly this version (must exist).',
    },
    define: {
      type: 'string',
      short: 'd',
      multiple: true,
      description: 'A variable for ${name} references, re-applied for every file (repeatable).',
    },
    'dry-run': { type: 'boolean', description: 'Print what would run; write nothing.' },
    profile: {
      type: 'string',
      description: `Catalog profile for the _PARTITIONS/_REPLICAS variables: ${PROFILES.join(' or ')} (default STREAMDESK_PROFILE).`,
    },
  },
  details: `
Creates the metadata (stream MIGRATION_EVENTS, table MIGRATION_SCHEMA_VERSIONS) when missing, runs
\`validate\`, then applies each pending file in version order: statements split on ';', DEFINE/UNDEFINE
and \${var} substituted client-side, SET/UNSET as per-file properties, everything else sent to /ksql.
Applying twice is a no-op. A failing statement stops the run: the version is recorded as ERROR and the
message names file, line and the server's error; fix the file and apply again.

Variables defined for every file (from schemas/catalog.yaml, the profile, STREAMDESK_TOPIC_PREFIX and the
registry), with <T> the topic name upper-cased, dots as underscores (e.g. INGESTION_RAW_MESSAGES):
  <T>_TOPIC, <T>_PARTITIONS, <T>_REPLICAS, <T>_SCHEMA_ID (latest registered <topic>-value contract).
--define overrides them.`,
  async run(args, ctx) {
    const modes = ['all', 'next', 'until', 'version'].filter((m) => args.values[m] !== undefined);
    if (modes.length > 1)
      throw usageError(
        `choose one of --all, --next, --until, --version (got ${modes.map((m) => `--${m}`).join(', ')})`,
      );
    const until = positiveInt(stringOption(args, 'until'), '--until');
    const version = positiveInt(stringOption(args, 'version'), '--version');
    const target: ApplyTarget =
      until !== undefined
        ? { kind: 'until', version: until }
        : version !== undefined
          ? { kind: 'version', version }
          : args.values['next'] === true
            ? { kind: 'next' }
            : { kind: 'all' };
    const defines = args.values['define'];
    await applyMigrations(ctx, {
      profile: profileOf(args, ctx),
      target,
      defines: (Array.isArray(defines) ? defines : []).map(String),
      dryRun: args.values['dry-run'] === true,
      server: stringOption(args, 'server'),
      configDir: stringOption(args, 'config-dir'),
    });
    return 0;
  },
};

export interface ApplyMigrationsOptions {
  readonly profile: Profile;
  readonly target: ApplyTarget;
  /** name=value */
  readonly defines: readonly string[];
  readonly dryRun: boolean;
  readonly server?: string | undefined;
  readonly configDir?: string | undefined;
}

/** `ksql migrate apply` (also a step of `streamdesk up`). */
export async function applyMigrations(ctx: CliContext, options: ApplyMigrationsOptions): Promise<void> {
  const s = await session(options.configDir, options.server, ctx);
  const variables = await topologyVariables(ctx, options.profile);
  for (const d of options.defines) {
    const [name, value] = parseDefine(d);
    variables.set(name, value);
  }
  ctx.out(`migrations in ${s.migrationsDir}: ${s.files.length} file(s); server ${s.url}`);
  for (const name of s.ignored) ctx.out(`  ignored ${name} (not V<6 digits>__<name>.sql)`);
  const result = await s.migrator.apply(s.files, {
    target: options.target,
    variables,
    dryRun: options.dryRun,
    out: ctx.out,
  });
  if (result.applied.length > 0) {
    ctx.out(
      `${options.dryRun ? 'dry run: would apply' : 'applied'} ${result.applied.length} migration(s); the server is at version ${result.version}`,
    );
  }
}

/** Catalog/registry variables; the registry is optional (only _SCHEMA_ID needs it). */
async function topologyVariables(ctx: CliContext, profile: Profile): Promise<Map<string, string>> {
  const catalog = loadCatalog(ctx.root);
  try {
    const { variables, unregistered } = await contractVariables(
      catalog,
      profile,
      ctx.config.topicPrefix,
      createRegistryClient(ctx.config.registry.url, 10_000),
    );
    if (unregistered.length > 0) {
      ctx.err(
        `warning: not registered, so no _SCHEMA_ID variable: ${unregistered.join(', ')} (run \`streamdesk schemas register\`)`,
      );
    }
    return variables;
  } catch (error) {
    if (error instanceof StreamdeskError && error.code === 'SD_ERR_REGISTRY_UNAVAILABLE') {
      ctx.err(`warning: the registry did not answer, so no _SCHEMA_ID variables (${error.message})`);
      return (await contractVariables(catalog, profile, ctx.config.topicPrefix, undefined)).variables;
    }
    throw error;
  }
}

const info: Command = {
  name: 'info',
  summary: 'Show every migration version with its state (PENDING for files not applied yet).',
  usage: ['ksql migrate info [--json]'],
  options: { ...common, json: { type: 'boolean', description: 'Print the rows as JSON.' } },
  async run(args, ctx) {
    const s = await sessionOf(args, ctx);
    const exists = await s.migrator.metadataExists();
    const rows = exists
      ? await s.migrator.info(s.files)
      : s.files.map<InfoRow>((f) => ({
          version: f.version,
          name: f.name,
          state: 'PENDING',
          checksum: f.checksum,
          startedOn: '',
          completedOn: '',
          previous: '',
          errorReason: '',
          changed: false,
          missingFile: false,
        }));
    const current = exists ? s.migrator.latestMigrated(await s.migrator.current()) : 0;
    if (args.values['json'] === true) {
      ctx.out(
        JSON.stringify(
          { server: s.url, metadata: exists, currentVersion: current, migrations: rows },
          null,
          2,
        ),
      );
      return 0;
    }
    ctx.out(
      `server ${s.url}; ${exists ? `current version: ${current}` : 'migrations metadata not created yet (apply creates it)'}`,
    );
    for (const line of formatInfo(rows)) ctx.out(line);
    return 0;
  },
};

const validate: Command = {
  name: 'validate',
  summary: 'Check that every applied migration is MIGRATED and its file is unchanged (MD5 of the bytes).',
  usage: ['ksql migrate validate'],
  options: common,
  details: 'Exit code 0 when valid; 1 with SD_ERR_MIGRATION_DRIFT naming each changed or missing file.',
  async run(args, ctx) {
    const s = await sessionOf(args, ctx);
    if (!(await s.migrator.metadataExists())) {
      throw new StreamdeskError(
        'MIGRATION_METADATA_MISSING',
        `no migrations metadata on ${s.url}; run \`streamdesk ksql migrate apply\``,
      );
    }
    const problems = await s.migrator.validate(s.files);
    if (problems.length > 0) {
      throw new StreamdeskError(
        'MIGRATION_DRIFT',
        `the applied migrations do not match the files:\n  ${problems.join('\n  ')}`,
      );
    }
    ctx.out(
      `valid: version ${s.migrator.latestMigrated(await s.migrator.current())}, every applied file unchanged`,
    );
    return 0;
  },
};

const create: Command = {
  name: 'new',
  summary: 'Create an empty migration file V<next>__<description>.sql.',
  usage: ['ksql migrate new <description> [--version <v>]'],
  options: {
    'config-dir': common['config-dir'] as OptionSpec,
    version: {
      type: 'string',
      short: 'v',
      description: 'Version number (default: the highest existing + 1).',
    },
  },
  async run(args, ctx) {
    const description = args.positionals.join(' ').trim();
    if (description === '')
      throw usageError('give a description, e.g. `streamdesk ksql migrate new add priority`');
    const project = loadMigrationsProject(stringOption(args, 'config-dir') ?? join(ctx.root, 'ksql'));
    const { files } = loadMigrations(project.migrationsDir);
    const version =
      positiveInt(stringOption(args, 'version'), '--version') ??
      Math.max(0, ...files.map((f) => f.version)) + 1;
    if (files.some((f) => f.version === version)) throw usageError(`version ${version} already exists`);
    if (version > 999_999) throw usageError('versions have at most 6 digits');
    const path = join(project.migrationsDir, newMigrationFileName(version, description));
    if (existsSync(path)) throw usageError(`${path} already exists`);
    writeFileSync(path, '');
    ctx.out(`created ${path}`);
    return 0;
  },
};

const initialize: Command = {
  name: 'initialize-metadata',
  summary: 'Create the metadata stream and table (apply does this when they are missing).',
  usage: ['ksql migrate initialize-metadata'],
  options: common,
  async run(args, ctx) {
    const s = await sessionOf(args, ctx);
    const { created } = await s.migrator.initializeMetadata();
    ctx.out(
      created.length === 0 ? 'the migrations metadata exists already' : `created ${created.join(', ')}`,
    );
    return 0;
  },
};

const destroy: Command = {
  name: 'destroy-metadata',
  summary: 'Drop the metadata stream and table and delete their topics (the migrated objects stay).',
  usage: ['ksql migrate destroy-metadata --yes'],
  options: {
    ...common,
    yes: { type: 'boolean', description: 'Confirm: the record of applied versions is lost.' },
  },
  async run(args, ctx) {
    if (args.values['yes'] !== true)
      throw usageError('destroy-metadata deletes the record of applied migrations; add --yes to confirm');
    const s = await sessionOf(args, ctx);
    const { dropped } = await s.migrator.destroyMetadata();
    ctx.out(
      dropped.length === 0
        ? 'no migrations metadata to drop'
        : `dropped ${dropped.join(', ')} and their topics`,
    );
    return 0;
  },
};

const migrate: Command = {
  name: 'migrate',
  summary: 'Schema migrations for ksql (ksql-migrations compatible).',
  usage: ['ksql migrate apply|info|validate|new|initialize-metadata|destroy-metadata [options]'],
  subcommands: [apply, info, validate, create, initialize, destroy],
  details: `
Files: ksql/migrations/V<6 digits>__<name>.sql; configuration: ksql/ksql-migrations.properties (the
official ksql-migrations tool reads the same files and metadata). The server is STREAMDESK_KSQL_URL or
--server: the local engine (\`streamdesk ksql-server\`, \`streamdesk up\`) or a real ksqlDB.`,
};

export const ksqlCommand: Command = {
  name: 'ksql',
  summary: 'ksql topology tools: migrations.',
  usage: ['ksql migrate <command> [options]'],
  subcommands: [migrate],
};
