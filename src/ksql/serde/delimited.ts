/**
 * DELIMITED format: one CSV line per record (Apache Commons CSV, RFC 4180 quoting, MINIMAL quote mode
 * as ksqlDB configures it). NULL is an empty field; an empty string is quoted.
 */
import { Decimal, decimalValue, primitiveText } from '../schema/decimal.ts';
import type { Column } from '../schema/logical.ts';
import type { SqlType } from '../schema/types.ts';
import { javaDoubleToString } from '../schema/values.ts';
import { asBuffer, SerdeError, syncSerde, type RowSerde } from './serde.ts';

/** Splits one CSV record. */
export function parseCsvLine(line: string, delimiter: string): (string | null)[] {
  const out: (string | null)[] = [];
  let i = 0;
  if (line === '') return [null];
  for (;;) {
    if (line[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        if (i >= line.length) throw new SerdeError('EOF reached before encapsulated token finished');
        const c = line[i] ?? '';
        if (c === '"') {
          if (line[i + 1] === '"') {
            value += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += c;
        i++;
      }
      // Text after the closing quote up to the delimiter is invalid in strict CSV.
      if (i < line.length && line[i] !== delimiter) {
        throw new SerdeError(`Invalid char between encapsulated token and delimiter at ${i}`);
      }
      out.push(value);
    } else {
      const j = line.indexOf(delimiter, i);
      const end = j < 0 ? line.length : j;
      const raw = line.slice(i, end);
      out.push(raw === '' ? null : raw);
      i = end;
    }
    if (i >= line.length) break;
    i += delimiter.length;
    if (i >= line.length) {
      out.push(null);
      break;
    }
  }
  return out;
}

function needsQuotes(value: string, first: boolean, delimiter: string): boolean {
  if (value.length === 0) return first;
  const c = value.charCodeAt(0);
  const alnum = (x: number): boolean =>
    (x >= 0x30 && x <= 0x39) || (x >= 0x41 && x <= 0x5a) || (x >= 0x61 && x <= 0x7a);
  if (first && !alnum(c)) return true;
  if (c <= 0x23) return true;
  for (const ch of value) {
    if (ch === '\n' || ch === '\r' || ch === '"' || ch === delimiter) return true;
  }
  return value.charCodeAt(value.length - 1) <= 0x20;
}

export function formatCsvLine(values: readonly (string | null)[], delimiter: string): string {
  return values
    .map((v, i) => {
      if (v === null) return '';
      return needsQuotes(v, i === 0, delimiter) ? `"${v.replaceAll('"', '""')}"` : v;
    })
    .join(delimiter);
}

function toText(v: unknown, t: SqlType): string | null {
  if (v === null || v === undefined) return null;
  switch (t.type) {
    case 'DOUBLE':
      return javaDoubleToString(v as number);
    case 'DECIMAL':
      return decimalValue(v).toPlainString();
    case 'BYTES':
      return Buffer.from(v as Uint8Array).toString('base64');
    case 'BOOLEAN':
      return v === true ? 'true' : 'false';
    default:
      return primitiveText(v);
  }
}

function fromText(s: string | null, t: SqlType, column: string): unknown {
  if (s === null) return null;
  const fail = (): never => {
    throw new SerdeError(`Error deserializing delimited field '${column}': invalid ${t.type} value '${s}'`);
  };
  switch (t.type) {
    case 'BOOLEAN': {
      const l = s.trim().toLowerCase();
      if (l === 'true') return true;
      if (l === 'false') return false;
      return fail();
    }
    case 'INTEGER': {
      if (!/^[+-]?\d+$/.test(s.trim())) fail();
      const n = Number(s.trim());
      if (n > 2147483647 || n < -2147483648) fail();
      return n;
    }
    case 'BIGINT':
    case 'TIMESTAMP': {
      if (!/^[+-]?\d+$/.test(s.trim())) fail();
      const n = BigInt(s.trim());
      return t.type === 'BIGINT' ? BigInt.asIntN(64, n) : Number(n);
    }
    case 'DATE':
    case 'TIME': {
      if (!/^[+-]?\d+$/.test(s.trim())) fail();
      return Number(s.trim());
    }
    case 'DOUBLE': {
      const n = Number(s.trim());
      if (s.trim() === '' || Number.isNaN(n)) {
        if (s.trim() !== 'NaN') fail();
      }
      return n;
    }
    case 'DECIMAL': {
      let d: Decimal;
      try {
        d = Decimal.parse(s.trim());
      } catch {
        return fail();
      }
      return d.setScale(t.scale, 'HALF_UP');
    }
    case 'STRING':
      return s;
    case 'BYTES':
      return Uint8Array.from(Buffer.from(s, 'base64'));
    default:
      throw new SerdeError(`The 'DELIMITED' format does not support type '${t.type}'`);
  }
}

export function delimitedSerde(columns: readonly Column[], delimiter: string): RowSerde {
  return syncSerde(
    (row) => {
      if (row === null) return null;
      if (columns.length === 0) return Buffer.alloc(0);
      const line = formatCsvLine(
        columns.map((c, i) => toText(row[i], c.type)),
        delimiter,
      );
      return Buffer.from(line, 'utf8');
    },
    (bytes) => {
      if (bytes === null) return null;
      const text = asBuffer(bytes).toString();
      const fields = columns.length === 0 && text === '' ? [] : parseCsvLine(text, delimiter);
      if (fields.length !== columns.length) {
        throw new SerdeError(
          `Column count mismatch on deserialization. topic: unknown, expected: ${columns.length}, got: ${fields.length}`,
        );
      }
      return columns.map((c, i) => fromText(fields[i] ?? null, c.type, c.name));
    },
  );
}
