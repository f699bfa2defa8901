/**
 * The migrator: ksql-migrations' behaviour over the ksqlDB REST API only, so the same files and the
 * same metadata work against the local engine and a real ksqlDB (and the official tool can take over).
 *
 * Metadata (as InitializeMigrationCommand creates it): a JSON stream MIGRATION_EVENTS and a table
 * MIGRATION_SCHEMA_VERSIONS = GROUP BY version_key with LATEST_BY_OFFSET of every column. Every state
 * change inserts two events, one keyed 'CURRENT' and one keyed by the version; reads are pull queries.
 * States: RUNNING, MIGRATED, ERROR (PENDING is only shown for files not applied yet).
 */
import { StreamdeskError } from '../../errors.ts';
import type { MigrationFile } from './files.ts';
import { KsqlServerError, type KsqlRestClient } from './rest-client.ts';
import { classify, splitStatements, substitute, type SqlStatement } from './sql-text.ts';

export interface MetadataNames {
  readonly stream: string;
  readonly table: string;
  /** Topic names; default `<ksql service id>ksql_<name>`, as the official tool. */
  readonly streamTopic?: string;
  readonly tableTopic?: string;
  readonly replicas: number;
}

export type MigrationState = 'PENDING' | 'RUNNING' | 'MIGRATED' | 'ERROR';

export interface VersionRow {
  readonly version: number;
  readonly name: string;
  readonly state: MigrationState;
  readonly checksum: string;
  readonly startedOn: string;
  readonly completedOn: string;
  /** The version applied before this one, '<none>' for the first. */
  readonly previous: string;
  readonly errorReason: string;
}

const NONE = '<none>';
const NO_ERROR = 'N/A';

export interface Migrator {
  /** Whether MIGRATION_EVENTS and MIGRATION_SCHEMA_VERSIONS exist on the server. */
  metadataExists(): Promise<boolean>;
  /** Create the metadata stream and table (no-op for what exists). */
  initializeMetadata(): Promise<{ created: string[] }>;
  /** Drop the metadata (terminating the table's query), deleting its topics. */
  destroyMetadata(): Promise<{ dropped: string[] }>;
  /** The CURRENT row and the rows of the given versions. */
  current(): Promise<VersionRow | undefined>;
  row(version: number): Promise<VersionRow | undefined>;
  /** The latest MIGRATED version (0 when none), following `previous` from a RUNNING/ERROR CURRENT. */
  latestMigrated(current: VersionRow | undefined): number;
  /** Every problem between the applied chain and the files (empty: valid). */
  validate(files: readonly MigrationFile[]): Promise<string[]>;
  apply(files: readonly MigrationFile[], options: ApplyOptions): Promise<ApplyResult>;
  info(files: readonly MigrationFile[]): Promise<InfoRow[]>;
}

export type ApplyTarget =
  | { readonly kind: 'all' }
  | { readonly kind: 'next' }
  | { readonly kind: 'until'; readonly version: number }
  | { readonly kind: 'version'; readonly version: number };

export interface ApplyOptions {
  readonly target: ApplyTarget;
  /** --define values (names upper-cased), re-applied for every file. */
  readonly variables: ReadonlyMap<string, string>;
  readonly dryRun: boolean;
  readonly out: (line: string) => void;
  /** For the state written (tests inject a clock). */
  readonly now?: () => number;
  /** How long to wait for the metadata table to show a state change (default 30 s). */
  readonly stateTimeoutMs?: number;
}

export interface ApplyResult {
  readonly applied: number[];
  /** The version the server is at afterwards. */
  readonly version: number;
}

export interface InfoRow extends Omit<VersionRow, 'previous' | 'checksum'> {
  readonly previous: string;
  readonly checksum: string;
  /** The local file changed after it was applied. */
  readonly changed: boolean;
  /** Applied on the server but no longer present locally. */
  readonly missingFile: boolean;
}

const COLUMNS = 'VERSION, NAME, STATE, CHECKSUM, STARTED_ON, COMPLETED_ON, PREVIOUS, ERROR_REASON';

const quote = (s: string): string => `'${s.replaceAll("'", "''")}'`;

function toRow(values: readonly unknown[]): VersionRow {
  const text = (i: number): string => (typeof values[i] === 'string' ? values[i] : '');
  const state = text(2);
  return {
    version: Number(text(0)),
    name: text(1),
    state: state === 'RUNNING' || state === 'MIGRATED' || state === 'ERROR' ? state : 'ERROR',
    checksum: text(3),
    startedOn: text(4),
    completedOn: text(5),
    previous: text(6) || NONE,
    errorReason: text(7) || NO_ERROR,
  };
}

export function createMigrator(
  client: KsqlRestClient,
  names: MetadataNames,
  serviceId: () => Promise<string>,
): Migrator {
  let sequence: number | undefined;

  const execute = async (sql: string, properties: Record<string, string> = {}): Promise<void> => {
    const entities = await client.execute(sql, {
      properties,
      ...(sequence === undefined ? {} : { commandSequenceNumber: sequence }),
    });
    for (const e of entities) {
      const n = e['commandSequenceNumber'];
      if (typeof n === 'number' && n >= 0) sequence = n;
    }
  };

  const sourceNames = async (): Promise<{ streams: Set<string>; tables: Set<string> }> => {
    const names = (entities: readonly { readonly [k: string]: unknown }[], field: string): string[] =>
      entities.flatMap((e) => {
        const list = e[field];
        if (!Array.isArray(list)) return [];
        return list.map((s: { name?: unknown }) => (typeof s.name === 'string' ? s.name.toUpperCase() : ''));
      });
    return {
      streams: new Set(names(await client.execute('SHOW STREAMS;'), 'streams')),
      tables: new Set(names(await client.execute('SHOW TABLES;'), 'tables')),
    };
  };

  const topicOf = async (name: string, given: string | undefined): Promise<string> =>
    given ?? `${await serviceId()}ksql_${name}`;

  const readRow = async (key: string): Promise<VersionRow | undefined> => {
    const { rows } = await client.query(
      `SELECT ${COLUMNS} FROM ${names.table} WHERE VERSION_KEY = ${quote(key)};`,
    );
    return rows[0] === undefined ? undefined : toRow(rows[0]);
  };

  const writeState = async (row: VersionRow, options: ApplyOptions): Promise<void> => {
    const values = (key: string): string =>
      `INSERT INTO ${names.stream} (VERSION_KEY, ${COLUMNS}) VALUES (${[
        key,
        String(row.version),
        row.name,
        row.state,
        row.checksum,
        row.startedOn,
        row.completedOn,
        row.previous,
        row.errorReason,
      ]
        .map(quote)
        .join(', ')});`;
    await execute(`${values('CURRENT')}\n${values(String(row.version))}`);
    // The table is a persistent query over the stream: wait until it shows the change, so the next
    // step (and the next command) reads what was written.
    const deadline = Date.now() + (options.stateTimeoutMs ?? 30_000);
    for (;;) {
      const [current, own] = await Promise.all([readRow('CURRENT'), readRow(String(row.version))]);
      const shows = (r: VersionRow | undefined): boolean =>
        r?.state === row.state && r.startedOn === row.startedOn;
      if (shows(current) && shows(own)) return;
      if (Date.now() > deadline) {
        throw new StreamdeskError(
          'KSQL_UNAVAILABLE',
          `${names.table} did not show version ${row.version} as ${row.state} within ${options.stateTimeoutMs ?? 30_000} ms; is its query running?`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  const chain = async (current: VersionRow | undefined): Promise<VersionRow[]> => {
    // Rows from the latest MIGRATED version back to the first, by `previous`.
    const out: VersionRow[] = [];
    let version = migrator.latestMigrated(current);
    const seen = new Set<number>();
    while (version > 0 && !seen.has(version)) {
      seen.add(version);
      const row = await readRow(String(version));
      if (row === undefined) {
        out.push({
          version,
          name: '',
          state: 'ERROR',
          checksum: '',
          startedOn: '',
          completedOn: '',
          previous: NONE,
          errorReason: 'no metadata row',
        });
        break;
      }
      out.push(row);
      version = row.previous === NONE ? 0 : Number(row.previous);
    }
    return out;
  };

  const migrator: Migrator = {
    async metadataExists() {
      const { streams, tables } = await sourceNames();
      return streams.has(names.stream) && tables.has(names.table);
    },

    async initializeMetadata() {
      const { streams, tables } = await sourceNames();
      const created: string[] = [];
      if (!streams.has(names.stream)) {
        await execute(
          `CREATE STREAM ${names.stream} (VERSION_KEY STRING KEY, VERSION STRING, NAME STRING, STATE STRING, CHECKSUM STRING, STARTED_ON STRING, COMPLETED_ON STRING, PREVIOUS STRING, ERROR_REASON STRING) WITH (KAFKA_TOPIC=${quote(await topicOf(names.stream, names.streamTopic))}, VALUE_FORMAT='JSON', PARTITIONS=1, REPLICAS=${names.replicas});`,
        );
        created.push(names.stream);
      }
      if (!tables.has(names.table)) {
        await execute(
          `CREATE TABLE ${names.table} WITH (KAFKA_TOPIC=${quote(await topicOf(names.table, names.tableTopic))}) AS SELECT VERSION_KEY, LATEST_BY_OFFSET(VERSION) AS VERSION, LATEST_BY_OFFSET(NAME) AS NAME, LATEST_BY_OFFSET(STATE) AS STATE, LATEST_BY_OFFSET(CHECKSUM) AS CHECKSUM, LATEST_BY_OFFSET(STARTED_ON) AS STARTED_ON, LATEST_BY_OFFSET(COMPLETED_ON) AS COMPLETED_ON, LATEST_BY_OFFSET(PREVIOUS) AS PREVIOUS, LATEST_BY_OFFSET(ERROR_REASON) AS ERROR_REASON FROM ${names.stream} GROUP BY VERSION_KEY;`,
          // Events written before the query's consumer joins must still count.
          { 'auto.offset.reset': 'earliest' },
        );
        created.push(names.table);
      }
      return { created };
    },

    async destroyMetadata() {
      const { streams, tables } = await sourceNames();
      const dropped: string[] = [];
      if (tables.has(names.table)) {
        const [description] = await client.execute(`DESCRIBE ${names.table};`);
        const source = (description?.['sourceDescription'] ?? {}) as { writeQueries?: { id?: unknown }[] };
        for (const q of source.writeQueries ?? []) {
          if (typeof q.id === 'string') await execute(`TERMINATE ${q.id};`);
        }
        await execute(`DROP TABLE ${names.table} DELETE TOPIC;`);
        dropped.push(names.table);
      }
      if (streams.has(names.stream)) {
        await execute(`DROP STREAM ${names.stream} DELETE TOPIC;`);
        dropped.push(names.stream);
      }
      return { dropped };
    },

    current: () => readRow('CURRENT'),
    row: (version) => readRow(String(version)),

    latestMigrated(current) {
      if (current === undefined) return 0;
      if (current.state === 'MIGRATED') return current.version;
      return current.previous === NONE ? 0 : Number(current.previous);
    },

    async validate(files) {
      const byVersion = new Map(files.map((f) => [f.version, f]));
      const problems: string[] = [];
      for (const row of await chain(await migrator.current())) {
        const file = byVersion.get(row.version);
        if (row.state !== 'MIGRATED')
          problems.push(`version ${row.version}: state is ${row.state}, expected MIGRATED`);
        if (file === undefined)
          problems.push(`version ${row.version} (${row.name}) was applied but its file is missing`);
        else if (file.checksum !== row.checksum)
          problems.push(
            `${file.fileName} changed after it was applied (checksum ${file.checksum}, applied ${row.checksum})`,
          );
      }
      return problems.reverse();
    },

    async info(files) {
      const current = await migrator.current();
      const applied = new Map((await chain(current)).map((r) => [r.version, r]));
      // A failed or running version is not in the chain of MIGRATED versions; show it too.
      if (current !== undefined && current.state !== 'MIGRATED') {
        applied.set(current.version, (await readRow(String(current.version))) ?? current);
      }
      const rows: InfoRow[] = [];
      const versions = [...new Set([...files.map((f) => f.version), ...applied.keys()])].sort(
        (a, b) => a - b,
      );
      for (const version of versions) {
        const file = files.find((f) => f.version === version);
        const row = applied.get(version);
        rows.push(
          row === undefined
            ? {
                version,
                name: file?.name ?? '',
                state: 'PENDING',
                checksum: file?.checksum ?? '',
                startedOn: '',
                completedOn: '',
                previous: '',
                errorReason: '',
                changed: false,
                missingFile: false,
              }
            : {
                ...row,
                changed: file !== undefined && file.checksum !== row.checksum,
                missingFile: file === undefined,
              },
        );
      }
      return rows;
    },

    async apply(files, options) {
      const now = options.now ?? Date.now;
      const out = options.out;
      if (!(await migrator.metadataExists())) {
        if (options.dryRun) {
          out(`dry run: would create ${names.stream} and ${names.table}`);
        } else {
          const { created } = await migrator.initializeMetadata();
          out(`created migrations metadata: ${created.join(', ')}`);
        }
      }
      const exists = !options.dryRun || (await migrator.metadataExists());
      const current = exists ? await migrator.current() : undefined;
      if (exists) {
        const problems = await migrator.validate(files);
        if (problems.length > 0) {
          throw new StreamdeskError(
            'MIGRATION_DRIFT',
            `the applied migrations do not match the files:\n  ${problems.join('\n  ')}`,
          );
        }
      }
      let latest = migrator.latestMigrated(current);
      if (current !== undefined && current.state !== 'MIGRATED') {
        out(`version ${current.version} is ${current.state} (${current.errorReason}); it is applied again`);
      }
      const pending = files.filter((f) => f.version > latest);
      const target = options.target;
      let selected: MigrationFile[];
      if (target.kind === 'all') selected = pending;
      else if (target.kind === 'next') selected = pending.slice(0, 1);
      else if (target.kind === 'until') selected = pending.filter((f) => f.version <= target.version);
      else {
        if (target.version <= latest) {
          throw new StreamdeskError(
            'MIGRATION_INVALID',
            `version ${target.version} is already applied (the server is at ${latest})`,
          );
        }
        const file = files.find((f) => f.version === target.version);
        if (file === undefined)
          throw new StreamdeskError('MIGRATION_INVALID', `no migration file has version ${target.version}`);
        selected = pending.filter((f) => f.version <= target.version);
      }
      if (selected.length === 0) {
        out(
          `nothing to apply: the server is at version ${latest}${files.length === 0 ? ' (no migration files)' : ''}`,
        );
        return { applied: [], version: latest };
      }
      const applied: number[] = [];
      for (const file of selected) {
        const started = now();
        const base = {
          version: file.version,
          name: file.name,
          checksum: file.checksum,
          startedOn: String(started),
          previous: latest === 0 ? NONE : String(latest),
        };
        out(`${options.dryRun ? 'dry run: ' : ''}applying ${file.fileName}`);
        if (!options.dryRun)
          await writeState({ ...base, state: 'RUNNING', completedOn: '', errorReason: NO_ERROR }, options);
        try {
          const statements = prepare(file, options.variables);
          let properties: Record<string, string> = {};
          for (const s of statements) {
            if (s.kind === 'set') {
              properties = { ...properties, [s.property]: s.value };
              continue;
            }
            if (s.kind === 'unset') {
              const { [s.property]: _removed, ...rest } = properties;
              properties = rest;
              continue;
            }
            if (options.dryRun) {
              out(`  ${s.text.replace(/\s+/g, ' ').slice(0, 160)};`);
              continue;
            }
            try {
              await execute(`${s.text};`, properties);
            } catch (error) {
              const serverMessage =
                error instanceof KsqlServerError ? error.message : (error as Error).message;
              throw new StatementFailure(file, s, serverMessage, error);
            }
          }
        } catch (error) {
          const failure =
            error instanceof StatementFailure
              ? error
              : new StatementFailure(file, undefined, (error as Error).message, error);
          if (!options.dryRun) {
            await writeState(
              { ...base, state: 'ERROR', completedOn: String(now()), errorReason: failure.reason },
              options,
            ).catch(() => undefined);
          }
          throw new StreamdeskError('MIGRATION_FAILED', failure.message, { cause: error });
        }
        if (!options.dryRun)
          await writeState(
            { ...base, state: 'MIGRATED', completedOn: String(now()), errorReason: NO_ERROR },
            options,
          );
        out(options.dryRun ? '  (dry run: nothing sent)' : `  MIGRATED in ${now() - started} ms`);
        applied.push(file.version);
        latest = file.version;
      }
      return { applied, version: latest };
    },
  };
  return migrator;
}

type Prepared = { readonly text: string; readonly line: number } & (
  | { readonly kind: 'server' }
  | { readonly kind: 'set'; readonly property: string; readonly value: string }
  | { readonly kind: 'unset'; readonly property: string }
);

/**
 * A file's statements with variables substituted (DEFINE/UNDEFINE applied in order, --define values
 * first) and client-side statements resolved. Anything invalid fails here, naming file and line,
 * before a statement of the file reaches the server.
 */
export function prepare(file: MigrationFile, defines: ReadonlyMap<string, string>): Prepared[] {
  const variables = new Map(defines);
  const out: Prepared[] = [];
  let statements: SqlStatement[];
  try {
    statements = splitStatements(file.text, file.fileName);
  } catch (error) {
    throw new StatementFailure(file, undefined, (error as Error).message, error);
  }
  for (const statement of statements) {
    try {
      const text = substitute(statement.text, variables);
      const kind = classify(text);
      if (kind.kind === 'define') variables.set(kind.name.toUpperCase(), kind.value);
      else if (kind.kind === 'undefine') variables.delete(kind.name.toUpperCase());
      else if (kind.kind === 'rejected') {
        throw new StreamdeskError(
          'MIGRATION_INVALID',
          `${kind.verb} statements are not allowed in a migration file`,
        );
      } else if (kind.kind === 'set')
        out.push({ kind: 'set', property: kind.property, value: kind.value, text, line: statement.line });
      else if (kind.kind === 'unset')
        out.push({ kind: 'unset', property: kind.property, text, line: statement.line });
      else out.push({ kind: 'server', text, line: statement.line });
    } catch (error) {
      if (error instanceof StatementFailure) throw error;
      throw new StatementFailure(file, statement, (error as Error).message, error);
    }
  }
  return out;
}

/** A statement (or the file) that failed: the message names the file and line. */
export class StatementFailure extends Error {
  /** The error_reason recorded in the metadata (ksql-migrations' wording). */
  readonly reason: string;

  constructor(
    file: MigrationFile,
    statement: { text: string; line: number } | undefined,
    serverMessage: string,
    cause: unknown,
  ) {
    const where = statement === undefined ? file.fileName : `${file.fileName}:${statement.line}`;
    const first = serverMessage.split('\n')[0] ?? serverMessage;
    super(
      statement === undefined
        ? `${where}: ${first}`
        : `${where}: the statement failed: ${first}\n  statement: ${statement.text.replace(/\s+/g, ' ').slice(0, 300)}`,
      { cause },
    );
    this.name = 'StatementFailure';
    this.reason =
      statement === undefined
        ? `Failed to parse ${file.fileName}: ${first}`
        : `Failed to execute sql: ${statement.text.replace(/\s+/g, ' ').slice(0, 500)}. Error: ${first}`;
  }
}
