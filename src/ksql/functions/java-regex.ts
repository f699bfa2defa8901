/**
 * Java regular expressions on JavaScript's engine: the common dialect is shared; this maps the
 * differences that show up in practice (leading inline flags, \A \Z \z, POSIX classes, possessive
 * quantifiers) and caches compiled patterns.
 */

const cache = new Map<string, RegExp>();

const POSIX: Record<string, string> = {
  Lower: 'a-z',
  Upper: 'A-Z',
  ASCII: '\\x00-\\x7F',
  Alpha: 'a-zA-Z',
  Digit: '0-9',
  Alnum: 'a-zA-Z0-9',
  Punct: '!-\\/:-@\\[-`{-~',
  Space: ' \\t\\n\\x0B\\f\\r',
  XDigit: '0-9a-fA-F',
};

export function javaRegex(pattern: string, global = false): RegExp {
  const key = `${global ? 'g' : ''}:${pattern}`;
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  let source = pattern;
  let flags = global ? 'g' : '';
  const inline = /^\(\?([imsx]+)\)/.exec(source);
  if (inline !== null) {
    for (const f of inline[1] ?? '') if (f !== 'x' && !flags.includes(f)) flags += f;
    source = source.slice(inline[0].length);
  }
  source = source
    .replace(/\\A/g, '^')
    .replace(/\\[Zz]/g, '$')
    .replace(/\\p\{(\w+)\}/g, (m, name: string) => {
      const cls = POSIX[name];
      return cls === undefined ? m : `[${cls}]`;
    })
    .replace(/([*+?}])\+/g, '$1');
  const re = new RegExp(source, flags);
  cache.set(key, re);
  return re;
}

/** Java's Matcher.replaceAll replacement syntax ($1, ${name}, \$) → JavaScript's. */
export function javaReplacement(replacement: string): string {
  let out = '';
  for (let i = 0; i < replacement.length; i++) {
    const c = replacement[i] ?? '';
    if (c === '\\' && i + 1 < replacement.length) {
      const n = replacement[i + 1] ?? '';
      out += n === '$' ? '$$' : n;
      i++;
    } else {
      out += c;
    }
  }
  return out;
}
