import { describe, expect, it } from 'vitest';
import { isStreamdeskError } from '../errors.ts';
import { planReplay, selectDeadLetters, summarize, type DeadLetter } from './dlt.ts';

const letter = (offset: number, over: Partial<DeadLetter> = {}): DeadLetter => ({
  partition: 0,
  offset: BigInt(offset),
  originalTopic: 'processing.tickets.in',
  originalPartition: 1,
  originalOffset: String(100 + offset),
  attempts: 1,
  errorCode: 'SD_ERR_RECORD_INVALID',
  errorMessage: 'bad',
  failedAt: 1_000 + offset,
  replayed: false,
  key: null,
  value: Buffer.from('v'),
  headers: {},
  timestamp: '0',
  ...over,
});

describe('dead letters', () => {
  const letters = [
    letter(0, { replayed: true }),
    letter(1, { replayed: true, errorCode: 'SD_ERR_RECORD_UNDECODABLE' }),
    letter(2),
    letter(3, { errorCode: 'SD_ERR_RECORD_UNDECODABLE' }),
  ];

  it('a plain replay takes what is after the position and moves it', () => {
    const plan = planReplay(letters, {});
    expect(plan.letters.map((l) => l.offset)).toEqual([2n, 3n]);
    expect(plan.movesPosition).toBe(true);
  });

  it('a selection takes what it names, replayed or not, and leaves the position', () => {
    const byCode = planReplay(letters, { errorCode: 'SD_ERR_RECORD_UNDECODABLE' });
    expect(byCode.letters.map((l) => l.offset)).toEqual([1n, 3n]);
    expect(byCode.movesPosition).toBe(false);
    expect(selectDeadLetters(letters, { offsets: { from: 1n, to: 2n } }).map((l) => l.offset)).toEqual([
      1n,
      2n,
    ]);
    expect(selectDeadLetters(letters, { offsets: { from: 0n, to: 9n, partition: 1 } })).toEqual([]);
  });

  it('refuses a replay that includes a record without origin', () => {
    const withOrphan = [...letters, letter(4, { originalTopic: undefined })];
    let caught: unknown;
    try {
      planReplay(withOrphan, {});
    } catch (error) {
      caught = error;
    }
    expect(isStreamdeskError(caught) && caught.code).toBe('SD_ERR_DLT_REPLAY_REFUSED');
    expect(planReplay(withOrphan, { offsets: { from: 2n, to: 3n } }).letters).toHaveLength(2);
  });

  it('summarizes by error code with the failure time span', () => {
    expect(summarize('t.dlt', letters)).toEqual({
      topic: 't.dlt',
      records: 4,
      pending: 2,
      byErrorCode: { SD_ERR_RECORD_INVALID: 2, SD_ERR_RECORD_UNDECODABLE: 2 },
      oldestFailure: 1000,
      newestFailure: 1003,
    });
  });
});
