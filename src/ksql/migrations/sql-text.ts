/**
 * Client-side handling of a migration file's text, as ksql-migrations does it (CommandParser): split
 * on `;` outside quotes and comments, DEFINE/UNDEFINE, `${name}` substitution, and the statement
 * kind that decides where a statement goes. Pure.
 */
import { StreamdeskError } from '../../errors.ts';

export interface SqlStatement {
  /** The statement as written, without the trailing `;`, trimmed. */
  readonly text: string;
  /** 1-based line of the statement's first character in the file. */
  readonly line: number;
}

/** Split on `;` outside '…' strings, `…` and "…" identifiers, -- and /* *\/ comments. */
export function splitStatements(source: string, fileName: string): SqlStatement[] {
  const out: SqlStatement[] = [];
  let start = 0;
  let i = 0;
  const push = (end: number): void => {
    const raw = source.slice(start, end);
    const text = stripComments(raw).trim();
    if (text !== '') {
      const lead = raw.length - raw.trimStart().length;
      out.push({ text: raw.trim(), line: lineAt(source, start + lead) });
    }
  };
  while (i < source.length) {
    const c = source[i];
    if (c === "'" || c === '`' || c === '"') {
      const close = closingQuote(source, i, c);
      if (close < 0) {
        throw new StreamdeskError(
          'MIGRATION_INVALID',
          `${fileName}:${lineAt(source, i)}: unterminated ${c} quote`,
        );
      }
      i = close + 1;
    } else if (c === '-' && source[i + 1] === '-') {
      const nl = source.indexOf('\n', i);
      i = nl < 0 ? source.length : nl + 1;
    } else if (c === '/' && source[i + 1] === '*') {
      const end = source.indexOf('*/', i + 2);
      if (end < 0)
        throw new StreamdeskError(
          'MIGRATION_INVALID',
          `${fileName}:${lineAt(source, i)}: unterminated comment`,
        );
      i = end + 2;
    } else if (c === ';') {
      push(i);
      i += 1;
      start = i;
    } else {
      i += 1;
    }
  }
  const tail = stripComments(source.slice(start)).trim();
  if (tail !== '') {
    throw new StreamdeskError(
      'MIGRATION_INVALID',
      `${fileName}:${lineAt(source, start + (source.slice(start).length - source.slice(start).trimStart().length))}: the last statement does not end with ';'`,
    );
  }
  return out;
}

/** Index of the quote closing the one at `open` (a doubled quote is an escaped one), or -1. */
function closingQuote(source: string, open: number, quote: string): number {
  let i = open + 1;
  while (i < source.length) {
    if (source[i] === quote) {
      if (source[i + 1] === quote) {
        i += 2;
        continue;
      }
      return i;
    }
    i += 1;
  }
  return -1;
}

/** The text with comments removed (quotes respected). */
export function stripComments(source: string): string {
  let out = '';
  let i = 0;
  while (i < source.length) {
    const c = source[i] ?? '';
    if (c === "'" || c === '`' || c === '"') {
      const close = closingQuote(source, i, c);
      const end = close < 0 ? source.length : close + 1;
      out += source.slice(i, end);
      i = end;
    } else if (c === '-' && source[i + 1] === '-') {
      const nl = source.indexOf('\n', i);
      i = nl < 0 ? source.length : nl;
    } else if (c === '/' && source[i + 1] === '*') {
      const end = source.indexOf('*/', i + 2);
      i = end < 0 ? source.length : end + 2;
      out += ' ';
    } else {
      out += c;
      i += 1;
    }
  }
  return out;
}

export function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i += 1) if (text.charCodeAt(i) === 10) line += 1;
  return line;
}

export type StatementKind =
  | { readonly kind: 'define'; readonly name: string; readonly value: string }
  | { readonly kind: 'undefine'; readonly name: string }
  | { readonly kind: 'set'; readonly property: string; readonly value: string }
  | { readonly kind: 'unset'; readonly property: string }
  | { readonly kind: 'rejected'; readonly verb: string }
  | { readonly kind: 'server' };

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_@]*$/;
const QUOTED = String.raw`'((?:[^']|'')*)'`;
const DEFINE = new RegExp(String.raw`^DEFINE\s+([A-Za-z_][A-Za-z0-9_@]*)\s*=\s*${QUOTED}$`, 'is');
const UNDEFINE = /^UNDEFINE\s+([A-Za-z_][A-Za-z0-9_@]*)$/is;
const SET = new RegExp(String.raw`^SET\s+${QUOTED}\s*=\s*${QUOTED}$`, 'is');
const UNSET = new RegExp(String.raw`^UNSET\s+${QUOTED}$`, 'is');
/** Statements ksql-migrations refuses in a migration file. */
const REJECTED = new Set(['SELECT', 'DESCRIBE', 'EXPLAIN', 'PRINT', 'SHOW', 'LIST']);

const unquote = (s: string): string => s.replaceAll("''", "'");

/** What a (substituted, comment-free) statement is. */
export function classify(statement: string): StatementKind {
  const text = stripComments(statement).trim();
  const verb = (/^[A-Za-z]+/.exec(text)?.[0] ?? '').toUpperCase();
  let m: RegExpExecArray | null;
  if (verb === 'DEFINE') {
    if ((m = DEFINE.exec(text)) && m[1] !== undefined && m[2] !== undefined)
      return { kind: 'define', name: m[1], value: unquote(m[2]) };
    throw new StreamdeskError('MIGRATION_INVALID', "DEFINE must read DEFINE name = 'value'");
  }
  if (verb === 'UNDEFINE') {
    if ((m = UNDEFINE.exec(text)) && m[1] !== undefined) return { kind: 'undefine', name: m[1] };
    throw new StreamdeskError('MIGRATION_INVALID', 'UNDEFINE must read UNDEFINE name');
  }
  if (verb === 'SET') {
    if ((m = SET.exec(text)) && m[1] !== undefined && m[2] !== undefined)
      return { kind: 'set', property: unquote(m[1]), value: unquote(m[2]) };
    throw new StreamdeskError('MIGRATION_INVALID', "SET must read SET 'property' = 'value'");
  }
  if (verb === 'UNSET') {
    if ((m = UNSET.exec(text)) && m[1] !== undefined) return { kind: 'unset', property: unquote(m[1]) };
    throw new StreamdeskError('MIGRATION_INVALID', "UNSET must read UNSET 'property'");
  }
  if (REJECTED.has(verb)) return { kind: 'rejected', verb };
  return { kind: 'server' };
}

/**
 * Replace every `${name}`. Inside a '…' literal the value is escaped (quotes doubled); elsewhere it is
 * inserted as is and must be an identifier, a number or a boolean (ksqlDB's rule: other text would
 * change the statement's structure). An unknown name is an error, never left in place.
 */
export function substitute(statement: string, variables: ReadonlyMap<string, string>): string {
  let out = '';
  let i = 0;
  let inString = false;
  while (i < statement.length) {
    const c = statement[i] ?? '';
    if (c === "'") {
      if (inString && statement[i + 1] === "'") {
        out += "''";
        i += 2;
        continue;
      }
      inString = !inString;
      out += c;
      i += 1;
      continue;
    }
    if (!inString && c === '-' && statement[i + 1] === '-') {
      const nl = statement.indexOf('\n', i);
      const end = nl < 0 ? statement.length : nl;
      out += statement.slice(i, end);
      i = end;
      continue;
    }
    if (c === '$' && statement[i + 1] === '{') {
      const close = statement.indexOf('}', i + 2);
      const name = close < 0 ? '' : statement.slice(i + 2, close).trim();
      if (close < 0 || !IDENTIFIER.test(name)) {
        throw new StreamdeskError(
          'MIGRATION_INVALID',
          `malformed variable reference near "${statement.slice(i, i + 20)}"`,
        );
      }
      const value = lookup(variables, name);
      if (value === undefined) {
        throw new StreamdeskError(
          'MIGRATION_INVALID',
          `variable \${${name}} is not defined (DEFINE it in the file or pass --define ${name}=...)`,
        );
      }
      if (inString) out += value.replaceAll("'", "''");
      else if (IDENTIFIER.test(value) || /^-?[0-9]+(\.[0-9]+)?$/.test(value)) out += value;
      else {
        throw new StreamdeskError(
          'MIGRATION_INVALID',
          `variable \${${name}} is used outside quotes but its value is not an identifier, a number or a boolean; quote the reference ('\${${name}}')`,
        );
      }
      i = close + 1;
      continue;
    }
    out += c;
    i += 1;
  }
  return out;
}

/** Variable names are case-insensitive in ksqlDB. */
function lookup(variables: ReadonlyMap<string, string>, name: string): string | undefined {
  return variables.get(name.toUpperCase());
}

/** Parse `name=value` (from --define). */
export function parseDefine(arg: string): [string, string] {
  const at = arg.indexOf('=');
  const name = at < 0 ? '' : arg.slice(0, at).trim();
  if (!IDENTIFIER.test(name)) {
    throw new StreamdeskError(
      'CLI_USAGE',
      `--define must be name=value with an identifier name (got "${arg.slice(0, 40)}")`,
    );
  }
  return [name.toUpperCase(), arg.slice(at + 1)];
}
