/**
 * Tokenizer for ksqlDB's SQL dialect (lexical rules of `SqlBase.g4`): identifiers are upper-cased
 * later by the parser unless quoted with backticks or double quotes; strings use single quotes with
 * `''` as the escape; `--` and `/* *\/` comments are skipped.
 */
import { KsqlError } from '../errors.ts';

export type TokenKind =
  | 'ident' // bare identifier (case preserved here; the parser upper-cases it)
  | 'quoted' // `backticked` or "double quoted" identifier (case preserved)
  | 'string'
  | 'integer'
  | 'decimal'
  | 'double'
  | 'op'
  | 'eof';

export interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  /** For 'quoted' and 'string': the unescaped content. */
  readonly value: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly column: number;
  /** Offset of the first character in the source text. */
  readonly start: number;
  readonly end: number;
}

const OPERATORS = [
  ':=',
  '=>',
  '->',
  '<=',
  '>=',
  '<>',
  '!=',
  '||',
  '=',
  '<',
  '>',
  '+',
  '-',
  '*',
  '/',
  '%',
  '(',
  ')',
  '[',
  ']',
  ',',
  '.',
  ';',
  ':',
];

function isIdentStart(c: string): boolean {
  return /[A-Za-z_]/.test(c) || c > '\u007f';
}

function isIdentPart(c: string): boolean {
  return /[A-Za-z0-9_@$]/.test(c) || c > '\u007f';
}

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;

  const at = (k: number): string => text[k] ?? '';
  const advance = (to: number): void => {
    for (let k = i; k < to; k++) {
      if (text[k] === '\n') {
        line++;
        lineStart = k + 1;
      }
    }
    i = to;
  };

  while (i < text.length) {
    const c = at(i);
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      advance(i + 1);
      continue;
    }
    if (c === '-' && at(i + 1) === '-') {
      let j = i;
      while (j < text.length && text[j] !== '\n') j++;
      advance(j);
      continue;
    }
    if (c === '/' && at(i + 1) === '*') {
      const close = text.indexOf('*/', i + 2);
      advance(close < 0 ? text.length : close + 2);
      continue;
    }
    const startLine = line;
    const startColumn = i - lineStart + 1;
    const push = (kind: TokenKind, end: number, value: string): void => {
      tokens.push({
        kind,
        text: text.slice(i, end),
        value,
        line: startLine,
        column: startColumn,
        start: i,
        end,
      });
      advance(end);
    };

    if (c === "'" || c === '`' || c === '"') {
      let j = i + 1;
      let value = '';
      for (;;) {
        if (j >= text.length) {
          throw new KsqlError('parse', `line ${startLine}:${startColumn}: unterminated ${c} quote`, {
            line: startLine,
            column: startColumn,
          });
        }
        const d = text[j] ?? '';
        if (d === c) {
          if (at(j + 1) === c) {
            value += c;
            j += 2;
            continue;
          }
          break;
        }
        value += d;
        j++;
      }
      push(c === "'" ? 'string' : 'quoted', j + 1, value);
      continue;
    }

    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(at(i + 1)))) {
      let j = i;
      while (/[0-9]/.test(at(j))) j++;
      let kind: TokenKind = 'integer';
      if (at(j) === '.' && at(j + 1) !== '.') {
        kind = 'decimal';
        j++;
        while (/[0-9]/.test(at(j))) j++;
      }
      if ((at(j) === 'E' || at(j) === 'e') && /[0-9+-]/.test(at(j + 1))) {
        let k = j + 1;
        if (at(k) === '+' || at(k) === '-') k++;
        if (/[0-9]/.test(at(k))) {
          while (/[0-9]/.test(at(k))) k++;
          j = k;
          kind = 'double';
        }
      }
      if (isIdentStart(at(j))) {
        // ksqlDB's DIGIT_IDENTIFIER (e.g. 1abc): lexed as one token, rejected by the parser.
        while (isIdentPart(at(j))) j++;
        push('ident', j, text.slice(i, j));
        continue;
      }
      push(kind, j, text.slice(i, j));
      continue;
    }

    if (isIdentStart(c)) {
      let j = i + 1;
      while (j < text.length && isIdentPart(at(j))) j++;
      push('ident', j, text.slice(i, j));
      continue;
    }

    const op = OPERATORS.find((o) => text.startsWith(o, i));
    if (op !== undefined) {
      push('op', i + op.length, op);
      continue;
    }
    throw new KsqlError(
      'parse',
      `line ${startLine}:${startColumn}: Syntax Error\nUnexpected character '${c}'`,
      {
        line: startLine,
        column: startColumn,
      },
    );
  }
  tokens.push({ kind: 'eof', text: '', value: '', line, column: i - lineStart + 1, start: i, end: i });
  return tokens;
}
