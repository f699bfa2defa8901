import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERRORS, safeErrorSummary, StreamdeskError } from './errors.ts';
import { PROJECT_ROOT } from './paths.ts';

describe('error catalogue', () => {
  it('every code is unique and prefixed SD_ERR_', () => {
    const codes = Object.values(ERRORS).map((e) => e.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const code of codes) expect(code).toMatch(/^SD_ERR_[A-Z0-9_]+$/);
  });

  it('every code is documented in docs/errors.md, and the doc lists no code that does not exist', () => {
    const doc = readFileSync(`${PROJECT_ROOT}/docs/errors.md`, 'utf8');
    const documented = new Set([...doc.matchAll(/`(SD_ERR_[A-Z0-9_]+)`/g)].map((m) => m[1]));
    const codes = new Set<string>(Object.values(ERRORS).map((e) => e.code));
    expect([...codes].filter((c) => !documented.has(c))).toEqual([]);
    expect(
      [...documented].filter((c) => c !== undefined && !codes.has(c) && c !== 'SD_ERR_UNEXPECTED'),
    ).toEqual([]);
  });

  it('errors carry code and retriable flag from the catalogue; detail never reaches the summary', () => {
    const error = new StreamdeskError('STACK_READY_TIMEOUT', 'kafka did not answer', {
      detail: 'alice@example.com',
    });
    expect(error.code).toBe('SD_ERR_STACK_READY_TIMEOUT');
    expect(error.retriable).toBe(true);
    const summary = safeErrorSummary(error);
    expect(JSON.stringify(summary)).not.toContain('alice');
    expect(summary).toEqual({
      code: 'SD_ERR_STACK_READY_TIMEOUT',
      message: 'kafka did not answer',
      retriable: true,
    });
  });

  it('a foreign error is summarised by its class only (its message may hold customer text)', () => {
    expect(safeErrorSummary(new TypeError('bad +15551234567'))).toEqual({
      code: 'SD_ERR_UNEXPECTED',
      message: 'TypeError',
      retriable: false,
    });
  });
});
