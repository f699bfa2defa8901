/**
 * Finds and loads QTT case files from folders or files, and runs them (the I/O edge of the runner).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { loadMigrations } from '../migrations/files.ts';
import { prepare } from '../migrations/migrator.ts';
import { parseJson } from '../serde/json-text.ts';
import { parseCaseFile, type CaseFileResolver, type QttRun } from './cases.ts';
import { runCase, summarize, type QttReport, type RunResult } from './runner.ts';

export function findCaseFiles(paths: readonly string[]): string[] {
  const files: string[] = [];
  for (const p of paths) {
    if (statSync(p).isDirectory()) {
      for (const f of readdirSync(p).sort()) if (f.endsWith('.json')) files.push(join(p, f));
    } else {
      files.push(p);
    }
  }
  return files;
}

export function loadRuns(files: readonly string[]): QttRun[] {
  return files.flatMap((f) => parseCaseFile(basename(f), readFileSync(f, 'utf8'), resolverFor(dirname(f))));
}

/** Resolves the streamdesk extensions of a case file (see CaseFileResolver) relative to its folder. */
function resolverFor(folder: string): CaseFileResolver {
  return {
    migrations(dir, variables) {
      const { files } = loadMigrations(resolve(folder, dir));
      const defines = new Map(Object.entries(variables).map(([k, v]) => [k.toUpperCase(), v]));
      const statements: string[] = [];
      const properties: Record<string, string> = {};
      for (const file of files) {
        for (const s of prepare(file, defines)) {
          if (s.kind === 'server') statements.push(`${s.text};`);
          else if (s.kind === 'set') properties[s.property] = s.value;
        }
      }
      return { statements, properties };
    },
    schemaFile(path) {
      return parseJson(readFileSync(resolve(folder, path), 'utf8'));
    },
  };
}

export async function runPaths(
  paths: readonly string[],
  filter?: (run: QttRun) => boolean,
): Promise<QttReport> {
  const runs = loadRuns(findCaseFiles(paths)).filter((r) => filter === undefined || filter(r));
  const results: RunResult[] = [];
  for (const run of runs) results.push(await runCase(run));
  return summarize(results);
}
