import { describe, expect, it } from 'vitest';
import {
  parseAddress,
  parseAddressList,
  parseEmailDate,
  parseHeaderBlock,
  parseMessageIds,
  spamVerdict,
} from './email-headers.ts';

describe('email header parsing', () => {
  it('unfolds continuation lines and stops at the blank line', () => {
    const headers = parseHeaderBlock(
      'Subject: a long\r\n  subject line\r\nReferences: <a@x>\r\n\t<b@x>\r\n\r\nBody: not a header',
    );
    expect(headers).toEqual([
      ['Subject', 'a long subject line'],
      ['References', '<a@x> <b@x>'],
    ]);
  });

  it('extracts Message-IDs without angle brackets, in order, tolerating comments and missing brackets', () => {
    expect(parseMessageIds('<root@x.example> (comment) <mid@x.example>')).toEqual([
      'root@x.example',
      'mid@x.example',
    ]);
    expect(parseMessageIds('bare@x.example')).toEqual(['bare@x.example']);
    expect(parseMessageIds('<not-an-id>')).toEqual([]);
    expect(parseMessageIds(undefined)).toEqual([]);
  });

  it('parses mailboxes with quoted and escaped display names, keeping the address as given', () => {
    expect(parseAddress('"Example, Alice \\"Al\\"" <Alice@Example.COM>')).toEqual({
      address: 'Alice@Example.COM',
      name: 'Example, Alice "Al"',
    });
    expect(parseAddress('bob@example.org')).toEqual({ address: 'bob@example.org', name: undefined });
    expect(parseAddress('no address here')).toBeUndefined();
    expect(parseAddressList('"Doe, J" <j@x.example>, k@x.example').map((a) => a.address)).toEqual([
      'j@x.example',
      'k@x.example',
    ]);
  });

  it('parses RFC 5322 dates, including a trailing zone comment', () => {
    expect(parseEmailDate('Tue, 8 Apr 2025 10:00:00 +0000 (UTC)')).toBe(Date.UTC(2025, 3, 8, 10));
    expect(parseEmailDate('yesterday')).toBeUndefined();
  });

  it('reads the spam verdict from X-Spam-Status / X-Spam-Flag / a provider score', () => {
    expect(spamVerdict([['X-Spam-Status', 'Yes, score=7.3 required=5.0']])).toEqual({
      flagged: true,
      score: 7.3,
      status: 'Yes, score=7.3 required=5.0',
    });
    expect(spamVerdict([['X-Spam-Flag', 'YES']]).flagged).toBe(true);
    expect(spamVerdict([], '2.5')).toEqual({ flagged: false, score: 2.5, status: undefined });
    expect(spamVerdict([], '9.1', true).flagged).toBe(true);
  });
});
