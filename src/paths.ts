import { fileURLToPath } from 'node:url';

/** The project root (the folder holding package.json), whether run from src/ or dist/. */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
