/**
 * The topology end to end on the real stack: the migrations applied by the migrator to a local ksql
 * engine over isolated (prefixed) catalog topics, raw messages in, normalized messages and ticket
 * requests out, decoded with the registered contracts.
 */
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/contracts/catalog.ts';
import type { NormalizedMessage } from '../../src/contracts/generated/ingestion-normalized-messages-value.ts';
import * as Normalized from '../../src/contracts/generated/ingestion-normalized-messages-value.ts';
import type { RawMessage } from '../../src/contracts/generated/ingestion-raw-messages-value.ts';
import * as Raw from '../../src/contracts/generated/ingestion-raw-messages-value.ts';
import type { CustomerIdentity } from '../../src/contracts/generated/processing-customer-identities-value.ts';
import * as Identities from '../../src/contracts/generated/processing-customer-identities-value.ts';
import type { TicketRequest } from '../../src/contracts/generated/processing-tickets-in-value.ts';
import * as TicketRequests from '../../src/contracts/generated/processing-tickets-in-value.ts';
import { prefixed, TOPICS } from '../../src/contracts/topics.ts';
import { applyTopicPlan, planTopics, waitForConvergence } from '../../src/kafka/topics.ts';
import { contractVariables } from '../../src/ksql/migrations/contract-variables.ts';
import { loadMigrations, loadMigrationsProject } from '../../src/ksql/migrations/files.ts';
import { createMigrator } from '../../src/ksql/migrations/migrator.ts';
import { createKsqlRestClient } from '../../src/ksql/migrations/rest-client.ts';
import { PROJECT_ROOT } from '../../src/paths.ts';
import { createRegistryClient } from '../../src/registry/client.ts';
import { createAvroDecoder, createAvroEncoder } from '../../src/registry/serde.ts';
import { isolatedCatalog } from '../support/catalog.ts';
import { testConfig, testKafka } from '../support/env.ts';
import { ensureContracts } from '../support/intake.ts';
import { readTopic, trackTopic, trackTopicPrefix, deleteTestTopics } from '../support/kafka.ts';
import { startTestKsql, type TestKsql } from '../support/ksql.ts';

const registry = createRegistryClient(testConfig.registry.url);
const kafka = testKafka('topology-test');
let admin: Admin;
let ksql: TestKsql;
let prefix = '';

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
  await ensureContracts(testConfig);
  const isolated = isolatedCatalog(loadCatalog(PROJECT_ROOT), 'topology');
  prefix = isolated.prefix;
  await applyTopicPlan(admin, await planTopics(admin, isolated.catalog, 'local'), () => undefined);
  await waitForConvergence(admin, isolated.catalog, 'local');
  for (const t of isolated.catalog.topics) trackTopic(t.name);
  ksql = await startTestKsql('topology');
  trackTopicPrefix(`_confluent-ksql-${ksql.serviceId}`); // command topic and changelogs
  trackTopic(`${ksql.serviceId}ksql_processing_log`);
  trackTopic(`${ksql.serviceId}ksql_MIGRATION_EVENTS`);
  trackTopic(`${ksql.serviceId}ksql_MIGRATION_SCHEMA_VERSIONS`);
}, 120_000);

afterAll(async () => {
  await ksql.stop();
  const internal = (await admin.listTopics()).filter((t) =>
    t.startsWith(`_confluent-ksql-${ksql.serviceId}`),
  );
  for (const t of internal) trackTopic(t);
  await deleteTestTopics(admin);
  await admin.disconnect();
});

const T = Date.UTC(2026, 10, 28, 9, 0, 0);
let n = 0;
function raw(overrides: Partial<RawMessage> & Pick<RawMessage, 'sender_handle'>): RawMessage {
  n++;
  return {
    event_id: `evt-${n}`,
    kind: 'MESSAGE',
    channel: 'EMAIL',
    provider: 'postmark',
    provider_message_id: `pm-${n}`,
    inbox: 'support@acme.test',
    received_at: T + n * 1000,
    sent_at: null,
    sender_aliases: [],
    display_name: null,
    subject: null,
    text_body: null,
    has_html: false,
    message_type: 'email',
    payload_json: null,
    form_fields: {},
    message_id: null,
    in_reply_to: null,
    references: [],
    context_message_id: null,
    attachments: [],
    spam_flagged: false,
    spam_score: null,
    spam_status: null,
    delivery_status: null,
    delivery_error: null,
    new_handle: null,
    correlation_id: `corr-${n}`,
    dedup_key: `dk-${n}`,
    dedup_outcome: 'FIRST_SEEN',
    ...overrides,
  };
}

describe('the topology on the local engine', () => {
  it('normalizes raw messages and enriches them with customer ids, written with the contracts', async () => {
    const topic = (base: string): string => prefixed(prefix, base);
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      // A known WhatsApp customer, linked before the messages arrive.
      const identities = createAvroEncoder<CustomerIdentity>(registry, Identities);
      await producer.send({
        topic: topic(TOPICS.customerIdentities),
        acks: -1,
        messages: [
          {
            key: 'phone:+15550001111',
            value: await identities.encode({
              contact_key: 'phone:+15550001111',
              customer_id: 'cust-carla',
              reason: 'MINTED',
              previous_customer_id: null,
              linked_at: T,
              correlation_id: 'seed',
            }),
          },
        ],
      });

      // The migrations, applied with the catalog variables for these prefixed topics.
      const project = loadMigrationsProject(`${PROJECT_ROOT}/ksql`);
      const { files } = loadMigrations(project.migrationsDir);
      const client = createKsqlRestClient(ksql.url);
      const migrator = createMigrator(client, project.names, async () => (await client.info()).ksqlServiceId);
      const { variables, unregistered } = await contractVariables(
        loadCatalog(PROJECT_ROOT),
        'local',
        prefix,
        registry,
      );
      expect(unregistered).toEqual([]);
      const lines: string[] = [];
      const result = await migrator.apply(files, {
        target: { kind: 'all' },
        variables,
        dryRun: false,
        out: (l) => lines.push(l),
      });
      expect(result.applied).toEqual(files.map((f) => f.version));
      expect(await migrator.validate(files)).toEqual([]);

      const messages: RawMessage[] = [
        raw({
          sender_handle: ' Ada@Example.COM ',
          subject: 'Refund for order 17',
          text_body: 'I was charged twice',
          message_id: 'm1@mail.example.com',
        }),
        raw({
          sender_handle: 'ada@example.com',
          subject: 'Re: Refund for order 17',
          text_body: 'Any news?',
          message_id: 'm2@mail.example.com',
          in_reply_to: 'm1@mail.example.com',
          references: ['m1@mail.example.com'],
        }),
        raw({
          channel: 'WHATSAPP',
          provider: 'whatsapp_cloud',
          inbox: 'pn-100',
          sender_handle: '15550001111',
          text_body: ' hello ',
          message_type: 'text',
        }),
        raw({
          channel: 'WHATSAPP',
          provider: 'whatsapp_cloud',
          inbox: 'pn-100',
          sender_handle: '447700900123',
          text_body: 'URGENT: checkout is down',
          message_type: 'text',
        }),
        raw({
          kind: 'STATUS',
          channel: 'WHATSAPP',
          provider: 'whatsapp_cloud',
          inbox: 'pn-100',
          provider_message_id: 'wamid.out9',
          sender_handle: '15550001111',
          message_type: 'status',
          delivery_status: 'DELIVERED',
        }),
        raw({
          channel: 'WEB_FORM',
          provider: 'web_form',
          inbox: 'contact',
          sender_handle: 'Bob@Example.org',
          subject: 'Question',
          text_body: 'How do I export?',
          message_type: 'form',
        }),
        raw({ sender_handle: 'promo@spam.test', subject: 'You won', text_body: 'click', spam_flagged: true }),
      ];
      const rawEncoder = createAvroEncoder<RawMessage>(registry, Raw);
      await producer.send({
        topic: topic(TOPICS.rawMessages),
        acks: -1,
        messages: await Promise.all(
          messages.map(async (m) => ({ key: m.sender_handle, value: await rawEncoder.encode(m) })),
        ),
      });

      const expected = [
        {
          event: 'evt-1',
          key: 'email:ada@example.com',
          thread: 'email:m1@mail.example.com',
          kind: 'MESSAGE',
          priority: 'HIGH',
          customer: null,
        },
        {
          event: 'evt-2',
          key: 'email:ada@example.com',
          thread: 'email:m1@mail.example.com',
          kind: 'MESSAGE',
          priority: 'HIGH',
          customer: null,
        },
        {
          event: 'evt-3',
          key: 'phone:+15550001111',
          thread: 'whatsapp:pn-100:phone:+15550001111',
          kind: 'MESSAGE',
          priority: 'NORMAL',
          customer: 'cust-carla',
        },
        {
          event: 'evt-4',
          key: 'phone:+447700900123',
          thread: 'whatsapp:pn-100:phone:+447700900123',
          kind: 'MESSAGE',
          priority: 'URGENT',
          customer: null,
        },
        {
          event: 'evt-5',
          key: 'phone:+15550001111',
          thread: null,
          kind: 'STATUS',
          priority: null,
          customer: 'cust-carla',
        },
        {
          event: 'evt-6',
          key: 'email:bob@example.org',
          thread: 'form:evt-6',
          kind: 'MESSAGE',
          priority: 'NORMAL',
          customer: null,
        },
      ];

      // Normalized: keyed by the contact key, the registered contract's id in every record.
      const normalizedId = (await registry.subjectVersion(Normalized.SUBJECT, 'latest'))?.id;
      const normalizedRecords = await readTopic(
        kafka,
        topic(TOPICS.normalizedMessages),
        expected.length,
        60_000,
      );
      expect(normalizedRecords.map((r) => r.value?.readInt32BE(1))).toEqual(expected.map(() => normalizedId));
      const normalizedDecoder = createAvroDecoder<NormalizedMessage>(registry, Normalized);
      const normalized = await Promise.all(
        normalizedRecords.map(async (r) => ({ key: r.key, value: await normalizedDecoder.decode(r.value) })),
      );
      const byEvent = new Map(normalized.map((r) => [r.value.event_id, r]));
      expect(byEvent.size).toBe(expected.length);
      for (const e of expected) {
        const record = byEvent.get(e.event);
        expect({
          key: record?.key,
          contact: record?.value.contact_key,
          thread: record?.value.thread_key,
          kind: record?.value.kind,
          priority: record?.value.priority,
        }).toEqual({ key: e.key, contact: e.key, thread: e.thread, kind: e.kind, priority: e.priority });
      }
      expect(byEvent.get('evt-3')?.value.text).toBe('hello');
      expect(byEvent.get('evt-5')?.value.delivery_status).toBe('DELIVERED');
      expect(byEvent.has('evt-7')).toBe(false);

      // Ticket requests: the same, with the customer id of known contacts.
      const ticketsId = (await registry.subjectVersion(TicketRequests.SUBJECT, 'latest'))?.id;
      const requestRecords = await readTopic(kafka, topic(TOPICS.ticketsIn), expected.length, 60_000);
      expect(requestRecords.map((r) => r.value?.readInt32BE(1))).toEqual(expected.map(() => ticketsId));
      const requestDecoder = createAvroDecoder<TicketRequest>(registry, TicketRequests);
      const requests = await Promise.all(
        requestRecords.map(async (r) => ({ key: r.key, value: await requestDecoder.decode(r.value) })),
      );
      expect(
        requests
          .map((r) => ({
            event: r.value.event_id,
            key: r.key,
            thread: r.value.thread_key,
            customer: r.value.customer_id,
          }))
          .sort((a, b) => String(a.event).localeCompare(String(b.event))),
      ).toEqual(
        expected.map((e) => ({ event: e.event, key: e.key, thread: e.thread, customer: e.customer })),
      );
      // Same key, same partition: the email thread's two messages are in order on one partition.
      const ada = requestRecords.filter((r) => r.key === 'email:ada@example.com');
      expect(new Set(ada.map((r) => r.partition)).size).toBe(1);

      // Applying again changes nothing.
      const again = await migrator.apply(files, {
        target: { kind: 'all' },
        variables,
        dryRun: false,
        out: () => undefined,
      });
      expect(again.applied).toEqual([]);
    } finally {
      await producer.disconnect();
    }
  }, 180_000);
});
