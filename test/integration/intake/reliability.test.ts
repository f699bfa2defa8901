/**
 * The intake under faults, on real services: Redis down (accept unchecked), Kafka or the registry
 * unreachable (503 + Retry-After, nothing published), a broker killed with kill -9 mid-load (every
 * 2xx is in the topic, everything else got a 5xx), graceful shutdown, operations endpoints.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.ts';
import { PROJECT_ROOT } from '../../../src/paths.ts';
import { buildApp } from '../../../src/services/intake/app.ts';
import { createStack } from '../../../src/stack/stack.ts';
import { freePort, testKafka, uniqueName } from '../../support/env.ts';
import { readRawRecords, startTestIntake, type TestIntake } from '../../support/intake.ts';
import { deleteTestTopics } from '../../support/kafka.ts';
import { errorCode, errorMessage, signedWhatsAppText } from '../../support/payloads.ts';
import { createTopicsReady } from '../../../src/kafka/admin.ts';

let admin: Admin;
beforeAll(async () => {
  admin = testKafka('reliability-test').admin();
  await admin.connect();
});
afterAll(async () => {
  await deleteTestTopics(admin);
  await admin.disconnect();
});

const postWhatsApp = (intake: TestIntake, message = signedWhatsAppText()) =>
  intake.app.inject({
    method: 'POST',
    url: '/webhooks/whatsapp',
    payload: message.body,
    headers: message.headers,
  });

describe('dependencies down', () => {
  it('Redis down: keeps accepting, marks records UNCHECKED, counts it, and readiness says so', async () => {
    const intake = await startTestIntake(admin, {
      STREAMDESK_REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
    });
    try {
      const message = signedWhatsAppText();
      const response = await postWhatsApp(intake, message);
      expect(response.statusCode).toBe(200);
      const [record] = (await readRawRecords(intake.topic)).filter(
        (r) => r.value.provider_message_id === message.id,
      );
      expect(record?.value.dedup_outcome).toBe('UNCHECKED');
      const metrics = await intake.app.inject({ url: '/metrics' });
      expect(metrics.body).toMatch(/streamdesk_intake_dedup_unavailable_total \d*[1-9]/);
      const ready = await intake.app.inject({ url: '/readyz' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json()).toEqual({
        status: 'not ready',
        checks: { kafka: 'ok', registry: 'ok', redis: 'failing' },
      });
    } finally {
      await intake.close();
    }
  });

  it('Kafka unreachable: 503 with Retry-After, nothing published', async () => {
    const topic = uniqueName('no-kafka');
    const intake = await startTestIntake(
      admin,
      {
        STREAMDESK_KAFKA_BROKERS: `127.0.0.1:${await freePort()}`,
        STREAMDESK_INTAKE_PUBLISH_TIMEOUT_MS: '1500',
      },
      topic,
    );
    try {
      const response = await postWhatsApp(intake);
      expect(response.statusCode).toBe(503);
      expect(response.headers['retry-after']).toBe('5');
      expect(errorCode(response)).toBe('SD_ERR_INTAKE_UNAVAILABLE');
      expect(
        (await intake.app.inject({ url: '/readyz' })).json<{ checks: { kafka: string } }>().checks.kafka,
      ).toBe('failing');
    } finally {
      await intake.close();
    }
  });

  it('registry unreachable: 503, nothing published', async () => {
    const intake = await startTestIntake(admin, {
      STREAMDESK_REGISTRY_URL: `http://127.0.0.1:${await freePort()}/apis/ccompat/v7`,
    });
    try {
      const response = await postWhatsApp(intake);
      expect(response.statusCode).toBe(503);
      expect(errorMessage(response)).toBe('the schema registry is unreachable');
      expect(await readRawRecords(intake.topic)).toHaveLength(0);
    } finally {
      await intake.close();
    }
  });
});

describe('operations', () => {
  it('healthz, readyz, metrics, and a graceful close that finishes in-flight requests', async () => {
    const intake = await startTestIntake(admin);
    expect((await intake.app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
    // The producer connects in the background: ready once it has.
    let ready = await intake.app.inject({ url: '/readyz' });
    for (let i = 0; i < 50 && ready.statusCode !== 200; i++) {
      await new Promise((r) => setTimeout(r, 200));
      ready = await intake.app.inject({ url: '/readyz' });
    }
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready', checks: { kafka: 'ok', registry: 'ok', redis: 'ok' } });
    await postWhatsApp(intake);
    const metrics = (await intake.app.inject({ url: '/metrics' })).body;
    expect(metrics).toContain('streamdesk_intake_requests_total{channel="whatsapp",outcome="accepted"} 1');
    expect(metrics).toContain('streamdesk_intake_produce_duration_seconds_count 1');
    expect(metrics).toContain('streamdesk_intake_in_flight_requests');
    expect(metrics).not.toMatch(/wamid|1555/); // no ids or phone numbers in labels

    // Requests the server is handling when close() starts complete; their records are in Kafka.
    await intake.app.listen({ host: '127.0.0.1', port: 0 });
    const address = intake.app.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const messages = Array.from({ length: 20 }, () => signedWhatsAppText());
    const inFlight = messages.map((m) =>
      fetch(`http://127.0.0.1:${port}/webhooks/whatsapp`, {
        method: 'POST',
        body: m.body,
        headers: m.headers,
      }).then(
        (r) => r.status,
        () => 0, // not yet started when the server closed: the connection is refused or reset
      ),
    );
    const gauge = async () => (await intake.runtime.deps.metrics.inFlight.get()).values[0]?.value ?? 0;
    for (let i = 0; i < 200 && (await gauge()) === 0; i++) await new Promise((r) => setTimeout(r, 1));
    expect(await gauge()).toBeGreaterThan(0);
    await intake.close();
    const statuses = await Promise.all(inFlight);
    const accepted = messages.filter((_, i) => statuses[i] === 200).map((m) => m.id);
    expect(accepted.length).toBeGreaterThan(0);
    expect(statuses.every((s) => s === 200 || s === 503 || s === 0)).toBe(true);
    const landed = new Set((await readRawRecords(intake.topic)).map((r) => r.value.provider_message_id));
    for (const id of accepted) expect(landed.has(id)).toBe(true);
  });
});

describe('broker killed mid-load', () => {
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = mkdtempSync(`${tmpdir()}/streamdesk-kill-`);
    chmodSync(dir, 0o755);
    env = {
      STREAMDESK_STACK_DIR: dir,
      STREAMDESK_KAFKA_PORT: String(await freePort()),
      STREAMDESK_KAFKA_CONTROLLER_PORT: String(await freePort()),
    };
  });
  afterAll(async () => {
    const config = loadConfig(env, PROJECT_ROOT);
    await createStack(config.stack, PROJECT_ROOT, () => undefined).down(['kafka']);
    rmSync(dir, { recursive: true, force: true });
  });

  // Found a real defect (stop 10: 8 of 21 runs lost 1–35 acknowledged records, all answered after the
  // restart): kafkajs numbered the batch after a failed send like the failed one, which the broker
  // had written, so it was acknowledged as a duplicate and dropped. The intake's producer is now
  // retired after a failed send (src/kafka/renewing-producer.ts; deterministic reproduction in
  // test/integration/kafka/ambiguous-send.test.ts).
  it('every request answered 2xx is in the topic; every other one got a 5xx', async () => {
    const config = loadConfig(env, PROJECT_ROOT);
    const stack = createStack(config.stack, PROJECT_ROOT, () => undefined);
    await stack.up(['kafka']);
    const brokers = [`127.0.0.1:${config.stack.kafka.port}`];
    const isolatedAdmin = testKafka('kill-admin', brokers).admin();
    await isolatedAdmin.connect();
    const topic = uniqueName('kill');
    await createTopicsReady(isolatedAdmin, [{ topic, numPartitions: 3, replicationFactor: 1 }]);
    await isolatedAdmin.disconnect();

    const intake = await startTestIntake(
      admin,
      { STREAMDESK_KAFKA_BROKERS: brokers.join(','), STREAMDESK_INTAKE_PUBLISH_TIMEOUT_MS: '2000' },
      topic,
    );
    const app = buildApp(intake.runtime.deps);
    const results: { id: string; status: number }[] = [];
    const chaosState = { killed: false, restarted: false };
    // Phases by progress, not by the clock (a loaded CI machine once got only 15 answers in a fixed 9 s):
    // load until 30 are accepted, kill, 3 s down, restart, load until 30 more are accepted.
    let stop = false;
    const accepted = (): number => results.filter((r) => r.status === 200).length;
    const until = async (what: string, done: () => boolean, timeoutMs: number): Promise<void> => {
      const deadline = Date.now() + timeoutMs;
      while (!done()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const worker = async () => {
      while (!stop) {
        const message = signedWhatsAppText();
        const response = await app.inject({
          method: 'POST',
          url: '/webhooks/whatsapp',
          payload: message.body,
          headers: message.headers,
        });
        results.push({ id: message.id, status: response.statusCode });
      }
    };
    const chaos = async () => {
      try {
        await until('30 accepted before the kill', () => accepted() >= 30, 30_000);
        const pid = (await stack.status()).find((s) => s.name === 'kafka')?.pid;
        if (pid === undefined) throw new Error('no broker pid');
        process.kill(pid, 'SIGKILL');
        chaosState.killed = true;
        await new Promise((r) => setTimeout(r, 3000));
        await stack.up(['kafka']);
        chaosState.restarted = true;
        const atRestart = accepted();
        await until('30 accepted after the restart', () => accepted() >= atRestart + 30, 45_000);
      } finally {
        stop = true;
      }
    };
    await Promise.all([...Array.from({ length: 8 }, worker), chaos()]);
    expect(chaosState).toEqual({ killed: true, restarted: true });
    // Let sends that outlived their request settle, then read what the broker kept.
    const deadline = Date.now() + 20_000;
    while (intake.runtime.deps.publisher.backlog() > 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    await app.close();
    await intake.close();

    const statuses = new Set(results.map((r) => r.status));
    expect([...statuses].every((s) => s === 200 || s === 503)).toBe(true);
    const ok = results.filter((r) => r.status === 200);
    const failed = results.filter((r) => r.status === 503);
    expect(ok.length).toBeGreaterThanOrEqual(60); // load before the kill and after the restart
    expect(failed.length).toBeGreaterThan(0); // the kill was felt
    const landed = new Set((await readRawRecords(topic, brokers)).map((r) => r.value.provider_message_id));
    const lost = ok.filter((r) => !landed.has(r.id));
    console.info(
      `broker kill: ${results.length} requests, ${ok.length} answered 200, ${failed.length} answered 503, ` +
        `${landed.size} records on the topic, ${lost.length} accepted records missing`,
    );
    expect(lost).toEqual([]);
  }, 120_000);
});
