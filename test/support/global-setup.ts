/**
 * vitest global setup for the integration project: bring the local stack up if it is not (one
 * command on a fresh machine runs everything). `stack up` is idempotent and cheap when it runs.
 * The stack is left running afterwards, like a database a developer keeps up; `npm run stack:down`
 * stops it.
 */
import { createStack } from '../../src/stack/stack.ts';
import { testConfig } from './env.ts';
import { PROJECT_ROOT } from '../../src/paths.ts';

export default async function setup(): Promise<void> {
  const stack = createStack(testConfig.stack, PROJECT_ROOT, (line) => {
    process.stdout.write(`[stack] ${line}\n`);
  });
  await stack.up();
}
