// `npm run qtt -- <folder-or-file…> [--json report.json] [--filter text] [--verbose]`: runs ksqlDB
// query-validation test cases on the local engine (in-memory topics and registry) and prints
// passed / failed / unsupported per file and in total, plus the acceptance metric.
import { writeFileSync } from 'node:fs';
import { runPaths } from '../src/ksql/qtt/files.ts';

const args = process.argv.slice(2);
const paths: string[] = [];
let jsonOut: string | undefined;
let filter: string | undefined;
let verbose = false;
for (let i = 0; i < args.length; i++) {
  const a = args[i] ?? '';
  if (a === '--json') jsonOut = args[++i];
  else if (a === '--filter') filter = args[++i];
  else if (a === '--verbose' || a === '-v') verbose = true;
  else paths.push(a);
}
if (paths.length === 0) {
  console.error('usage: npm run qtt -- <folder-or-file…> [--json report.json] [--filter text] [--verbose]');
  process.exit(2);
}

const report = await runPaths(
  paths,
  filter === undefined ? undefined : (r) => `${r.file} ${r.name}`.includes(filter),
);
const pad = (s: string | number, n: number): string => String(s).padStart(n);
console.log(`${'file'.padEnd(36)} ${pad('passed', 7)} ${pad('failed', 7)} ${pad('unsupp.', 8)}`);
for (const [file, t] of [...report.perFile].sort(([a], [b]) => a.localeCompare(b))) {
  console.log(`${file.padEnd(36)} ${pad(t.passed, 7)} ${pad(t.failed, 7)} ${pad(t.unsupported, 8)}`);
}
const { total, subset, negatives, positiveNonWindowed } = report;
console.log(
  `${'TOTAL'.padEnd(36)} ${pad(total.passed, 7)} ${pad(total.failed, 7)} ${pad(total.unsupported, 8)}`,
);
const pct = (a: number, b: number): string => (b === 0 ? 'n/a' : `${((100 * a) / b).toFixed(1)}%`);
console.log('');
console.log(
  `acceptance subset (positive, non-windowed, no GROUP BY / JOIN / CREATE TABLE): ${subset.passed}/${subset.total} passed (${pct(subset.passed, subset.total)})`,
);
console.log(
  `positive non-windowed overall: ${positiveNonWindowed.passed}/${positiveNonWindowed.total} passed (${pct(positiveNonWindowed.passed, positiveNonWindowed.total)})`,
);
console.log(
  `negative non-windowed: ${negatives.failingAsExpected}/${negatives.total} fail as expected (${negatives.messageMatches} with the expected message)`,
);
const unsupportedReasons = new Map<string, number>();
for (const r of report.results) {
  if (r.status === 'unsupported')
    unsupportedReasons.set(r.reason, (unsupportedReasons.get(r.reason) ?? 0) + 1);
}
for (const [reason, count] of [...unsupportedReasons].sort((a, b) => b[1] - a[1])) {
  console.log(`unsupported: ${pad(count, 4)} ${reason}`);
}
if (verbose) {
  for (const r of report.results) {
    if (r.status === 'failed') console.log(`FAILED ${r.file} | ${r.name}: ${r.reason}`);
  }
}
if (jsonOut !== undefined) {
  writeFileSync(
    jsonOut,
    `${JSON.stringify({ cases: report.results.map((r) => ({ file: r.file, name: r.name, status: r.status, reason: r.reason })) }, null, 2)}\n`,
  );
  console.log(`report written to ${jsonOut}`);
}
// A failing case makes the command fail (unsupported cases do not).
if (total.failed > 0) process.exitCode = 1;
