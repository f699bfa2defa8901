/**
 * An isolated environment for the tickets service: its own PostgreSQL database, its own topics
 * (a topic prefix, created from the catalog), the contracts registered; helpers to produce ticket
 * requests and read what the service published (read_committed, decoded with the contracts).
 */
import { randomUUID } from 'node:crypto';
import type { Admin } from 'kafkajs';
import pg from 'pg';
import { environment } from '../../src/cli/main.ts';
import { loadConfig, type Config } from '../../src/config/index.ts';
import { loadCatalog } from '../../src/contracts/catalog.ts';
import * as Alerts from '../../src/contracts/generated/notifications-alerts-value.ts';
import * as Audit from '../../src/contracts/generated/notifications-audit-value.ts';
import * as Identities from '../../src/contracts/generated/processing-customer-identities-value.ts';
import type { TicketRequest } from '../../src/contracts/generated/processing-tickets-in-value.ts';
import * as TicketRequests from '../../src/contracts/generated/processing-tickets-in-value.ts';
import * as TicketEvents from '../../src/contracts/generated/processing-tickets-out-value.ts';
import { prefixed, TOPICS } from '../../src/contracts/topics.ts';
import { applyTopicPlan, planTopics, waitForConvergence } from '../../src/kafka/topics.ts';
import { PROJECT_ROOT } from '../../src/paths.ts';
import { createRegistryClient } from '../../src/registry/client.ts';
import { createAvroDecoder, createAvroEncoder, type Contract } from '../../src/registry/serde.ts';
import { isolatedCatalog } from './catalog.ts';
import { createTestDatabase, testKafka, uniqueName } from './env.ts';
import { ensureContracts } from './intake.ts';

export interface TicketsEnv {
  readonly prefix: string;
  readonly database: string;
  readonly env: Record<string, string>;
  readonly config: Config;
  readonly db: pg.Pool;
  send(requests: readonly TicketRequest[]): Promise<void>;
  sendRaw(value: Buffer | null, key?: string): Promise<void>;
  // The caller names the contract's type: the decoder checks the bytes against that contract.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
  read<T>(
    base: string,
    contract: Contract,
    expected?: number,
  ): Promise<{ key: string | null; value: T; headers: Record<string, string> }[]>;
  readRaw(
    topic: string,
    expected: number,
  ): Promise<{ key: string | null; value: Buffer | null; headers: Record<string, string> }[]>;
  cleanup(): Promise<void>;
}

export const CONTRACTS = { TicketEvents, Identities, Alerts, Audit } as const;

export async function ticketsEnv(
  admin: Admin,
  label: string,
  overrides: Record<string, string> = {},
): Promise<TicketsEnv> {
  const { catalog, prefix } = isolatedCatalog(loadCatalog(PROJECT_ROOT), label);
  const created = await createTestDatabase(
    `sd_${label}_${randomUUID().slice(0, 8)}`.replace(/[^a-z0-9_]/g, '_'),
  );
  const database = created.name;
  const databaseUrl = created.url;
  const env = {
    STREAMDESK_TOPIC_PREFIX: prefix,
    STREAMDESK_DATABASE_URL: databaseUrl,
    STREAMDESK_LOG_LEVEL: 'silent',
    STREAMDESK_TICKETS_RETRY_DELAYS: '1s',
    ...overrides,
  };
  const config = loadConfig({ ...environment(PROJECT_ROOT, process.env), ...env }, PROJECT_ROOT);
  await ensureContracts(config);
  await applyTopicPlan(admin, await planTopics(admin, catalog, 'local'), () => undefined);
  await waitForConvergence(admin, catalog, 'local');
  const registry = createRegistryClient(config.registry.url);
  const encoder = createAvroEncoder<TicketRequest>(registry, TicketRequests);
  const kafka = testKafka(`tickets-${label}`);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const db = new pg.Pool({ connectionString: databaseUrl, max: 3 });
  const input = prefixed(prefix, TOPICS.ticketsIn);

  const readRaw = async (topic: string, expected: number) => {
    const records: { key: string | null; value: Buffer | null; headers: Record<string, string> }[] = [];
    const offsets = await admin.fetchTopicOffsets(topic);
    const consumer = kafka.consumer({
      groupId: uniqueName('reader'),
      maxWaitTimeInMs: 100,
      readUncommitted: false,
    });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const deadline = Date.now() + 20_000;
    void consumer.run({
      eachMessage: async ({ message }) => {
        records.push({
          key: message.key?.toString() ?? null,
          value: message.value,
          headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
        });
      },
    });
    // read_committed stops at the last stable offset: wait for the expected count, then a little more.
    const high = offsets.reduce((n, p) => n + Number(p.high), 0);
    while (Date.now() < deadline && records.length < expected && (expected > 0 || high > 0))
      await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 300));
    await consumer.disconnect();
    return records;
  };

  return {
    prefix,
    database,
    env,
    config,
    db,
    async send(requests) {
      const messages = await Promise.all(
        requests.map(async (r) => ({ key: r.contact_key, value: await encoder.encode(r) })),
      );
      for (let i = 0; i < messages.length; i += 500) {
        await producer.send({ topic: input, acks: -1, messages: messages.slice(i, i + 500) });
      }
    },
    async sendRaw(value, key = 'email:poison@example.com') {
      await producer.send({ topic: input, acks: -1, messages: [{ key, value }] });
    },
    async read<T>(base: string, contract: Contract, expected = 0) {
      const decoder = createAvroDecoder<T>(registry, contract);
      const raw = await readRaw(prefixed(prefix, base), expected);
      return Promise.all(
        raw.map(async (r) => ({ key: r.key, value: await decoder.decode(r.value), headers: r.headers })),
      );
    },
    readRaw,
    async cleanup() {
      await producer.disconnect();
      await db.end();
      const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
      if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 30_000 }).catch(() => undefined);
      await created.drop();
    },
  };
}

let sequence = 0;

/** A ticket request as the enrichment join writes it; every field overridable. */
export function ticketRequest(overrides: Partial<TicketRequest> & { contact_key: string }): TicketRequest {
  sequence++;
  return {
    event_id: randomUUID(),
    kind: 'MESSAGE',
    channel: 'EMAIL',
    provider: 'postmark',
    provider_message_id: null,
    sender_handle: overrides.contact_key.replace(/^\w+:/, ''),
    display_name: 'Test Customer',
    inbox: 'support@streamdesk.example',
    received_at: Date.now(),
    sent_at: null,
    subject: `Subject ${sequence}`,
    text: `Message ${sequence}`,
    has_html: false,
    message_type: 'email',
    payload_json: null,
    thread_key: `email:${randomUUID()}@mail.example.com`,
    message_id: null,
    in_reply_to: null,
    context_message_id: null,
    priority: 'NORMAL',
    delivery_status: null,
    delivery_error: null,
    new_contact_key: null,
    attachments: [],
    correlation_id: `test-${sequence}`,
    customer_id: null,
    ...overrides,
  };
}

/** Poll until `check` is true (PostgreSQL effects are asynchronous to producing). */
export async function eventually(
  check: () => Promise<boolean>,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    // A check may fail while the system comes up (e.g. tables not migrated yet): keep polling.
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}
