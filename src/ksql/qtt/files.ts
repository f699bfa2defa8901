/**
 * Finds and loads QTT case files from folders or files, and runs them (the I/O edge of the runner).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseCaseFile, type QttRun } from './cases.ts';
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
  return files.flatMap((f) => parseCaseFile(basename(f), readFileSync(f, 'utf8')));
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
