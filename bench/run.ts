/**
 * `npm run bench -- <name> [--json] [--<option> <value>...]`: runs bench/<name>.ts. Every benchmark
 * measures its figure and a baseline in the same run and prints both with their ratio; with --json
 * the last line is one JSON object: {"name","unit","value","baseline","baseline_value","ratio",...}.
 */
import { readdirSync } from 'node:fs';

export interface BenchResult {
  readonly name: string;
  readonly unit: string;
  readonly value: number;
  readonly baseline: string;
  readonly baseline_value: number;
  readonly ratio: number;
  readonly [detail: string]: unknown;
}

export interface BenchContext {
  /** A numeric option (--name value), or its default. */
  number(name: string, fallback: number): number;
  /** A named choice (--name value), one of `allowed`; the first one is the default. */
  choice<T extends string>(name: string, allowed: readonly [T, ...T[]]): T;
  say(line: string): void;
}

const available = readdirSync(new URL('.', import.meta.url))
  .filter(
    (f) =>
      f.endsWith('.ts') &&
      !['run.ts', 'loadgen.ts'].includes(f) &&
      !f.endsWith('-bodies.ts') &&
      !f.endsWith('-support.ts'),
  )
  .map((f) => f.slice(0, -3));

function usage(): string {
  return `usage: npm run bench -- <name> [--json] [--<option> <value>...]\nbenchmarks: ${available.join(', ')}`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  if (!available.includes(name)) {
    console.error(`unknown benchmark "${name}"\n${usage()}`);
    return 2;
  }
  const json = rest.includes('--json');
  const options = new Map<string, string>();
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] ?? '';
    if (arg === '--json') continue;
    if (!arg.startsWith('--') || rest[i + 1] === undefined) {
      console.error(`bad option "${arg}"\n${usage()}`);
      return 2;
    }
    options.set(arg.slice(2), rest[++i] ?? '');
  }
  const ctx: BenchContext = {
    number(option, fallback) {
      const raw = options.get(option);
      if (raw === undefined) return fallback;
      const n = Number(raw);
      if (!Number.isFinite(n) || n <= 0) throw new Error(`--${option} must be a positive number`);
      return n;
    },
    choice(option, allowed) {
      const raw = options.get(option);
      if (raw === undefined) return allowed[0];
      const found = allowed.find((a) => a === raw);
      if (found === undefined) throw new Error(`--${option} must be one of ${allowed.join(', ')}`);
      return found;
    },
    say: (line) => console.log(line),
  };
  const module = (await import(new URL(`./${name}.ts`, import.meta.url).href)) as {
    run: (c: BenchContext) => Promise<BenchResult>;
  };
  const result = await module.run(ctx);
  console.log(
    `${result.name}: ${result.value} ${result.unit} vs baseline ${result.baseline_value} ${result.unit} (${result.baseline}) → ratio ${result.ratio}`,
  );
  if (json) console.log(JSON.stringify(result));
  return 0;
}

try {
  process.exit(await main(process.argv.slice(2)));
} catch (error) {
  // A failed benchmark says why in one line; the stack only when asked for (BENCH_DEBUG=1).
  console.error(`bench ${process.argv[2] ?? ''}: ${error instanceof Error ? error.message : String(error)}`);
  if (process.env['BENCH_DEBUG'] === '1' && error instanceof Error) console.error(error.stack);
  process.exit(1);
}
