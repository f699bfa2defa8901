import avro from 'avsc';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../paths.ts';
import { avroType } from '../serde/avro.ts';
import { InMemorySchemaRegistry } from '../serde/registry.ts';
import { wrapWire } from '../serde/serde.ts';
import { createEngine } from './engine.ts';
import { InMemoryTopicIO } from './topic-io.ts';

// streamdesk's own contracts: a raw message read by inference, a normalized message written with the
// pre-registered schema (VALUE_SCHEMA_ID), as the topology does.
const contract = (name: string): string =>
  readFileSync(join(PROJECT_ROOT, 'schemas', `${name}-value.avsc`), 'utf8');

describe('streamdesk contracts through the engine', () => {
  it('reads a raw message by schema inference and writes a normalized one with VALUE_SCHEMA_ID', async () => {
    const registry = new InMemorySchemaRegistry();
    const topics = new InMemoryTopicIO();
    const rawId = registry.registerSync('ingestion.raw.messages-value', {
      schemaType: 'AVRO',
      schema: contract('ingestion.raw.messages'),
    });
    const normalizedId = registry.registerSync('ingestion.normalized.messages-value', {
      schemaType: 'AVRO',
      schema: contract('ingestion.normalized.messages'),
    });
    await topics.createTopic({ name: 'ingestion.raw.messages', partitions: 3, replicas: 1 });
    const engine = createEngine({ topics, registry });
    await engine.execute(`
      CREATE STREAM raw WITH (kafka_topic='ingestion.raw.messages', key_format='KAFKA', value_format='AVRO');
      CREATE STREAM normalized WITH (kafka_topic='ingestion.normalized.messages', value_format='AVRO', value_schema_id=${normalizedId}) AS
        SELECT
          CASE WHEN channel = 'EMAIL' THEN 'email:' + LCASE(TRIM(sender_handle)) ELSE 'phone:' + sender_handle END AS contact_key,
          event_id AS \`event_id\`, kind AS \`kind\`, channel AS \`channel\`, provider AS \`provider\`,
          provider_message_id AS \`provider_message_id\`,
          AS_VALUE(CASE WHEN channel = 'EMAIL' THEN 'email:' + LCASE(TRIM(sender_handle)) ELSE 'phone:' + sender_handle END) AS \`contact_key\`,
          sender_handle AS \`sender_handle\`, display_name AS \`display_name\`, inbox AS \`inbox\`,
          received_at AS \`received_at\`
        FROM raw
        PARTITION BY CASE WHEN channel = 'EMAIL' THEN 'email:' + LCASE(TRIM(sender_handle)) ELSE 'phone:' + sender_handle END;
    `);
    expect(engine.metastore.getSource('RAW')?.schema.value.find((c) => c.name === 'KIND')?.type).toEqual({
      type: 'STRING',
    });

    const rawType = avro.Type.forSchema(JSON.parse(contract('ingestion.raw.messages')) as avro.Schema);
    const message = {
      event_id: 'e-1',
      kind: 'MESSAGE',
      channel: 'EMAIL',
      provider: 'postmark',
      provider_message_id: 'pm-1',
      inbox: 'support@example.test',
      received_at: 1_700_000_000_000,
      sent_at: null,
      sender_handle: '  Ada@Example.Test ',
      sender_aliases: [],
      display_name: 'Ada',
      subject: null,
      text_body: 'hello',
      has_html: false,
      message_type: 'text',
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
      correlation_id: 'c-1',
      dedup_key: 'd-1',
      dedup_outcome: 'FIRST_SEEN',
    };
    const valid = rawType.isValid(message, {
      errorHook: (path) => {
        throw new Error(`invalid raw test message at ${path.join('.')}`);
      },
    });
    expect(valid).toBe(true);
    await engine.produce('ingestion.raw.messages', {
      key: Buffer.from('e-1'),
      value: wrapWire(rawId, rawType.toBuffer(message)),
      timestamp: 5,
      headers: [],
    });

    const out = topics.records('ingestion.normalized.messages');
    expect(out).toHaveLength(1);
    const record = out[0];
    expect(record?.key?.toString()).toBe('email:ada@example.test');
    expect(record?.value?.readInt32BE(1)).toBe(normalizedId);
    const decoded = avroType(JSON.parse(contract('ingestion.normalized.messages')) as never).fromBuffer(
      record?.value?.subarray(5) ?? Buffer.alloc(0),
    ) as Record<string, unknown>;
    expect(decoded).toMatchObject({
      event_id: 'e-1',
      kind: 'MESSAGE',
      channel: 'EMAIL',
      contact_key: 'email:ada@example.test',
      display_name: 'Ada',
      received_at: 1_700_000_000_000n,
      subject: null,
      attachments: null,
    });
  });
});
