/**
 * The product's own topology (ksql/migrations) checked as ksqlDB query-validation cases:
 * test/ksql/*.qtt.json, run by the same runner as ksqlDB's cases.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../paths.ts';
import { findCaseFiles, loadRuns } from './files.ts';
import { runCase } from './runner.ts';

const runs = loadRuns(findCaseFiles([join(PROJECT_ROOT, 'test', 'ksql')]));

describe('topology QTT cases (test/ksql)', () => {
  it('finds the cases, each with the migrations as statements', () => {
    expect(runs.length).toBeGreaterThanOrEqual(2);
    for (const run of runs) expect(run.statements.length).toBeGreaterThanOrEqual(4);
  });

  it.each(runs.map((r) => [r.name, r] as const))('%s', async (_name, run) => {
    const result = await runCase(run);
    expect({ status: result.status, reason: result.reason }).toEqual({ status: 'passed', reason: '' });
  });
});
