import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The project root (the folder holding package.json), whether run from src/ or dist/. */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');

/** streamdesk's version (package.json). */
export const PACKAGE_VERSION: string = (
  JSON.parse(readFileSync(`${PROJECT_ROOT}/package.json`, 'utf8')) as { version: string }
).version;
