/**
 * Inbound email through the real intake: Postmark (JSON, basic auth), Mailgun (urlencoded and
 * multipart, HMAC with freshness and replay protection) and SendGrid Inbound Parse (multipart),
 * asserting the Avro records; deliveries that can never be accepted get each provider's final status.
 */
import { createHash } from 'node:crypto';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testKafka } from '../../support/env.ts';
import { readRawRecords, startTestIntake, type TestIntake } from '../../support/intake.ts';
import { deleteTestTopics } from '../../support/kafka.ts';
import {
  basicAuth,
  mailgunFields,
  messageId,
  multipart,
  postmarkInbound,
  SECRETS,
  sendgridFields,
  errorCode,
} from '../../support/payloads.ts';

let admin: Admin;
let intake: TestIntake;

beforeAll(async () => {
  admin = testKafka('email-test').admin();
  await admin.connect();
  intake = await startTestIntake(admin);
});
afterAll(async () => {
  await intake.close();
  await deleteTestTopics(admin);
  await admin.disconnect();
});

const byMessageId = async (id: string) =>
  (await readRawRecords(intake.topic)).filter((r) => r.value.message_id === id);

describe('Postmark', () => {
  const post = (body: unknown, auth = SECRETS.postmarkBasicAuth) =>
    intake.app.inject({
      method: 'POST',
      url: '/webhooks/email/postmark',
      payload: typeof body === 'string' ? body : JSON.stringify(body),
      headers: { 'content-type': 'application/json', authorization: basicAuth(auth) },
    });

  it('publishes a reply with its threading ids, addresses as given, attachments as metadata and the spam verdict', async () => {
    const id = messageId();
    const response = await post(
      postmarkInbound({
        messageId: id,
        inReplyTo: 'root-9@streamdesk.example',
        references: ['root-9@streamdesk.example', 'mid-3@streamdesk.example'],
      }),
    );
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'accepted', accepted: 1, duplicates: 0 });
    const [record] = await byMessageId(id);
    expect(record?.key).toBe('Alice.Example@Example.com');
    expect(record?.value).toMatchObject({
      kind: 'MESSAGE',
      channel: 'EMAIL',
      provider: 'postmark',
      inbox: 'support@streamdesk.example',
      sender_handle: 'Alice.Example@Example.com',
      sender_aliases: ['alice.replies@example.com'],
      display_name: 'Alice Example',
      subject: 'Order 1234 has not arrived',
      text_body: 'Hello, my order 1234 still has not arrived. Can you help?',
      has_html: true,
      message_type: 'email',
      provider_message_id: '73e6d360-66eb-11e1-8e72-a8904824019b',
      message_id: id,
      in_reply_to: 'root-9@streamdesk.example',
      references: ['root-9@streamdesk.example', 'mid-3@streamdesk.example'],
      sent_at: Date.parse('Thu, 5 Apr 2025 16:59:01 +0200'),
      spam_flagged: false,
      spam_score: -0.1,
      spam_status: 'No, score=-0.1 required=5.0',
      dedup_key: `email:mid:${id}`,
      attachments: [
        {
          filename: 'receipt.pdf',
          content_type: 'application/pdf',
          size_bytes: 16,
          sha256: createHash('sha256').update('%PDF-1.4 receipt').digest('hex'),
          provider_media_id: null,
        },
      ],
    });
  });

  it('deduplicates a redelivery on the Message-ID', async () => {
    const payload = postmarkInbound();
    expect((await post(payload)).json()).toMatchObject({ accepted: 1 });
    expect((await post(payload)).json()).toMatchObject({ accepted: 0, duplicates: 1 });
    const id =
      (payload['Headers'] as { Name: string; Value: string }[])
        .find((h) => h.Name === 'Message-ID')
        ?.Value.slice(1, -1) ?? '';
    expect(await byMessageId(id)).toHaveLength(1);
  });

  it('wrong basic auth: 401; an unparseable delivery: 403 (Postmark stops retrying), nothing produced', async () => {
    expect((await post(postmarkInbound(), 'postmark:wrong')).statusCode).toBe(401);
    const broken = await post('{"From": ');
    expect(broken.statusCode).toBe(403);
    expect(errorCode(broken)).toBe('SD_ERR_INTAKE_MALFORMED_BODY');
    const noSender = await post({ ...postmarkInbound(), From: '', FromFull: {} });
    expect(noSender.statusCode).toBe(403);
    expect(errorCode(noSender)).toBe('SD_ERR_INTAKE_INVALID_PAYLOAD');
  });
});

describe('Mailgun', () => {
  const postForm = (fields: Record<string, string>) =>
    intake.app.inject({
      method: 'POST',
      url: '/webhooks/email/mailgun',
      payload: new URLSearchParams(fields).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });

  it('publishes a signed urlencoded delivery with In-Reply-To and References from message-headers', async () => {
    const id = messageId();
    const response = await postForm(mailgunFields({ messageId: id }));
    expect(response.statusCode).toBe(200);
    const [record] = await byMessageId(id);
    expect(record?.value).toMatchObject({
      provider: 'mailgun',
      inbox: 'support@streamdesk.example',
      sender_handle: 'bob@example.org',
      display_name: 'Bob',
      subject: 'Re: Refund request',
      in_reply_to: 'root-1@streamdesk.example',
      references: ['root-1@streamdesk.example', 'reply-2@streamdesk.example'],
      has_html: true,
      attachments: [],
    });
  });

  it('publishes a multipart delivery with attachments reduced to metadata', async () => {
    const id = messageId();
    const png = Buffer.from('89504e470d0a1a0a0000', 'hex');
    const { body, contentType } = await multipart(mailgunFields({ messageId: id }), [
      { field: 'attachment-1', filename: 'photo.png', type: 'image/png', content: png },
      { field: 'attachment-2', filename: 'notes.txt', type: 'text/plain', content: Buffer.from('see photo') },
    ]);
    const response = await intake.app.inject({
      method: 'POST',
      url: '/webhooks/email/mailgun',
      payload: body,
      headers: { 'content-type': contentType },
    });
    expect(response.statusCode).toBe(200);
    const [record] = await byMessageId(id);
    expect(record?.value.attachments).toEqual([
      {
        filename: 'photo.png',
        content_type: 'image/png',
        size_bytes: 10,
        provider_media_id: null,
        sha256: createHash('sha256').update(png).digest('hex'),
      },
      {
        filename: 'notes.txt',
        content_type: 'text/plain',
        size_bytes: 9,
        provider_media_id: null,
        sha256: createHash('sha256').update('see photo').digest('hex'),
      },
    ]);
  });

  it('refuses a bad signature (401), a stale timestamp and a replayed token (401, stale)', async () => {
    const bad = await postForm(mailgunFields({ key: 'not-the-key' }));
    expect(bad.statusCode).toBe(401);
    expect(errorCode(bad)).toBe('SD_ERR_INTAKE_UNAUTHORIZED');
    const stale = await postForm(mailgunFields({ timestamp: Math.floor(Date.now() / 1000) - 3600 }));
    expect(stale.statusCode).toBe(401);
    expect(errorCode(stale)).toBe('SD_ERR_INTAKE_STALE_SIGNATURE');
    const fields = mailgunFields();
    expect((await postForm(fields)).statusCode).toBe(200);
    const replay = await postForm({ ...fields, 'Message-Id': `<${messageId()}>`, 'message-headers': '[]' });
    expect(replay.statusCode).toBe(401);
    expect(errorCode(replay)).toBe('SD_ERR_INTAKE_STALE_SIGNATURE');
  });

  it('a delivery that can never be accepted gets 406, which Mailgun does not retry', async () => {
    const fields = mailgunFields();
    delete fields['from'];
    delete fields['sender'];
    const response = await postForm(fields);
    expect(response.statusCode).toBe(406);
    expect(errorCode(response)).toBe('SD_ERR_INTAKE_INVALID_PAYLOAD');
    const json = await intake.app.inject({
      method: 'POST',
      url: '/webhooks/email/mailgun',
      payload: '{}',
      headers: { 'content-type': 'application/json' },
    });
    expect(json.statusCode).toBe(406);
  });
});

describe('SendGrid Inbound Parse', () => {
  it('publishes a multipart delivery: Message-ID parsed from the raw headers, envelope recipient, spam score', async () => {
    const id = messageId();
    const { body, contentType } = await multipart(sendgridFields({ messageId: id }), [
      { field: 'attachment1', filename: 'screenshot.png', type: 'image/png', content: Buffer.alloc(2048, 7) },
    ]);
    const response = await intake.app.inject({
      method: 'POST',
      url: `/webhooks/email/sendgrid/${SECRETS.sendgridPathSecret}`,
      payload: body,
      headers: { 'content-type': contentType },
    });
    expect(response.statusCode).toBe(200);
    const [record] = await byMessageId(id);
    expect(record?.value).toMatchObject({
      provider: 'sendgrid',
      inbox: 'support@streamdesk.example',
      sender_handle: 'carol@example.net',
      display_name: 'Carol',
      subject: 'Cannot log in',
      text_body: 'I cannot log in since yesterday.',
      spam_score: 1.2,
      spam_flagged: false,
      sent_at: Date.parse('Wed, 9 Apr 2025 08:30:00 -0700'),
      attachments: [{ filename: 'screenshot.png', content_type: 'image/png', size_bytes: 2048 }],
    });
  });

  it('a wrong path secret is 401; an oversized delivery is 413; nothing produced', async () => {
    const before = (await readRawRecords(intake.topic)).length;
    const { body, contentType } = await multipart(sendgridFields());
    const wrong = await intake.app.inject({
      method: 'POST',
      url: '/webhooks/email/sendgrid/guess',
      payload: body,
      headers: { 'content-type': contentType },
    });
    expect(wrong.statusCode).toBe(401);
    const huge = await multipart(sendgridFields(), [
      {
        field: 'attachment1',
        filename: 'big.bin',
        type: 'application/octet-stream',
        content: Buffer.alloc(intake.config.intake.maxEmailBytes + 1024),
      },
    ]);
    const tooLarge = await intake.app.inject({
      method: 'POST',
      url: `/webhooks/email/sendgrid/${SECRETS.sendgridPathSecret}`,
      payload: huge.body,
      headers: { 'content-type': huge.contentType },
    });
    expect(tooLarge.statusCode).toBe(413);
    expect(errorCode(tooLarge)).toBe('SD_ERR_INTAKE_PAYLOAD_TOO_LARGE');
    expect(await readRawRecords(intake.topic)).toHaveLength(before);
  });
});
