/**
 * Smoke tests proving both JS Schema Registry clients work against Apicurio's Confluent-compatible
 * API: register, encode, decode (Confluent wire format: magic byte + 4-byte schema id), and a
 * compatibility check that rejects an incompatible schema under the global BACKWARD rule.
 */
import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import {
  AvroDeserializer,
  AvroSerializer,
  SchemaRegistryClient,
  SerdeType,
  TopicNameStrategy,
} from '@confluentinc/schemaregistry';
import { describe, expect, it } from 'vitest';
import { testConfig, uniqueName } from '../../support/env.ts';

const registryUrl = testConfig.registry.url;

function ticketSchema(name: string, extraFields: object[] = []): string {
  return JSON.stringify({
    type: 'record',
    name,
    namespace: 'dev.streamdesk.test',
    fields: [{ name: 'ticket_id', type: 'string' }, { name: 'priority', type: 'int' }, ...extraFields],
  });
}

async function compatibility(subject: string, schema: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(
    `${registryUrl}/compatibility/subjects/${encodeURIComponent(subject)}/versions/latest`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ schema, schemaType: 'AVRO' }),
    },
  );
  return { status: response.status, body: await response.json() };
}

describe('Schema Registry (Apicurio ccompat) with the JS clients', () => {
  it('has the global compatibility rule BACKWARD', async () => {
    const response = await fetch(`${registryUrl}/config`);
    expect(await response.json()).toEqual({ compatibilityLevel: 'BACKWARD' });
  });

  it('@kafkajs/confluent-schema-registry registers, encodes and decodes', async () => {
    const registry = new SchemaRegistry({ host: registryUrl });
    const subject = `${uniqueName('kafkajs-sr')}-value`;
    const { id } = await registry.register(
      { type: SchemaType.AVRO, schema: ticketSchema('KafkajsTicket') },
      { subject },
    );
    expect(id).toBeGreaterThan(0);
    const encoded = await registry.encode(id, { ticket_id: 't-1', priority: 2 });
    expect(encoded[0]).toBe(0); // magic byte
    expect(encoded.readInt32BE(1)).toBe(id);
    expect(await registry.decode(encoded)).toEqual({ ticket_id: 't-1', priority: 2 });
    // Registering the same schema again returns the same id (lookup, not a new version).
    const again = await registry.register(
      { type: SchemaType.AVRO, schema: ticketSchema('KafkajsTicket') },
      { subject },
    );
    expect(again.id).toBe(id);
  });

  it('@confluentinc/schemaregistry serializes and deserializes with auto-registration', async () => {
    const client = new SchemaRegistryClient({
      baseURLs: [registryUrl],
      maxRetries: 2,
      // axios has no timeout by default: a request lost under load would hang the test instead of retrying.
      // The budget covers the retries too (axios-retry keeps the first timeout), and the registry shares
      // PostgreSQL with the tickets crash test running beside this file: 10 s was seen to run out once.
      createAxiosDefaults: { timeout: 30_000 },
    });
    // Each step named, so a slow registry answer says which call it was.
    const step = async <T>(label: string, work: Promise<T>): Promise<T> => {
      try {
        return await work;
      } catch (error) {
        throw new Error(`${label}: ${(error as Error).message}`, { cause: error });
      }
    };
    const topic = uniqueName('confluent-sr');
    const schema = ticketSchema('ConfluentTicket');
    const id = await step('register', client.register(`${topic}-value`, { schemaType: 'AVRO', schema }));
    // `<topic>-value`, as streamdesk names subjects. Without it, client 1.10 first asks the
    // Confluent-only /associations endpoint, which Apicurio answers 404 — and once, under load, not
    // within 30 s (CI of stop 10).
    const naming = { subjectNameStrategy: TopicNameStrategy };
    const serializer = new AvroSerializer(client, SerdeType.VALUE, { useLatestVersion: true, ...naming });
    const deserializer = new AvroDeserializer(client, SerdeType.VALUE, naming);
    const bytes = await step('serialize', serializer.serialize(topic, { ticket_id: 't-2', priority: 5 }));
    expect(bytes.readInt32BE(1)).toBe(id);
    expect(await step('deserialize', deserializer.deserialize(topic, bytes))).toEqual({
      ticket_id: 't-2',
      priority: 5,
    });
    const latest = await step('latest', client.getLatestSchemaMetadata(`${topic}-value`));
    expect(latest.id).toBe(id);
  });

  it('accepts a compatible evolution and rejects an incompatible one', async () => {
    const registry = new SchemaRegistry({ host: registryUrl });
    const subject = `${uniqueName('compat')}-value`;
    await registry.register({ type: SchemaType.AVRO, schema: ticketSchema('CompatTicket') }, { subject });

    // Adding a field with a default: new readers can read old records.
    const compatible = ticketSchema('CompatTicket', [{ name: 'channel', type: 'string', default: 'email' }]);
    expect(await compatibility(subject, compatible)).toEqual({ status: 200, body: { is_compatible: true } });

    // Adding a field without a default: new readers cannot read old records → not BACKWARD.
    const incompatible = ticketSchema('CompatTicket', [{ name: 'assignee', type: 'string' }]);
    expect((await compatibility(subject, incompatible)).body).toMatchObject({ is_compatible: false });

    // And registration refuses it (409), which both clients surface as an error.
    const response = await fetch(`${registryUrl}/subjects/${encodeURIComponent(subject)}/versions`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ schema: incompatible, schemaType: 'AVRO' }),
    });
    expect(response.status).toBe(409);
    await expect(
      registry.register({ type: SchemaType.AVRO, schema: incompatible }, { subject }),
    ).rejects.toThrow();
    const client = new SchemaRegistryClient({
      baseURLs: [registryUrl],
      maxRetries: 0,
      createAxiosDefaults: { timeout: 10_000 },
    });
    await expect(client.register(subject, { schemaType: 'AVRO', schema: incompatible })).rejects.toThrow();
    // The failed attempts registered nothing.
    const versions = (await (
      await fetch(`${registryUrl}/subjects/${encodeURIComponent(subject)}/versions`)
    ).json()) as number[];
    expect(versions).toHaveLength(1);
  });

  it('kafkajs client refuses a subject whose compatibility differs from what it asks for', async () => {
    const registry = new SchemaRegistry({ host: registryUrl });
    const subject = `${uniqueName('compat-level')}-value`;
    await registry.register({ type: SchemaType.AVRO, schema: ticketSchema('LevelTicket') }, { subject });
    await expect(
      registry.register(
        { type: SchemaType.AVRO, schema: ticketSchema('LevelTicket') },
        { subject, compatibility: COMPATIBILITY.FULL },
      ),
    ).rejects.toMatchObject({ name: 'ConfluentSchemaRegistryCompatibilityError' });
  });
});
