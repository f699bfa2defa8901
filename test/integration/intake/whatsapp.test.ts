/**
 * WhatsApp Business Cloud API webhooks through the real intake: signature, every message type of a
 * batch, status-only deliveries, bad input, and concurrent redelivery — asserting the Avro records
 * that land on the topic.
 */
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testKafka } from '../../support/env.ts';
import { readRawRecords, startTestIntake, type TestIntake } from '../../support/intake.ts';
import { deleteTestTopics } from '../../support/kafka.ts';
import {
  PHONE_NUMBER_ID,
  SECRETS,
  signedWhatsAppText,
  signWhatsApp,
  textMessage,
  waId,
  wamid,
  whatsappWebhook,
  errorCode,
} from '../../support/payloads.ts';

let admin: Admin;
let intake: TestIntake;

beforeAll(async () => {
  admin = testKafka('whatsapp-test').admin();
  await admin.connect();
  intake = await startTestIntake(admin);
});
afterAll(async () => {
  await intake.close();
  await deleteTestTopics(admin);
  await admin.disconnect();
});

function post(body: string, headers: Record<string, string> = {}) {
  return intake.app.inject({
    method: 'POST',
    url: '/webhooks/whatsapp',
    payload: body,
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': signWhatsApp(body), ...headers },
  });
}

describe('WhatsApp webhook', () => {
  it('answers the verification handshake only with the right token', async () => {
    const ok = await intake.app.inject({
      url: `/webhooks/whatsapp?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=${SECRETS.whatsappVerifyToken}`,
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toBe('1158201444');
    const wrong = await intake.app.inject({
      url: '/webhooks/whatsapp?hub.mode=subscribe&hub.challenge=1&hub.verify_token=nope',
    });
    expect(wrong.statusCode).toBe(403);
    expect(wrong.json()).toEqual({ error: { code: 'SD_ERR_INTAKE_FORBIDDEN', message: expect.any(String) } });
  });

  it('publishes every message of a batch (entries × changes × messages) and its statuses, as Avro', async () => {
    const alice = waId();
    const bob = waId();
    const ids = {
      text: wamid(),
      image: wamid(),
      button: wamid(),
      list: wamid(),
      location: wamid(),
      reaction: wamid(),
      system: wamid(),
      unsupported: wamid(),
      contacts: wamid(),
      legacyButton: wamid(),
    };
    const outbound = wamid();
    const payload = whatsappWebhook([
      {
        contacts: [{ profile: { name: 'Alice' }, wa_id: alice }],
        messages: [
          { ...textMessage(alice, 'Where is my order?', ids.text) },
          {
            from: alice,
            id: ids.image,
            timestamp: '1739321030',
            type: 'image',
            context: { from: '15550783881', id: outbound },
            image: {
              caption: 'the box',
              mime_type: 'image/jpeg',
              sha256: 'e3b0c442',
              id: '1003383421387256',
            },
          },
          {
            from: alice,
            id: ids.button,
            timestamp: '1739321031',
            type: 'interactive',
            interactive: { type: 'button_reply', button_reply: { id: 'refund', title: 'Refund please' } },
          },
          {
            from: alice,
            id: ids.list,
            timestamp: '1739321032',
            type: 'interactive',
            interactive: {
              type: 'list_reply',
              list_reply: { id: 'p-2', title: 'Priority', description: 'next day' },
            },
          },
          {
            from: alice,
            id: ids.legacyButton,
            timestamp: '1739321033',
            type: 'button',
            button: { text: 'Yes', payload: 'CONFIRM' },
          },
          {
            from: alice,
            id: ids.location,
            timestamp: '1739321034',
            type: 'location',
            location: { latitude: 52.37, longitude: 4.89, name: 'Depot' },
          },
          {
            from: alice,
            id: ids.contacts,
            timestamp: '1739321035',
            type: 'contacts',
            contacts: [{ name: { formatted_name: 'Courier' } }],
          },
          {
            from: alice,
            id: ids.reaction,
            timestamp: '1739321036',
            type: 'reaction',
            reaction: { message_id: outbound, emoji: '👍' },
          },
        ],
      },
      {
        contacts: [{ profile: { name: 'Bob' }, wa_id: bob }],
        messages: [
          {
            from: bob,
            id: ids.system,
            timestamp: '1739321040',
            type: 'system',
            system: {
              body: 'Bob changed from 1555 to 1666',
              wa_id: '16660001111',
              type: 'user_changed_number',
            },
          },
          {
            from: bob,
            id: ids.unsupported,
            timestamp: '1739321041',
            type: 'unsupported',
            errors: [{ code: 131051, title: 'Message type unknown' }],
          },
        ],
        statuses: [
          {
            id: outbound,
            status: 'delivered',
            timestamp: '1750857384',
            recipient_id: alice,
            pricing: { billable: true, category: 'service' },
          },
        ],
      },
    ]);
    const response = await post(JSON.stringify(payload));
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'accepted', accepted: 11, duplicates: 0 });

    const records = await readRawRecords(intake.topic);
    const byId = new Map(
      records.map((r) => [
        r.value.kind === 'STATUS' ? `status:${r.value.provider_message_id}` : r.value.provider_message_id,
        r,
      ]),
    );
    expect(records).toHaveLength(11);
    for (const r of records) {
      expect(r.value).toMatchObject({
        channel: 'WHATSAPP',
        provider: 'whatsapp_cloud',
        inbox: PHONE_NUMBER_ID,
        dedup_outcome: 'FIRST_SEEN',
      });
      expect(r.key).toBe(r.value.sender_handle); // key = the sender handle as received
      expect(r.headers['sd-event-id']).toBe(r.value.event_id);
    }
    expect(byId.get(ids.text)?.value).toMatchObject({
      kind: 'MESSAGE',
      message_type: 'text',
      text_body: 'Where is my order?',
      display_name: 'Alice',
      sender_handle: alice,
      sent_at: 1739321024000,
    });
    expect(byId.get(ids.image)?.value).toMatchObject({
      message_type: 'image',
      text_body: 'the box',
      context_message_id: outbound,
      attachments: [
        {
          content_type: 'image/jpeg',
          provider_media_id: '1003383421387256',
          sha256: 'e3b0c442',
          filename: null,
          size_bytes: null,
        },
      ],
    });
    expect(byId.get(ids.button)?.value).toMatchObject({
      message_type: 'interactive',
      text_body: 'Refund please',
    });
    expect(JSON.parse(byId.get(ids.list)?.value.payload_json ?? '{}')).toMatchObject({
      list_reply: { id: 'p-2' },
    });
    expect(byId.get(ids.legacyButton)?.value).toMatchObject({ message_type: 'button', text_body: 'Yes' });
    expect(JSON.parse(byId.get(ids.location)?.value.payload_json ?? '{}')).toEqual({
      latitude: 52.37,
      longitude: 4.89,
      name: 'Depot',
    });
    expect(byId.get(ids.contacts)?.value.message_type).toBe('contacts');
    expect(byId.get(ids.reaction)?.value).toMatchObject({
      message_type: 'reaction',
      context_message_id: outbound,
    });
    expect(byId.get(ids.system)?.value).toMatchObject({
      kind: 'IDENTITY_CHANGE',
      new_handle: '16660001111',
      sender_handle: bob,
    });
    expect(byId.get(ids.unsupported)?.value).toMatchObject({ kind: 'MESSAGE', message_type: 'unsupported' });
    expect(byId.get(`status:${outbound}`)?.value).toMatchObject({
      kind: 'STATUS',
      message_type: 'status',
      delivery_status: 'DELIVERED',
      sender_handle: alice,
      dedup_key: `whatsapp:status:${outbound}:delivered`,
    });
    // Per-sender ordering: all of Alice's records on one partition.
    expect(new Set(records.filter((r) => r.key === alice).map((r) => r.partition)).size).toBe(1);
  });

  it('publishes a status-only delivery, and a failed status with its error', async () => {
    const outbound = wamid();
    const customer = waId();
    const body = JSON.stringify(
      whatsappWebhook([
        {
          statuses: [
            { id: outbound, status: 'sent', timestamp: '1750857380', recipient_id: customer },
            {
              id: outbound,
              status: 'failed',
              timestamp: '1750857390',
              recipient_id: customer,
              errors: [{ code: 131047, title: 'Re-engagement message' }],
            },
          ],
        },
      ]),
    );
    expect((await post(body)).statusCode).toBe(200);
    const records = (await readRawRecords(intake.topic)).filter(
      (r) => r.value.provider_message_id === outbound,
    );
    expect(records.map((r) => r.value.delivery_status).sort()).toEqual(['FAILED', 'SENT']);
    expect(records.find((r) => r.value.delivery_status === 'FAILED')?.value.delivery_error).toBe(
      '131047 Re-engagement message',
    );
  });

  it('refuses a missing or wrong signature with 401, producing nothing', async () => {
    const before = (await readRawRecords(intake.topic)).length;
    const { body } = signedWhatsAppText();
    const missing = await intake.app.inject({
      method: 'POST',
      url: '/webhooks/whatsapp',
      payload: body,
      headers: { 'content-type': 'application/json' },
    });
    expect(missing.statusCode).toBe(401);
    expect(errorCode(missing)).toBe('SD_ERR_INTAKE_UNAUTHORIZED');
    const wrong = await post(body, { 'x-hub-signature-256': signWhatsApp(body, 'another-secret') });
    expect(wrong.statusCode).toBe(401);
    // Tampered body, original signature.
    const tampered = await post(body.replace("hasn't", 'has'), { 'x-hub-signature-256': signWhatsApp(body) });
    expect(tampered.statusCode).toBe(401);
    expect(await readRawRecords(intake.topic)).toHaveLength(before);
  });

  it('answers malformed JSON, wrong shapes, wrong content types and oversized bodies with precise 4xx codes', async () => {
    const before = (await readRawRecords(intake.topic)).length;
    const secretLooking = '{"object":"whatsapp_business_account","entry":[{"changes": alice@example.com';
    const malformed = await post(secretLooking);
    expect(malformed.statusCode).toBe(400);
    expect(errorCode(malformed)).toBe('SD_ERR_INTAKE_MALFORMED_BODY');
    expect(malformed.body).not.toContain('alice'); // nothing of the body is echoed

    const wrongShape = await post(JSON.stringify({ object: 'page', entry: [] }));
    expect(wrongShape.statusCode).toBe(422);
    expect(errorCode(wrongShape)).toBe('SD_ERR_INTAKE_INVALID_PAYLOAD');

    const noFrom = await post(
      JSON.stringify(whatsappWebhook([{ messages: [{ id: wamid(), type: 'text', text: { body: 'x' } }] }])),
    );
    expect(noFrom.statusCode).toBe(422);

    const text = await intake.app.inject({
      method: 'POST',
      url: '/webhooks/whatsapp',
      payload: 'hello',
      headers: { 'content-type': 'text/plain' },
    });
    expect(text.statusCode).toBe(415);
    expect(errorCode(text)).toBe('SD_ERR_INTAKE_UNSUPPORTED_MEDIA_TYPE');

    const huge = JSON.stringify(
      whatsappWebhook([{ messages: [textMessage(waId(), 'x'.repeat(intake.config.intake.maxBodyBytes))] }]),
    );
    const tooLarge = await post(huge);
    expect(tooLarge.statusCode).toBe(413);
    expect(errorCode(tooLarge)).toBe('SD_ERR_INTAKE_PAYLOAD_TOO_LARGE');

    const unknown = await intake.app.inject({
      method: 'POST',
      url: '/webhooks/telegram',
      payload: '{}',
      headers: { 'content-type': 'application/json' },
    });
    expect(unknown.statusCode).toBe(404);
    expect(errorCode(unknown)).toBe('SD_ERR_INTAKE_NOT_FOUND');
    expect(await readRawRecords(intake.topic)).toHaveLength(before);
  });

  it('a webhook redelivered 10 times concurrently yields exactly one record, and every delivery gets 200', async () => {
    const { body, headers, id } = signedWhatsAppText();
    const responses = await Promise.all(
      Array.from({ length: 10 }, () =>
        intake.app.inject({ method: 'POST', url: '/webhooks/whatsapp', payload: body, headers }),
      ),
    );
    expect(responses.map((r) => r.statusCode)).toEqual(Array.from({ length: 10 }, () => 200));
    expect(responses.map((r) => r.json<{ accepted: number }>().accepted).sort()).toEqual([
      0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
    ]);
    const records = (await readRawRecords(intake.topic)).filter((r) => r.value.provider_message_id === id);
    expect(records).toHaveLength(1);
    // An 11th delivery later is still recognised.
    const later = await intake.app.inject({
      method: 'POST',
      url: '/webhooks/whatsapp',
      payload: body,
      headers,
    });
    expect(later.json()).toEqual({ status: 'accepted', accepted: 0, duplicates: 1 });
  });
});
