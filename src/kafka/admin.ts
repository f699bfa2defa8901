import type { Admin } from 'kafkajs';
import { StreamdeskError } from '../errors.ts';
import { createKafka } from './client.ts';

/** Run `fn` with a connected admin client; a cluster that does not answer is SD_ERR_KAFKA_UNAVAILABLE. */
export async function withAdmin<T>(brokers: readonly string[], fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = createKafka({ brokers, clientId: 'streamdesk-admin', retries: 2 }).admin();
  try {
    await admin.connect();
  } catch (error) {
    throw new StreamdeskError(
      'KAFKA_UNAVAILABLE',
      `Kafka at ${brokers.join(',')} did not answer (${(error as Error).message}); is the stack up? (npm run stack:up)`,
      { cause: error },
    );
  }
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}
