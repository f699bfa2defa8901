import { describe, expect, it } from 'vitest';
import { InvalidPayload } from '../candidate.ts';
import { parseMailgun, parsePostmark, parseSendGrid } from './email-parse.ts';
import { parseFormSubmission, parseForms, type FormConfig } from './forms.ts';
import { parseWhatsAppWebhook } from './whatsapp-parse.ts';

const waChange = (value: object) => ({
  object: 'whatsapp_business_account',
  entry: [
    { id: '1', changes: [{ field: 'messages', value: { metadata: { phone_number_id: 'PN1' }, ...value } }] },
  ],
});

describe('WhatsApp parsing', () => {
  it('keeps message types it does not know, with their content', () => {
    const [c] = parseWhatsAppWebhook(
      waChange({
        messages: [
          { from: '1555', id: 'wamid.1', timestamp: '1', type: 'order', order: { catalog_id: 'c1' } },
        ],
      }),
    );
    expect(c?.record).toMatchObject({
      kind: 'MESSAGE',
      message_type: 'order',
      payload_json: '{"catalog_id":"c1"}',
    });
    expect(c?.dedupKey).toBe('whatsapp:msg:wamid.1');
  });

  it('ignores changes other than messages (account updates), and rejects non-WABA payloads', () => {
    expect(
      parseWhatsAppWebhook({
        object: 'whatsapp_business_account',
        entry: [{ changes: [{ field: 'account_update', value: {} }] }],
      }),
    ).toEqual([]);
    expect(() => parseWhatsAppWebhook({ object: 'instagram', entry: [] })).toThrow(InvalidPayload);
    expect(() => parseWhatsAppWebhook(waChange({ messages: [{ id: 'x', type: 'text' }] }))).toThrow(
      /lacks from or id/,
    );
  });

  it('a user_changed_number system message is an identity change with the new handle', () => {
    const [c] = parseWhatsAppWebhook(
      waChange({
        messages: [
          {
            from: '1555',
            id: 'w2',
            timestamp: '2',
            type: 'system',
            system: { body: 'changed', new_wa_id: '1666', type: 'user_changed_number' },
          },
        ],
      }),
    );
    expect(c?.record).toMatchObject({
      kind: 'IDENTITY_CHANGE',
      new_handle: '1666',
      sender_handle: '1555',
      sent_at: 2000,
    });
  });
});

describe('email parsing', () => {
  it('Postmark: falls back to the content hash when there is no Message-ID, stable across redeliveries', () => {
    const body = {
      From: 'a@x.example',
      OriginalRecipient: 'support@y.example',
      Subject: 's',
      TextBody: 't',
      Headers: [],
    };
    const first = parsePostmark(body);
    expect(first.dedupKey).toMatch(/^email:hash:[0-9a-f]{64}$/);
    expect(parsePostmark(body).dedupKey).toBe(first.dedupKey);
    expect(parsePostmark({ ...body, TextBody: 'other' }).dedupKey).not.toBe(first.dedupKey);
  });

  it('Mailgun: refuses broken message-headers; SendGrid: refuses a broken envelope', () => {
    expect(() =>
      parseMailgun({ fields: { 'message-headers': '[oops', from: 'a@x', recipient: 'r@y' }, files: [] }),
    ).toThrow(/message-headers is not JSON/);
    expect(() => parseSendGrid({ fields: { envelope: '{', from: 'a@x', to: 'r@y' }, files: [] })).toThrow(
      /envelope is not JSON/,
    );
  });

  it('SendGrid: a spam report saying "probably spam" flags the message', () => {
    const c = parseSendGrid({
      fields: {
        from: 'a@x.example',
        to: 'r@y.example',
        spam_score: '8.2',
        spam_report: 'This mail is probably spam.',
      },
      files: [],
    });
    expect(c.record).toMatchObject({ spam_flagged: true, spam_score: 8.2 });
  });
});

describe('forms', () => {
  const form: FormConfig = {
    id: 'contact',
    allowedOrigins: [],
    required: ['message'],
    honeypot: 'website',
    rateLimit: undefined,
  };

  it('parses the forms file and refuses bad entries', () => {
    const forms = parseForms(
      'forms:\n  a:\n    required: [email]\n    rate_limit: { requests: 5, per: 2m }\n',
    );
    expect(forms.get('a')).toEqual({
      id: 'a',
      allowedOrigins: [],
      required: ['email'],
      honeypot: undefined,
      rateLimit: { requests: 5, windowSeconds: 120 },
    });
    expect(() => parseForms('forms:\n  a:\n    rate_limit: { requests: 0, per: 1m }\n')).toThrow(
      /rate_limit/,
    );
    expect(() => parseForms('nothing: here\n')).toThrow(/top-level `forms:`/);
    expect(() => parseForms('forms:\n  "bad id!":\n    required: []\n')).toThrow(/form id/);
  });

  it('maps named fields, keeps the rest as form_fields, and keys dedup on the idempotency key', () => {
    const outcome = parseFormSubmission(
      form,
      { phone: '+1 555 0100', message: 'hi', plan: 'pro', idempotency_key: 'abcdefgh12' },
      undefined,
    );
    if (outcome.spam) throw new Error('not spam');
    expect(outcome.candidate.dedupKey).toBe('form:contact:abcdefgh12');
    expect(outcome.candidate.record).toMatchObject({
      sender_handle: '+1 555 0100',
      sender_aliases: [],
      form_fields: { plan: 'pro' },
    });
  });

  it('honeypot, missing fields, bad idempotency keys', () => {
    expect(parseFormSubmission(form, { website: 'x', message: 'm', email: 'a@b' }, undefined)).toEqual({
      spam: true,
    });
    expect(() => parseFormSubmission(form, { email: 'a@b' }, undefined)).toThrow(
      /missing required field\(s\): message/,
    );
    expect(() => parseFormSubmission(form, { message: 'm' }, undefined)).toThrow(/needs an email or a phone/);
    expect(() => parseFormSubmission(form, { message: 'm', email: 'a@b' }, 'short')).toThrow(
      /idempotency key/,
    );
  });
});
