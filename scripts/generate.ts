// `npm run generate`: writes the TypeScript contract types and the error table (src/contracts/generate.ts).
import { mkdirSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { generatedFiles } from '../src/contracts/generate.ts';
import { PROJECT_ROOT } from '../src/paths.ts';

let changed = 0;
for (const [path, content] of generatedFiles(PROJECT_ROOT)) {
  const full = `${PROJECT_ROOT}/${path}`;
  if (existsSync(full) && readFileSync(full, 'utf8') === content) continue;
  mkdirSync(dirname(full), { recursive: true });
  writeFileSync(full, content);
  console.log(`wrote ${path}`);
  changed++;
}
console.log(changed === 0 ? 'generated files are up to date' : `${changed} file(s) written`);
