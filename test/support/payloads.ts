/**
 * Provider payloads shaped exactly like the providers' documentation (Meta WhatsApp Cloud API
 * webhooks, Postmark inbound JSON, Mailgun routes, SendGrid Inbound Parse), with fresh ids so tests
 * never collide with each other or with earlier runs. Shared by the tests and the benchmarks.
 */
import { createHmac, randomBytes } from 'node:crypto';

export const SECRETS: Readonly<
  Record<
    | 'whatsappAppSecret'
    | 'whatsappVerifyToken'
    | 'postmarkBasicAuth'
    | 'mailgunSigningKey'
    | 'sendgridPathSecret',
    string
  >
> = {
  whatsappAppSecret: 'test-app-secret',
  whatsappVerifyToken: 'test-verify-token',
  postmarkBasicAuth: 'postmark:pm-secret',
  mailgunSigningKey: 'test-mailgun-signing-key',
  sendgridPathSecret: 'sg-path-secret',
};

export const INTAKE_ENV: Record<string, string> = {
  STREAMDESK_WHATSAPP_APP_SECRET: SECRETS.whatsappAppSecret,
  STREAMDESK_WHATSAPP_VERIFY_TOKEN: SECRETS.whatsappVerifyToken,
  STREAMDESK_POSTMARK_BASIC_AUTH: SECRETS.postmarkBasicAuth,
  STREAMDESK_MAILGUN_SIGNING_KEY: SECRETS.mailgunSigningKey,
  STREAMDESK_SENDGRID_PATH_SECRET: SECRETS.sendgridPathSecret,
  STREAMDESK_LOG_LEVEL: 'silent',
};

export function wamid(): string {
  return `wamid.HBgL${randomBytes(18).toString('base64url')}=`;
}

/** A phone number in the reserved 555-01xx range, unique enough per call. */
export function waId(): string {
  return `1555010${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}`;
}

export const PHONE_NUMBER_ID = '106540352242922';

export interface WhatsAppChange {
  contacts?: { profile: { name: string }; wa_id: string }[];
  messages?: Record<string, unknown>[];
  statuses?: Record<string, unknown>[];
}

export function whatsappWebhook(changes: WhatsAppChange[], entries = 1): Record<string, unknown> {
  return {
    object: 'whatsapp_business_account',
    entry: Array.from({ length: entries }, (_, e) => ({
      id: `10229012934039${e}`,
      changes: changes.map((value) => ({
        field: 'messages',
        value: {
          messaging_product: 'whatsapp',
          metadata: { display_phone_number: '15550783881', phone_number_id: PHONE_NUMBER_ID },
          ...value,
        },
      })),
    })),
  };
}

export function textMessage(from: string, body: string, id = wamid()): Record<string, unknown> {
  return { from, id, timestamp: '1739321024', type: 'text', text: { body } };
}

export function signWhatsApp(body: string | Buffer, secret: string = SECRETS.whatsappAppSecret): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** One signed single-message WhatsApp delivery: body and headers ready to send. */
export function signedWhatsAppText(
  from = waId(),
  text = "My order hasn't arrived",
): { body: string; headers: Record<string, string>; id: string } {
  const id = wamid();
  const body = JSON.stringify(
    whatsappWebhook([
      {
        contacts: [{ profile: { name: 'Sheena Nelson' }, wa_id: from }],
        messages: [textMessage(from, text, id)],
      },
    ]),
  );
  return {
    body,
    id,
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': signWhatsApp(body) },
  };
}

export function messageId(): string {
  return `${randomBytes(8).toString('hex')}@mail.example.com`;
}

export function postmarkInbound(
  options: { messageId?: string; inReplyTo?: string; references?: string[]; from?: string } = {},
): Record<string, unknown> {
  const id = options.messageId ?? messageId();
  const headers = [
    { Name: 'Return-Path', Value: '<alice@example.com>' },
    { Name: 'Message-ID', Value: `<${id}>` },
    { Name: 'Date', Value: 'Thu, 5 Apr 2025 16:59:01 +0200' },
    { Name: 'X-Spam-Status', Value: 'No, score=-0.1 required=5.0' },
    { Name: 'X-Spam-Score', Value: '-0.1' },
  ];
  if (options.inReplyTo) headers.push({ Name: 'In-Reply-To', Value: `<${options.inReplyTo}>` });
  if (options.references)
    headers.push({ Name: 'References', Value: options.references.map((r) => `<${r}>`).join(' ') });
  return {
    FromName: 'Alice Example',
    MessageStream: 'inbound',
    From: options.from ?? 'Alice.Example@Example.com',
    FromFull: { Email: options.from ?? 'Alice.Example@Example.com', Name: 'Alice Example', MailboxHash: '' },
    To: '"Support" <support@streamdesk.example>',
    ToFull: [{ Email: 'support@streamdesk.example', Name: 'Support', MailboxHash: '' }],
    Cc: '',
    CcFull: [],
    Bcc: '',
    BccFull: [],
    OriginalRecipient: 'support@streamdesk.example',
    Subject: 'Order 1234 has not arrived',
    MessageID: '73e6d360-66eb-11e1-8e72-a8904824019b',
    ReplyTo: 'alice.replies@example.com',
    MailboxHash: '',
    Date: 'Thu, 5 Apr 2025 16:59:01 +0200',
    TextBody: 'Hello, my order 1234 still has not arrived. Can you help?',
    HtmlBody: '<p>Hello, my order 1234 still has not arrived. Can you help?</p>',
    StrippedTextReply: '',
    Tag: '',
    Headers: headers,
    Attachments: [
      {
        Name: 'receipt.pdf',
        Content: Buffer.from('%PDF-1.4 receipt').toString('base64'),
        ContentType: 'application/pdf',
        ContentLength: 16,
      },
    ],
  };
}

export function basicAuth(userPass: string): string {
  return `Basic ${Buffer.from(userPass).toString('base64')}`;
}

/** Mailgun route forward fields, signed (timestamp + token) with the signing key. */
export function mailgunFields(
  options: {
    messageId?: string;
    timestamp?: number;
    token?: string;
    key?: string;
    from?: string | undefined;
  } = {},
): Record<string, string> {
  const id = options.messageId ?? messageId();
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  const token = options.token ?? randomBytes(25).toString('hex');
  const signature = createHmac('sha256', options.key ?? SECRETS.mailgunSigningKey)
    .update(timestamp + token)
    .digest('hex');
  const fields: Record<string, string> = {
    recipient: 'support@streamdesk.example',
    sender: 'bob@example.org',
    subject: 'Re: Refund request',
    'body-plain': 'Thanks, that worked.\n\nOn Tue, support wrote: ...',
    'stripped-text': 'Thanks, that worked.',
    'body-html': '<div>Thanks, that worked.</div>',
    'message-headers': JSON.stringify([
      ['Received', 'by mxa.mailgun.org with SMTP'],
      ['Message-Id', `<${id}>`],
      ['In-Reply-To', '<root-1@streamdesk.example>'],
      ['References', '<root-1@streamdesk.example> <reply-2@streamdesk.example>'],
      ['Date', 'Tue, 8 Apr 2025 10:00:00 +0000'],
      ['X-Mailgun-Spam-Rules', ''],
    ]),
    'Message-Id': `<${id}>`,
    timestamp,
    token,
    signature,
  };
  fields['from'] = 'Bob <bob@example.org>';
  return fields;
}

/** SendGrid Inbound Parse fields (parsed mode): raw headers, envelope, spam score. */
export function sendgridFields(options: { messageId?: string } = {}): Record<string, string> {
  const id = options.messageId ?? messageId();
  return {
    headers: [
      'Received: by mx0047p1mdw1.sendgrid.net with SMTP id 6WCVv7KAWn',
      `Message-ID: <${id}>`,
      'Date: Wed, 9 Apr 2025 08:30:00 -0700',
      'From: Carol <carol@example.net>',
      'To: support@streamdesk.example',
      'Subject: Cannot log in',
      'X-Spam-Status: No, score=1.2',
    ].join('\r\n'),
    dkim: '{@example.net : pass}',
    to: 'support@streamdesk.example',
    from: 'Carol <carol@example.net>',
    text: 'I cannot log in since yesterday.',
    html: '<p>I cannot log in since yesterday.</p>',
    sender_ip: '192.0.2.10',
    spam_report: 'Spam detection software has NOT identified this incoming email as spam.',
    envelope: JSON.stringify({ to: ['support@streamdesk.example'], from: 'carol@example.net' }),
    attachments: '1',
    subject: 'Cannot log in',
    spam_score: '1.2',
    'attachment-info': JSON.stringify({ attachment1: { filename: 'screenshot.png', type: 'image/png' } }),
    charsets: JSON.stringify({ to: 'UTF-8', html: 'UTF-8', subject: 'UTF-8', from: 'UTF-8', text: 'UTF-8' }),
    SPF: 'pass',
  };
}

/** A multipart/form-data body (as providers send it) from fields and files. */
export async function multipart(
  fields: Record<string, string>,
  files: { field: string; filename: string; type: string; content: Buffer }[] = [],
): Promise<{ body: Buffer; contentType: string }> {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  for (const f of files) form.append(f.field, new Blob([f.content], { type: f.type }), f.filename);
  const response = new Response(form);
  return {
    body: Buffer.from(await response.arrayBuffer()),
    contentType: response.headers.get('content-type') ?? '',
  };
}

/** The stable error code of an intake error response. */
export function errorCode(response: { json(): unknown }): string {
  return (response.json() as { error: { code: string } }).error.code;
}

/** The message of an intake error response. */
export function errorMessage(response: { json(): unknown }): string {
  return (response.json() as { error: { message: string } }).error.message;
}
