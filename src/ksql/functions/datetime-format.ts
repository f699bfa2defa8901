/**
 * Java DateTimeFormatter / SimpleDateFormat patterns, the subset ksqlDB users write: y M d H h k K m s
 * S a E D z Z X x, quoted literals ('T', '' for a quote). Time zones: 'UTC', fixed offsets and IANA
 * names (offsets from Intl). Formatting and parsing work in UTC milliseconds.
 */

type Token =
  | { readonly kind: 'literal'; readonly text: string }
  | { readonly kind: 'field'; readonly letter: string; readonly count: number };

const cache = new Map<string, Token[]>();

export function compilePattern(pattern: string): Token[] {
  const hit = cache.get(pattern);
  if (hit !== undefined) return hit;
  const tokens: Token[] = [];
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i] ?? '';
    if (c === "'") {
      if (pattern[i + 1] === "'") {
        tokens.push({ kind: 'literal', text: "'" });
        i += 2;
        continue;
      }
      let j = i + 1;
      let text = '';
      while (j < pattern.length) {
        if (pattern[j] === "'") {
          if (pattern[j + 1] === "'") {
            text += "'";
            j += 2;
            continue;
          }
          break;
        }
        text += pattern[j] ?? '';
        j++;
      }
      if (j >= pattern.length) throw new Error(`Unterminated quote in pattern: ${pattern}`);
      tokens.push({ kind: 'literal', text });
      i = j + 1;
      continue;
    }
    if (/[A-Za-z]/.test(c)) {
      if (!'GyuYMLdDEeaHhKkmsSAnNzZXxVO'.includes(c)) throw new Error(`Unknown pattern letter: ${c}`);
      let j = i;
      while (pattern[j] === c) j++;
      tokens.push({ kind: 'field', letter: c, count: j - i });
      i = j;
      continue;
    }
    tokens.push({ kind: 'literal', text: c });
    i++;
  }
  cache.set(pattern, tokens);
  return tokens;
}

/** Validates a pattern the way creating a DateTimeFormatter would (throws on an illegal one). */
export function validatePattern(pattern: string): void {
  compilePattern(pattern);
}

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** Offset of `zone` from UTC at instant `ms`, in minutes. */
export function zoneOffsetMinutes(zone: string, ms: number): number {
  const z = zone.trim();
  if (z === '' || z === 'UTC' || z === 'GMT' || z === 'Z' || z === 'UT') return 0;
  const fixed = /^(?:UTC|GMT|UT)?([+-])(\d{1,2})(?::?(\d{2}))?$/.exec(z);
  if (fixed !== null) {
    const sign = fixed[1] === '-' ? -1 : 1;
    return sign * (Number(fixed[2]) * 60 + Number(fixed[3] ?? '0'));
  }
  let dtf: Intl.DateTimeFormat;
  try {
    dtf = new Intl.DateTimeFormat('en-US', {
      timeZone: z,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch {
    throw new Error(`Unknown time-zone ID: ${zone}`);
  }
  const parts = Object.fromEntries(dtf.formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  const asUtc = Date.UTC(
    Number(parts.year),
    Number(parts.month) - 1,
    Number(parts.day),
    Number(parts.hour),
    Number(parts.minute),
    Number(parts.second),
  );
  return Math.round((asUtc - Math.floor(ms / 1000) * 1000) / 60_000);
}

export function assertZone(zone: string): void {
  zoneOffsetMinutes(zone, 0);
}

function pad(n: number, width: number): string {
  const s = String(Math.abs(n)).padStart(width, '0');
  return n < 0 ? `-${s}` : s;
}

function formatOffset(minutes: number, letter: string, count: number): string {
  if (letter === 'X' && minutes === 0) return 'Z';
  const sign = minutes < 0 ? '-' : '+';
  const a = Math.abs(minutes);
  const hh = pad(Math.floor(a / 60), 2);
  const mm = pad(a % 60, 2);
  if (letter === 'Z')
    return count === 4 ? (minutes === 0 ? 'GMT' : `GMT${sign}${hh}:${mm}`) : `${sign}${hh}${mm}`;
  if (count === 1) return mm === '00' ? `${sign}${hh}` : `${sign}${hh}${mm}`;
  if (count === 2 || count === 4) return `${sign}${hh}${mm}`;
  return `${sign}${hh}:${mm}`;
}

export function formatMillis(ms: number, pattern: string, zone = 'UTC'): string {
  const tokens = compilePattern(pattern);
  const offset = zoneOffsetMinutes(zone, ms);
  const d = new Date(ms + offset * 60_000);
  let out = '';
  for (const t of tokens) {
    if (t.kind === 'literal') {
      out += t.text;
      continue;
    }
    const n = t.count;
    switch (t.letter) {
      case 'y':
      case 'u':
      case 'Y': {
        const y = d.getUTCFullYear();
        out += n === 2 ? pad(y % 100, 2) : pad(y, n);
        break;
      }
      case 'M':
      case 'L': {
        const m = d.getUTCMonth();
        out += n >= 4 ? (MONTHS[m] ?? '') : n === 3 ? (MONTHS[m] ?? '').slice(0, 3) : pad(m + 1, n);
        break;
      }
      case 'd':
        out += pad(d.getUTCDate(), n);
        break;
      case 'D': {
        const start = Date.UTC(d.getUTCFullYear(), 0, 1);
        out += pad(Math.floor((d.getTime() - start) / 86_400_000) + 1, n);
        break;
      }
      case 'E':
      case 'e': {
        const day = DAYS[d.getUTCDay()] ?? '';
        out += n >= 4 ? day : day.slice(0, 3);
        break;
      }
      case 'a':
        out += d.getUTCHours() < 12 ? 'AM' : 'PM';
        break;
      case 'H':
        out += pad(d.getUTCHours(), n);
        break;
      case 'k':
        out += pad(d.getUTCHours() === 0 ? 24 : d.getUTCHours(), n);
        break;
      case 'h':
        out += pad(d.getUTCHours() % 12 === 0 ? 12 : d.getUTCHours() % 12, n);
        break;
      case 'K':
        out += pad(d.getUTCHours() % 12, n);
        break;
      case 'm':
        out += pad(d.getUTCMinutes(), n);
        break;
      case 's':
        out += pad(d.getUTCSeconds(), n);
        break;
      case 'S': {
        const frac = pad(d.getUTCMilliseconds(), 3) + '000000';
        out += frac.slice(0, n);
        break;
      }
      case 'A':
        out += String(((ms % 86_400_000) + 86_400_000) % 86_400_000);
        break;
      case 'n':
        out += String(d.getUTCMilliseconds() * 1_000_000);
        break;
      case 'z':
        out += zone === 'UTC' || offset === 0 ? 'UTC' : zone;
        break;
      case 'V':
        out += zone;
        break;
      case 'O':
        out += offset === 0 ? 'GMT' : `GMT${formatOffset(offset, 'x', 3)}`;
        break;
      case 'Z':
      case 'X':
      case 'x':
        out += formatOffset(offset, t.letter, n);
        break;
      default:
        throw new Error(`Unsupported pattern letter: ${t.letter}`);
    }
  }
  return out;
}

interface Fields {
  year: number;
  month: number;
  day: number;
  dayOfYear?: number;
  hour: number;
  minute: number;
  second: number;
  millis: number;
  pm?: boolean;
  hour12?: number;
  offsetMinutes?: number;
  zone?: string;
}

/**
 * Parses `text` with `pattern`; missing fields default to 1970-01-01T00:00:00.000 in `zone`.
 * Throws on text that does not match.
 */
export function parseToMillis(text: string, pattern: string, zone = 'UTC', allowTrailing = false): number {
  const tokens = compilePattern(pattern);
  const f: Fields = { year: 1970, month: 1, day: 1, hour: 0, minute: 0, second: 0, millis: 0 };
  let i = 0;
  const fail = (): never => {
    throw new Error(`Text '${text}' could not be parsed at index ${i}`);
  };
  const digits = (min: number, max: number): number => {
    let j = i;
    if (text[j] === '+' || text[j] === '-') j++;
    while (j < text.length && j - i < max && /[0-9]/.test(text[j] ?? '')) j++;
    if (j - i < min) fail();
    const n = Number(text.slice(i, j));
    i = j;
    return n;
  };
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k] as Token;
    if (t.kind === 'literal') {
      if (text.startsWith(t.text, i)) i += t.text.length;
      else fail();
      continue;
    }
    const next = tokens[k + 1];
    // Adjacent numeric fields (yyyyMMdd) use fixed widths.
    const adjacent = next !== undefined && next.kind === 'field' && /[yuYMdDHhkKmsS]/.test(next.letter);
    const n = t.count;
    const width = (min: number): [number, number] => (adjacent ? [n, n] : [Math.min(n, min), n > 2 ? n : 10]);
    switch (t.letter) {
      case 'y':
      case 'u':
      case 'Y': {
        if (n === 2) {
          const y = digits(2, 2);
          f.year = 2000 + y;
        } else {
          const [a, b] = adjacent ? [n, n] : [n, 10];
          f.year = digits(a, b);
        }
        break;
      }
      case 'M':
      case 'L':
        if (n >= 3) {
          const idx = MONTHS.findIndex((m) =>
            text
              .slice(i)
              .toLowerCase()
              .startsWith((n === 3 ? m.slice(0, 3) : m).toLowerCase()),
          );
          if (idx < 0) fail();
          i += n === 3 ? 3 : (MONTHS[idx] ?? '').length;
          f.month = idx + 1;
        } else f.month = digits(...width(1));
        break;
      case 'd':
        f.day = digits(...width(1));
        break;
      case 'D':
        f.dayOfYear = digits(...width(1));
        break;
      case 'E':
      case 'e': {
        const idx = DAYS.findIndex((d) =>
          text
            .slice(i)
            .toLowerCase()
            .startsWith((n >= 4 ? d : d.slice(0, 3)).toLowerCase()),
        );
        if (idx < 0) fail();
        i += n >= 4 ? (DAYS[idx] ?? '').length : 3;
        break;
      }
      case 'a': {
        const s = text.slice(i, i + 2).toUpperCase();
        if (s !== 'AM' && s !== 'PM') fail();
        f.pm = s === 'PM';
        i += 2;
        break;
      }
      case 'H':
      case 'k':
        f.hour = digits(...width(1)) % 24;
        break;
      case 'h':
      case 'K':
        f.hour12 = digits(...width(1)) % 12;
        break;
      case 'm':
        f.minute = digits(...width(1));
        break;
      case 's':
        f.second = digits(...width(1));
        break;
      case 'S': {
        const start = i;
        const max = adjacent ? n : 9;
        while (i < text.length && i - start < max && /[0-9]/.test(text[i] ?? '')) i++;
        if (i - start < (adjacent ? n : 1)) fail();
        f.millis = Number(text.slice(start, i).padEnd(3, '0').slice(0, 3));
        break;
      }
      case 'X':
      case 'x':
      case 'Z':
      case 'O': {
        if ((t.letter === 'X' || t.letter === 'Z') && text[i] === 'Z') {
          f.offsetMinutes = 0;
          i++;
          break;
        }
        if (text.startsWith('GMT', i) || text.startsWith('UTC', i)) {
          i += 3;
          if (text[i] !== '+' && text[i] !== '-') {
            f.offsetMinutes = 0;
            break;
          }
        }
        const m = /^([+-])(\d{2})(?::?(\d{2}))?/.exec(text.slice(i));
        if (m === null) fail();
        else {
          f.offsetMinutes = (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3] ?? '0'));
          i += m[0].length;
        }
        break;
      }
      case 'z':
      case 'V': {
        const m = /^[A-Za-z_/+\-0-9:]+/.exec(text.slice(i));
        if (m === null) fail();
        else {
          f.zone = m[0];
          i += m[0].length;
        }
        break;
      }
      default:
        throw new Error(`Unsupported pattern letter: ${t.letter}`);
    }
  }
  if (i !== text.length && !allowTrailing) fail();
  if (f.hour12 !== undefined) f.hour = f.hour12 + (f.pm === true ? 12 : 0);
  else if (f.pm === true && f.hour < 12) f.hour += 12;
  if (f.month < 1 || f.month > 12 || f.day < 1 || f.day > 31 || f.minute > 59 || f.second > 59) fail();
  let local =
    f.dayOfYear !== undefined
      ? Date.UTC(f.year, 0, 1) +
        (f.dayOfYear - 1) * 86_400_000 +
        ((f.hour * 60 + f.minute) * 60 + f.second) * 1000 +
        f.millis
      : Date.UTC(f.year, f.month - 1, f.day, f.hour, f.minute, f.second, f.millis);
  if (f.year >= 0 && f.year < 100 && f.dayOfYear === undefined) {
    const d = new Date(local);
    d.setUTCFullYear(f.year);
    local = d.getTime();
  }
  if (f.dayOfYear === undefined) {
    const check = new Date(local);
    if (check.getUTCDate() !== f.day) fail();
  }
  if (f.offsetMinutes !== undefined) return local - f.offsetMinutes * 60_000;
  const z = f.zone ?? zone;
  // Resolve the zone offset at the local time (two passes handle DST edges well enough).
  let offset = zoneOffsetMinutes(z, local);
  offset = zoneOffsetMinutes(z, local - offset * 60_000);
  return local - offset * 60_000;
}
