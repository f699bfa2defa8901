/** Web forms through the real intake: JSON and urlencoded, CORS, required fields, honeypot, rate limit, idempotency. */
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testKafka } from '../../support/env.ts';
import { readRawRecords, startTestIntake, testFormsFile, type TestIntake } from '../../support/intake.ts';
import { errorCode } from '../../support/payloads.ts';
import { deleteTestTopics } from '../../support/kafka.ts';

let admin: Admin;
let intake: TestIntake;
const forms = testFormsFile();
const ip = () =>
  `10.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`;

beforeAll(async () => {
  admin = testKafka('forms-test').admin();
  await admin.connect();
  intake = await startTestIntake(admin, { STREAMDESK_INTAKE_FORMS_FILE: forms.file });
});
afterAll(async () => {
  await intake.close();
  await deleteTestTopics(admin);
  await admin.disconnect();
});

const submit = (
  form: string,
  payload: string,
  contentType: string,
  headers: Record<string, string> = {},
  remoteAddress = ip(),
) =>
  intake.app.inject({
    method: 'POST',
    url: `/forms/${form}`,
    payload,
    remoteAddress,
    headers: { 'content-type': contentType, ...headers },
  });
const json = (form: string, body: object, headers: Record<string, string> = {}, remote?: string) =>
  submit(form, JSON.stringify(body), 'application/json', headers, remote);

describe('web forms', () => {
  it('accepts JSON and urlencoded submissions with 202 and a reference, publishing the fields', async () => {
    const first = await json(forms.contact, {
      email: 'Dana@Example.com ',
      phone: '+1 555 0100',
      name: 'Dana',
      subject: 'Billing',
      message: 'I was charged twice.',
      category: 'billing',
      page_url: 'https://www.example.com/help',
    });
    expect(first.statusCode).toBe(202);
    const reference = first.json<{ reference: string }>().reference;
    const second = await submit(
      forms.contact,
      new URLSearchParams({ email: 'eve@example.com', message: 'Hello from a plain form' }).toString(),
      'application/x-www-form-urlencoded',
    );
    expect(second.statusCode).toBe(202);

    const records = await readRawRecords(intake.topic);
    const dana = records.find((r) => r.value.event_id === reference);
    expect(dana?.key).toBe('Dana@Example.com');
    expect(dana?.value).toMatchObject({
      kind: 'MESSAGE',
      channel: 'WEB_FORM',
      provider: 'web_form',
      inbox: forms.contact,
      sender_handle: 'Dana@Example.com',
      sender_aliases: ['+1 555 0100'],
      display_name: 'Dana',
      subject: 'Billing',
      text_body: 'I was charged twice.',
      message_type: 'form',
      form_fields: { category: 'billing', page_url: 'https://www.example.com/help' },
    });
    expect(records.find((r) => r.value.sender_handle === 'eve@example.com')?.value.text_body).toBe(
      'Hello from a plain form',
    );
  });

  it('CORS: preflight and posts from allowed origins pass, others are refused', async () => {
    const preflight = await intake.app.inject({
      method: 'OPTIONS',
      url: `/forms/${forms.contact}`,
      headers: { origin: 'https://www.example.com' },
    });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('https://www.example.com');
    expect(preflight.headers['access-control-allow-methods']).toContain('POST');
    const foreign = await intake.app.inject({
      method: 'OPTIONS',
      url: `/forms/${forms.contact}`,
      headers: { origin: 'https://evil.example' },
    });
    expect(foreign.statusCode).toBe(403);
    const post = await json(
      forms.contact,
      { email: 'x@example.com', message: 'hi' },
      { origin: 'https://evil.example' },
    );
    expect(post.statusCode).toBe(403);
    expect(errorCode(post)).toBe('SD_ERR_INTAKE_FORBIDDEN');
    const allowed = await json(
      forms.contact,
      { email: 'x@example.com', message: 'hi' },
      { origin: 'https://www.example.com' },
    );
    expect(allowed.statusCode).toBe(202);
    expect(allowed.headers['access-control-allow-origin']).toBe('https://www.example.com');
  });

  it('refuses missing required fields (422), bad values, unknown forms (404) and malformed bodies (400)', async () => {
    const missing = await json(forms.contact, { email: 'x@example.com' });
    expect(missing.statusCode).toBe(422);
    expect(missing.json()).toEqual({
      error: { code: 'SD_ERR_INTAKE_INVALID_PAYLOAD', message: 'missing required field(s): message' },
    });
    const badEmail = await json(forms.contact, { email: 'not-an-address', message: 'x' });
    expect(badEmail.statusCode).toBe(422);
    expect(badEmail.body).not.toContain('not-an-address');
    expect((await json('no-such-form', { email: 'x@example.com', message: 'x' })).statusCode).toBe(404);
    expect((await submit(forms.contact, '{"email":', 'application/json')).statusCode).toBe(400);
    expect((await json(forms.contact, { email: { nested: true }, message: 'x' })).statusCode).toBe(422);
  });

  it('a filled honeypot is answered like a success and produces nothing', async () => {
    const response = await json(forms.contact, {
      email: 'bot@example.com',
      message: 'buy now',
      website: 'http://spam.example',
    });
    expect(response.statusCode).toBe(202);
    expect(
      (await readRawRecords(intake.topic)).some((r) => r.value.sender_handle === 'bot@example.com'),
    ).toBe(false);
  });

  it('rate-limits per client IP with 429 and Retry-After, other clients unaffected', async () => {
    const client = ip();
    const statuses = [];
    for (let i = 0; i < 5; i++)
      statuses.push(
        (await json(forms.limited, { phone: '+15550100', message: `try ${i}` }, {}, client)).statusCode,
      );
    expect(statuses).toEqual([202, 202, 202, 429, 429]);
    const limited = await json(forms.limited, { phone: '+15550100', message: 'again' }, {}, client);
    expect(errorCode(limited)).toBe('SD_ERR_INTAKE_RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(
      (await json(forms.limited, { phone: '+15550100', message: 'other client' }, {}, ip())).statusCode,
    ).toBe(202);
  });

  it('a double submit with the same idempotency key collapses into one record with one reference', async () => {
    const key = `submit-${Date.now()}-${Math.random().toString(36).slice(2)}`;
    const body = { email: 'frank@example.com', message: 'double click' };
    const responses = await Promise.all([
      json(forms.contact, body, { 'idempotency-key': key }),
      json(forms.contact, body, { 'idempotency-key': key }),
    ]);
    expect(responses.map((r) => r.statusCode)).toEqual([202, 202]);
    const references = responses.map((r) => r.json<{ reference: string }>().reference);
    expect(references[0]).toBe(references[1]);
    const records = (await readRawRecords(intake.topic)).filter(
      (r) => r.value.dedup_key === `form:${forms.contact}:${key}`,
    );
    expect(records).toHaveLength(1);
    expect(records[0]?.value.event_id).toBe(references[0]);
  });
});
