import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { StreamdeskError } from '../errors.ts';

const execFileAsync = promisify(execFile);

export interface JavaRuntime {
  readonly path: string;
  readonly major: number;
  readonly version: string;
}

/** Parse the first line of `java -version` ("openjdk version \"17.0.15\" ..." or "... \"25\" ..."). */
export function parseJavaVersion(output: string): { major: number; version: string } | undefined {
  const match = /version "([^"]+)"/.exec(output);
  if (!match?.[1]) return undefined;
  const version = match[1];
  const parts = version.split(/[.+-]/);
  // Java 8 and older report "1.8.0_x".
  const major = parts[0] === '1' ? Number(parts[1]) : Number(parts[0]);
  return Number.isInteger(major) ? { major, version } : undefined;
}

async function probe(path: string): Promise<JavaRuntime | undefined> {
  try {
    const { stderr, stdout } = await execFileAsync(path, ['-version'], { timeout: 15_000 });
    const parsed = parseJavaVersion(stderr + stdout);
    return parsed ? { path, ...parsed } : undefined;
  } catch {
    return undefined;
  }
}

/** Candidate java executables, most explicit first. */
export function javaCandidates(preferredHome: string | undefined, env: NodeJS.ProcessEnv): string[] {
  const homes: string[] = [];
  if (preferredHome) homes.push(preferredHome);
  if (env['JAVA_HOME']) homes.push(env['JAVA_HOME']);
  const candidates = homes.map((h) => `${h}/bin/java`);
  candidates.push('java');
  if (existsSync('/usr/lib/jvm')) {
    for (const entry of readdirSync('/usr/lib/jvm').sort().reverse()) {
      const path = `/usr/lib/jvm/${entry}/bin/java`;
      if (existsSync(path)) candidates.push(path);
    }
  }
  return [...new Set(candidates)];
}

const cache = new Map<string, Promise<JavaRuntime | undefined>>();

/**
 * The first Java runtime of at least `minMajor`, looking at STREAMDESK_JAVA_HOME, JAVA_HOME, `java` on
 * PATH and then /usr/lib/jvm/* (newest first). Throws SD_ERR_STACK_JAVA_MISSING listing what it saw.
 */
export async function findJava(
  minMajor: number,
  forWhat: string,
  preferredHome: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<JavaRuntime> {
  const seen: JavaRuntime[] = [];
  for (const candidate of javaCandidates(preferredHome, env)) {
    let pending = cache.get(candidate);
    if (!pending) {
      pending = probe(candidate);
      cache.set(candidate, pending);
    }
    const runtime = await pending;
    if (!runtime) continue;
    if (runtime.major >= minMajor) return runtime;
    seen.push(runtime);
  }
  const found =
    seen.length === 0
      ? 'no Java runtime at all'
      : seen.map((r) => `Java ${r.version} (${r.path})`).join(', ');
  throw new StreamdeskError(
    'STACK_JAVA_MISSING',
    `${forWhat} needs Java ${minMajor} or newer; found ${found}. Install a JDK ${minMajor}+ ` +
      `(e.g. Temurin) and set STREAMDESK_JAVA_HOME to it.`,
  );
}
