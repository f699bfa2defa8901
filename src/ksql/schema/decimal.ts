/**
 * Exact decimals (Java BigDecimal semantics for what ksqlDB uses): an unscaled bigint and a scale.
 * Never a float, so DECIMAL arithmetic and the scale of its output are exact.
 */

export type RoundingMode = 'HALF_UP' | 'HALF_DOWN' | 'HALF_EVEN' | 'FLOOR' | 'CEILING' | 'DOWN' | 'UP';

const TEN = 10n;

function pow10(n: number): bigint {
  return TEN ** BigInt(n);
}

function abs(n: bigint): bigint {
  return n < 0n ? -n : n;
}

/** Divides, rounding the quotient with `mode` (divisor non-zero). */
function divRound(num: bigint, den: bigint, mode: RoundingMode): bigint {
  if (den < 0n) {
    num = -num;
    den = -den;
  }
  const q = num / den; // truncates toward zero
  const r = num % den;
  if (r === 0n) return q;
  const negative = num < 0n;
  const twice = abs(r) * 2n;
  switch (mode) {
    case 'DOWN':
      return q;
    case 'UP':
      return negative ? q - 1n : q + 1n;
    case 'FLOOR':
      return negative ? q - 1n : q;
    case 'CEILING':
      return negative ? q : q + 1n;
    case 'HALF_UP':
      if (twice >= den) return negative ? q - 1n : q + 1n;
      return q;
    case 'HALF_DOWN':
      if (twice > den) return negative ? q - 1n : q + 1n;
      return q;
    case 'HALF_EVEN':
      if (twice > den || (twice === den && abs(q) % 2n === 1n)) return negative ? q - 1n : q + 1n;
      return q;
  }
}

export class Decimal {
  readonly unscaled: bigint;
  readonly scale: number;

  constructor(unscaled: bigint, scale: number) {
    this.unscaled = unscaled;
    this.scale = scale;
  }

  /** Parses a plain or exponent decimal literal, keeping its scale (`10.0` has scale 1). */
  static parse(text: string): Decimal {
    const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text.trim());
    if (m === null || (m[2] === '' && (m[3] ?? '') === '')) throw new Error(`not a decimal: ${text}`);
    const intPart = m[2] ?? '';
    const frac = m[3] ?? '';
    const exp = m[4] === undefined ? 0 : Number(m[4]);
    let unscaled = BigInt(`${intPart}${frac}` === '' ? '0' : `${intPart}${frac}`);
    if (m[1] === '-') unscaled = -unscaled;
    let scale = frac.length - exp;
    if (scale < 0) {
      unscaled *= pow10(-scale);
      scale = 0;
    }
    return new Decimal(unscaled, scale);
  }

  static fromBigInt(n: bigint): Decimal {
    return new Decimal(n, 0);
  }

  /** Java's `BigDecimal.valueOf(double)`: the shortest decimal that reads back as the double. */
  static fromNumber(n: number): Decimal {
    if (!Number.isFinite(n)) throw new Error(`not a finite number: ${n}`);
    const text = String(n);
    const d = Decimal.parse(text);
    // BigDecimal.valueOf(1.0) has scale 1 (Double.toString gives "1.0").
    if (Number.isInteger(n) && !/[eE.]/.test(text)) return d.setScale(1, 'DOWN');
    return d;
  }

  /** Number of digits in the unscaled value (BigDecimal.precision(): 0 has precision 1). */
  precision(): number {
    const a = abs(this.unscaled);
    return a === 0n ? 1 : a.toString().length;
  }

  setScale(scale: number, mode: RoundingMode = 'HALF_UP'): Decimal {
    if (scale === this.scale) return this;
    if (scale > this.scale) return new Decimal(this.unscaled * pow10(scale - this.scale), scale);
    return new Decimal(divRound(this.unscaled, pow10(this.scale - scale), mode), scale);
  }

  /** Whether the value fits DECIMAL(precision, scale) once brought to that scale. */
  fits(precision: number, scale: number): boolean {
    const a = abs(this.setScale(scale).unscaled);
    return a < pow10(precision);
  }

  add(o: Decimal): Decimal {
    const s = Math.max(this.scale, o.scale);
    return new Decimal(this.setScale(s).unscaled + o.setScale(s).unscaled, s);
  }

  subtract(o: Decimal): Decimal {
    return this.add(o.negate());
  }

  multiply(o: Decimal): Decimal {
    return new Decimal(this.unscaled * o.unscaled, this.scale + o.scale);
  }

  /** Quotient at the given scale, rounded with `mode`; null when dividing by zero. */
  divide(o: Decimal, scale: number, mode: RoundingMode = 'HALF_UP'): Decimal | null {
    if (o.unscaled === 0n) return null;
    // this / o = (tu / 10^ts) / (ou / 10^os); want result unscaled at `scale`.
    const shift = scale - this.scale + o.scale;
    let num = this.unscaled;
    let den = o.unscaled;
    if (shift >= 0) num *= pow10(shift);
    else den *= pow10(-shift);
    return new Decimal(divRound(num, den, mode), scale);
  }

  /** Java BigDecimal.remainder: sign follows the dividend; null when dividing by zero. */
  remainder(o: Decimal): Decimal | null {
    if (o.unscaled === 0n) return null;
    const s = Math.max(this.scale, o.scale);
    return new Decimal(this.setScale(s).unscaled % o.setScale(s).unscaled, s);
  }

  negate(): Decimal {
    return new Decimal(-this.unscaled, this.scale);
  }

  abs(): Decimal {
    return this.unscaled < 0n ? this.negate() : this;
  }

  signum(): number {
    return this.unscaled === 0n ? 0 : this.unscaled < 0n ? -1 : 1;
  }

  compare(o: Decimal): number {
    const s = Math.max(this.scale, o.scale);
    const a = this.setScale(s).unscaled;
    const b = o.setScale(s).unscaled;
    return a === b ? 0 : a < b ? -1 : 1;
  }

  /** Value equality ignoring scale (BigDecimal.compareTo == 0). */
  equalsValue(o: Decimal): boolean {
    return this.compare(o) === 0;
  }

  /** Exact equality including scale (BigDecimal.equals). */
  equals(o: Decimal): boolean {
    return this.scale === o.scale && this.unscaled === o.unscaled;
  }

  toNumber(): number {
    return Number(this.toPlainString());
  }

  /** Truncates toward zero, like BigDecimal.longValue() for in-range values. */
  toBigInt(): bigint {
    return this.setScale(0, 'DOWN').unscaled;
  }

  /** BigDecimal.toPlainString(): no exponent. */
  toPlainString(): string {
    const negative = this.unscaled < 0n;
    let digits = abs(this.unscaled).toString();
    if (this.scale <= 0) return (negative ? '-' : '') + digits + '0'.repeat(-this.scale);
    if (digits.length <= this.scale) digits = '0'.repeat(this.scale - digits.length + 1) + digits;
    const point = digits.length - this.scale;
    return `${negative ? '-' : ''}${digits.slice(0, point)}.${digits.slice(point)}`;
  }

  /** BigDecimal.toString(): plain unless the adjusted exponent is below -6 (scientific then). */
  toString(): string {
    const digits = abs(this.unscaled).toString();
    const adjusted = -this.scale + (digits.length - 1);
    if (this.scale >= 0 && adjusted >= -6) return this.toPlainString();
    const sign = this.unscaled < 0n ? '-' : '';
    const mantissa = digits.length > 1 ? `${digits[0] ?? ''}.${digits.slice(1)}` : digits;
    return `${sign}${mantissa}E${adjusted >= 0 ? '+' : ''}${adjusted}`;
  }

  /** Strips trailing zeros (BigDecimal.stripTrailingZeros). */
  stripTrailingZeros(): Decimal {
    if (this.unscaled === 0n) return new Decimal(0n, 0);
    let u = this.unscaled;
    let s = this.scale;
    while (u % TEN === 0n) {
      u /= TEN;
      s -= 1;
    }
    return new Decimal(u, s);
  }
}

export function isDecimal(v: unknown): v is Decimal {
  return v instanceof Decimal;
}

/** A DECIMAL runtime value (throws on anything else: a bug upstream, not bad data). */
export function decimalValue(v: unknown): Decimal {
  if (v instanceof Decimal) return v;
  throw new TypeError(`expected a DECIMAL value, got ${typeof v}`);
}

/** Text of a primitive runtime value (numbers, bigints, strings, booleans). */
export function primitiveText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (v instanceof Decimal) return v.toPlainString();
  const json = JSON.stringify(v) as string | undefined;
  return json ?? 'null';
}
