/**
 * Fetches the stack's jars with Maven, once. A marker file beside the output records the hash of the
 * pom it came from, so a changed pin (a new Kafka version) resolves again and an unchanged one costs
 * nothing at `stack up`.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { StreamdeskError } from '../errors.ts';

export interface MavenResolution {
  /** The pom declaring what to fetch (dependencies, and the pinned maven-dependency-plugin). */
  readonly pom: string;
  /** `copy-dependencies` (jars into a folder) or `unpack-dependencies` (archives unpacked). */
  readonly goal: 'copy-dependencies' | 'unpack-dependencies';
  readonly outputDir: string;
}

function pomHash(pom: string): string {
  return createHash('sha256').update(readFileSync(pom)).digest('hex');
}

export function isResolved(r: MavenResolution): boolean {
  const marker = `${r.outputDir}/.resolved`;
  return existsSync(marker) && readFileSync(marker, 'utf8').trim() === pomHash(r.pom);
}

function runMaven(args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    execFile('mvn', args, { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(
          new StreamdeskError(
            'STACK_MAVEN_MISSING',
            'Apache Maven (mvn) is not on PATH. Install it (Debian: apt-get install maven); ' +
              'it fetches the Kafka and registry jars from Maven Central once.',
          ),
        );
        return;
      }
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, output: stdout + stderr });
    });
  });
}

/** Resolve into `outputDir` unless already resolved from the same pom. Returns true if Maven ran. */
export async function resolveWithMaven(r: MavenResolution): Promise<boolean> {
  if (isResolved(r)) return false;
  // Resolve into a staging folder and swap it in, so an interrupted run never looks complete.
  const staging = `${r.outputDir}.partial`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const { code, output } = await runMaven([
    '-B',
    '-q',
    '-f',
    r.pom,
    `dependency:${r.goal}`,
    '-DincludeScope=runtime',
    `-DoutputDirectory=${staging}`,
    // unpack-dependencies skips archives it has unpacked before, judged by marker files it keeps in
    // target/ by default; markers inside the fresh staging folder make every resolution complete.
    `-DmarkersDirectory=${staging}/.markers`,
  ]);
  if (code !== 0) {
    const errors = output
      .split('\n')
      .filter((l) => l.includes('[ERROR]'))
      .slice(0, 8)
      .join('\n');
    throw new StreamdeskError(
      'STACK_MAVEN_RESOLVE_FAILED',
      `Maven could not resolve ${r.pom} (exit ${code}). Check network access to Maven Central ` +
        `and the pinned versions.\n${errors || output.slice(-2000)}`,
    );
  }
  writeFileSync(`${staging}/.resolved`, `${pomHash(r.pom)}\n`);
  rmSync(r.outputDir, { recursive: true, force: true });
  renameSync(staging, r.outputDir);
  return true;
}

/** A property value from a pom (`<kafka.version>4.4.0</kafka.version>`): the one place a pin lives. */
export function pomProperty(pom: string, name: string): string {
  const escaped = name.replaceAll('.', '\\.');
  const match = new RegExp(`<${escaped}>([^<]+)</${escaped}>`).exec(readFileSync(pom, 'utf8'));
  if (!match?.[1]) throw new Error(`property ${name} is not set in ${pom}`);
  return match[1].trim();
}
