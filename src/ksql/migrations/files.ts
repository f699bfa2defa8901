/**
 * Migration files in ksql-migrations' layout (pure apart from reading the folder): V<6 digits>__<name>.sql,
 * MD5 of the raw bytes as the checksum, ksql-migrations.properties for the metadata names.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { StreamdeskError } from '../../errors.ts';

export const FILE_PATTERN = /^V([0-9]{6})__(.+)\.sql$/;

export interface MigrationFile {
  readonly version: number;
  /** ksql-migrations' display name: the name part with _ turned into spaces. */
  readonly name: string;
  readonly fileName: string;
  readonly path: string;
  readonly checksum: string;
  readonly text: string;
}

export function md5(bytes: Buffer): string {
  return createHash('md5').update(bytes).digest('hex');
}

/** Migration files of a folder, by version; other files are ignored (as the official tool warns). */
export function loadMigrations(dir: string): { files: MigrationFile[]; ignored: string[] } {
  if (!existsSync(dir)) throw new StreamdeskError('MIGRATION_INVALID', `no migrations folder at ${dir}`);
  const files: MigrationFile[] = [];
  const ignored: string[] = [];
  for (const fileName of readdirSync(dir).sort()) {
    const match = FILE_PATTERN.exec(fileName);
    if (!match?.[1] || !match[2]) {
      if (!fileName.startsWith('.')) ignored.push(fileName);
      continue;
    }
    const version = Number(match[1]);
    if (version <= 0) throw new StreamdeskError('MIGRATION_INVALID', `${fileName}: versions start at 1`);
    if (files.some((f) => f.version === version))
      throw new StreamdeskError('MIGRATION_INVALID', `${fileName}: version ${version} appears twice`);
    const bytes = readFileSync(`${dir}/${fileName}`);
    files.push({
      version,
      name: match[2].replaceAll('_', ' '),
      fileName,
      path: `${dir}/${fileName}`,
      checksum: md5(bytes),
      text: bytes.toString('utf8'),
    });
  }
  return { files: files.sort((a, b) => a.version - b.version), ignored };
}

/** `create`: the file name for a new migration (whitespace and /\\:*?"<>| become _). */
export function newMigrationFileName(version: number, description: string): string {
  return `V${String(version).padStart(6, '0')}__${description.trim().replace(/[\s/\\:*?"<>|]/g, '_')}.sql`;
}

/** Java-style .properties (key=value, # comments); enough for ksql-migrations.properties. */
export function parseProperties(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    const at = line.search(/[=:]/);
    if (at < 0) continue;
    out[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return out;
}

/** 1-based line of a character offset. */
export function lineOf(text: string, offset: number): number {
  return text.slice(0, offset).split('\n').length;
}

export interface MigrationsProject {
  /** ksql/ (where ksql-migrations.properties is). */
  readonly configDir: string;
  readonly migrationsDir: string;
  readonly properties: Readonly<Record<string, string>>;
  readonly names: {
    readonly stream: string;
    readonly table: string;
    readonly streamTopic?: string;
    readonly tableTopic?: string;
    readonly replicas: number;
  };
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * `<configDir>/ksql-migrations.properties` as the official tool reads it: metadata stream/table
 * names (defaults MIGRATION_EVENTS / MIGRATION_SCHEMA_VERSIONS), their topics, replicas, and the
 * migrations folder (`migrations/` beside the file, or ksql.migrations.dir.override).
 */
export function loadMigrationsProject(configDir: string): MigrationsProject {
  const file = `${configDir}/ksql-migrations.properties`;
  if (!existsSync(file)) {
    throw new StreamdeskError('MIGRATION_INVALID', `no ksql-migrations.properties in ${configDir}`);
  }
  const properties = parseProperties(readFileSync(file, 'utf8'));
  const name = (key: string, fallback: string): string => {
    const value = (properties[key] ?? fallback).toUpperCase();
    if (!IDENTIFIER.test(value))
      throw new StreamdeskError('MIGRATION_INVALID', `${file}: ${key} must be an identifier`);
    return value;
  };
  const replicas = Number(properties['ksql.migrations.topic.replicas'] ?? '1');
  if (!Number.isInteger(replicas) || replicas < 1) {
    throw new StreamdeskError(
      'MIGRATION_INVALID',
      `${file}: ksql.migrations.topic.replicas must be a positive integer`,
    );
  }
  const override = properties['ksql.migrations.dir.override'];
  const streamTopic = properties['ksql.migrations.stream.topic.name'];
  const tableTopic = properties['ksql.migrations.table.topic.name'];
  return {
    configDir,
    migrationsDir:
      override === undefined || override === ''
        ? `${configDir}/migrations`
        : override.startsWith('/')
          ? override
          : `${configDir}/${override}`,
    properties,
    names: {
      stream: name('ksql.migrations.stream.name', 'MIGRATION_EVENTS'),
      table: name('ksql.migrations.table.name', 'MIGRATION_SCHEMA_VERSIONS'),
      ...(streamTopic ? { streamTopic } : {}),
      ...(tableTopic ? { tableTopic } : {}),
      replicas,
    },
  };
}
