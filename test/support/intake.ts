/**
 * An intake wired to the real stack (Kafka, registry, Redis) publishing to this test's own topic,
 * and a reader that decodes what landed there with the registered contract.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import avro from 'avsc';
import type { FastifyInstance } from 'fastify';
import type { Admin } from 'kafkajs';
import { environment } from '../../src/cli/main.ts';
import { loadConfig, type Config } from '../../src/config/index.ts';
import { loadCatalog } from '../../src/contracts/catalog.ts';
import type { RawMessage } from '../../src/contracts/generated/ingestion-raw-messages-value.ts';
import { loadLocalSchemas, registerSchemas } from '../../src/contracts/schemas.ts';
import { PROJECT_ROOT } from '../../src/paths.ts';
import { createRegistryClient } from '../../src/registry/client.ts';
import { buildApp } from '../../src/services/intake/app.ts';
import { createIntakeRuntime, type IntakeRuntime } from '../../src/services/intake/main.ts';
import { testKafka, uniqueName } from './env.ts';
import { createTestTopic } from './kafka.ts';
import { INTAKE_ENV } from './payloads.ts';

let registered: Promise<unknown> | undefined;

/** Register the contracts once per test file (idempotent), so the intake finds its schema id. */
export function ensureContracts(config: Config): Promise<unknown> {
  registered ??= registerSchemas(
    loadCatalog(PROJECT_ROOT),
    loadLocalSchemas(PROJECT_ROOT),
    createRegistryClient(config.registry.url),
    () => undefined,
  );
  return registered;
}

/** A forms file with this run's own form ids (rate-limit windows in Redis outlive a test run). */
export function testFormsFile(): { file: string; contact: string; limited: string } {
  const contact = uniqueName('contact').replaceAll('.', '-');
  const limited = uniqueName('limited').replaceAll('.', '-');
  const dir = mkdtempSync(`${tmpdir()}/streamdesk-forms-`);
  const file = `${dir}/forms.yaml`;
  writeFileSync(
    file,
    [
      'forms:',
      `  ${contact}:`,
      "    allowed_origins: ['https://www.example.com']",
      '    required: [email, message]',
      '    honeypot: website',
      `  ${limited}:`,
      '    required: [message]',
      '    rate_limit: { requests: 3, per: 1m }',
    ].join('\n'),
  );
  return { file, contact, limited };
}

export function intakeConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({ ...environment(PROJECT_ROOT, process.env), ...INTAKE_ENV, ...overrides }, PROJECT_ROOT);
}

export interface TestIntake {
  readonly app: FastifyInstance;
  readonly runtime: IntakeRuntime;
  readonly topic: string;
  readonly config: Config;
  close(): Promise<void>;
}

export async function startTestIntake(
  admin: Admin,
  overrides: Record<string, string> = {},
  topic?: string,
): Promise<TestIntake> {
  const config = intakeConfig(overrides);
  await ensureContracts(intakeConfig());
  const target = topic ?? (await createTestTopic(admin, 'intake', 3));
  const runtime = await createIntakeRuntime(config, { topic: target, defaultMetrics: false });
  const app = buildApp(runtime.deps);
  await app.ready();
  return {
    app,
    runtime,
    topic: target,
    config,
    async close() {
      await app.close();
      await runtime.close(2000);
    },
  };
}

export interface DecodedRecord {
  readonly key: string | null;
  readonly value: RawMessage;
  readonly partition: number;
  readonly headers: Record<string, string>;
}

/** Every record on `topic` (from the beginning), decoded by schema id through the registry. */
export async function readRawRecords(
  topic: string,
  brokers?: readonly string[],
  settleMs = 300,
): Promise<DecodedRecord[]> {
  const config = intakeConfig();
  const registry = createRegistryClient(config.registry.url);
  const types = new Map<number, avro.Type>();
  const admin = (brokers ? testKafka('reader', brokers) : testKafka('reader')).admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const total = offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  const consumer = (brokers ? testKafka('reader', brokers) : testKafka('reader')).consumer({
    groupId: uniqueName('reader'),
    maxWaitTimeInMs: 100,
  });
  const records: DecodedRecord[] = [];
  const raw: { key: string | null; value: Buffer; partition: number; headers: Record<string, string> }[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 20_000);
    if (total === 0) {
      clearTimeout(timer);
      setTimeout(resolve, settleMs);
    }
    void consumer.run({
      eachMessage: async ({ message, partition }) => {
        raw.push({
          key: message.key?.toString() ?? null,
          value: message.value ?? Buffer.alloc(0),
          partition,
          headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
        });
        if (raw.length >= total) {
          clearTimeout(timer);
          setTimeout(resolve, settleMs);
        }
      },
    });
  });
  await consumer.disconnect();
  for (const r of raw) {
    if (r.value.readUInt8(0) !== 0) throw new Error('not Confluent wire format');
    const id = r.value.readInt32BE(1);
    let type = types.get(id);
    if (!type) {
      type = avro.Type.forSchema(JSON.parse(await registry.schemaById(id)) as avro.Schema);
      types.set(id, type);
    }
    records.push({
      key: r.key,
      value: type.fromBuffer(r.value.subarray(5)) as RawMessage,
      partition: r.partition,
      headers: r.headers,
    });
  }
  return records;
}
