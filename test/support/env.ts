import { randomBytes } from 'node:crypto';
import { environment } from '../../src/cli/main.ts';
import { loadConfig, type Config } from '../../src/config/index.ts';
import { createKafka } from '../../src/kafka/client.ts';
import { PROJECT_ROOT } from '../../src/paths.ts';

/** The same configuration the CLI reads (environment, then .env), so tests hit the stack `up` made. */
export const testConfig: Config = loadConfig(environment(PROJECT_ROOT, process.env), PROJECT_ROOT);

/** A name no other test (or earlier run) uses: integration tests never share topics or groups. */
export function uniqueName(prefix: string): string {
  return `test.${prefix}.${Date.now().toString(36)}.${randomBytes(3).toString('hex')}`;
}

export function testKafka(
  clientId = 'streamdesk-test',
  brokers: readonly string[] = testConfig.kafka.brokers,
) {
  return createKafka({ brokers, clientId });
}
