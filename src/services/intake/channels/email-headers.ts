/**
 * RFC 5322 pieces the email providers leave to us (pure): header blocks, Message-ID lists, addresses,
 * dates, spam verdicts.
 */

export type HeaderList = readonly (readonly [name: string, value: string])[];

/** Parse a raw header block ("Name: value" lines, folded continuation lines unfolded). */
export function parseHeaderBlock(raw: string): [string, string][] {
  const headers: [string, string][] = [];
  for (const line of raw.replace(/\r\n/g, '\n').split('\n')) {
    if (line === '') break; // end of the header block
    const last = headers.at(-1);
    if (/^[ \t]/.test(line) && last) {
      last[1] = `${last[1]} ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  }
  return headers;
}

/** The first value of a header, by case-insensitive name. */
export function header(headers: HeaderList, name: string): string | undefined {
  const lower = name.toLowerCase();
  return headers.find(([n]) => n.toLowerCase() === lower)?.[1];
}

/**
 * Message-IDs from a Message-ID / In-Reply-To / References value, without angle brackets, in order.
 * Tolerates missing brackets (some providers strip them) and comments between ids.
 */
export function parseMessageIds(value: string | undefined): string[] {
  if (value === undefined) return [];
  const bracketed = [...value.matchAll(/<([^<>\s]+)>/g)].map((m) => m[1] ?? '');
  if (bracketed.length > 0) return bracketed.filter((id) => id.includes('@'));
  return value
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter((s) => s.includes('@') && !s.includes('<') && !s.includes('>'));
}

export interface Address {
  readonly address: string;
  readonly name: string | undefined;
}

/**
 * Parse one mailbox ("Alice Example" <alice@example.com>, alice@example.com, or Alice <a@b>). The
 * address is returned as given (the ksql topology lower-cases and trims it into the contact key).
 */
export function parseAddress(value: string | undefined): Address | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  const angle = /^(.*)<([^<>]+)>\s*$/.exec(trimmed);
  if (angle) {
    const name = (angle[1] ?? '')
      .trim()
      .replace(/^"(.*)"$/, '$1')
      .replace(/\\(.)/g, '$1')
      .trim();
    return { address: (angle[2] ?? '').trim(), name: name === '' ? undefined : name };
  }
  const plain = /^\S+@\S+$/.exec(trimmed);
  return plain ? { address: trimmed, name: undefined } : undefined;
}

/** Split an address list on commas outside quotes and angle brackets. */
export function parseAddressList(value: string | undefined): Address[] {
  if (value === undefined) return [];
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  let angle = 0;
  for (const ch of value) {
    if (ch === '"') quoted = !quoted;
    else if (ch === '<' && !quoted) angle++;
    else if (ch === '>' && !quoted) angle = Math.max(0, angle - 1);
    if (ch === ',' && !quoted && angle === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts.map(parseAddress).filter((a): a is Address => a !== undefined);
}

/** An RFC 5322 Date as epoch milliseconds, or undefined. */
export function parseEmailDate(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value.replace(/\s*\([^)]*\)\s*$/, ''));
  return Number.isNaN(ms) ? undefined : ms;
}

export interface SpamVerdict {
  readonly flagged: boolean;
  readonly score: number | undefined;
  readonly status: string | undefined;
}

/**
 * The provider's spam verdict from X-Spam-Status ("Yes, score=7.1 ..."), X-Spam-Flag, X-Spam-Score
 * or a provider score field. No verdict at all means not flagged.
 */
export function spamVerdict(
  headers: HeaderList,
  providerScore?: string,
  providerFlagged = false,
): SpamVerdict {
  const status = header(headers, 'X-Spam-Status');
  const flag = header(headers, 'X-Spam-Flag');
  const scoreText =
    providerScore ??
    header(headers, 'X-Spam-Score') ??
    (status ? /score=(-?[\d.]+)/i.exec(status)?.[1] : undefined);
  const score = scoreText === undefined || Number.isNaN(Number(scoreText)) ? undefined : Number(scoreText);
  const flagged =
    providerFlagged ||
    (status !== undefined && /^\s*yes\b/i.test(status)) ||
    (flag !== undefined && /^\s*yes\b/i.test(flag));
  return { flagged, score, status };
}
