/**
 * Inbound email webhooks → one candidate each (pure): Postmark (JSON), Mailgun (urlencoded or
 * multipart), SendGrid Inbound Parse (multipart). Threading ids come from the RFC headers without
 * angle brackets; attachments are metadata only; the provider's spam verdict is kept.
 */
import { createHash } from 'node:crypto';
import type { Attachment } from '../../../contracts/generated/ingestion-raw-messages-value.ts';
import { emptyRecord, InvalidPayload, isObject, nullable, str, type Candidate } from '../candidate.ts';
import {
  header,
  parseAddress,
  parseAddressList,
  parseEmailDate,
  parseHeaderBlock,
  parseMessageIds,
  spamVerdict,
  type HeaderList,
  type SpamVerdict,
} from './email-headers.ts';

/** A multipart form as the intake's content parser hands it over: text fields and file metadata. */
export interface FormBody {
  readonly fields: Readonly<Record<string, string>>;
  readonly files: readonly Attachment[];
}

interface EmailParts {
  readonly provider: string;
  readonly inbox: string | undefined;
  readonly from: string | undefined;
  readonly replyTo: string | undefined;
  readonly subject: string | undefined;
  readonly text: string | undefined;
  readonly hasHtml: boolean;
  readonly headers: HeaderList;
  /** Used when the headers carry no Message-ID (Postmark gives its own id too). */
  readonly messageIdFallback?: string | undefined;
  readonly providerMessageId?: string | undefined;
  readonly attachments: readonly Attachment[];
  readonly spam: SpamVerdict;
}

function emailCandidate(p: EmailParts): Candidate {
  const from = parseAddress(p.from);
  if (!from) throw new InvalidPayload('the email has no parseable From address');
  if (p.inbox === undefined) throw new InvalidPayload('the email has no recipient');
  const messageId =
    parseMessageIds(header(p.headers, 'Message-ID'))[0] ?? parseMessageIds(p.messageIdFallback)[0];
  const inReplyTo = parseMessageIds(header(p.headers, 'In-Reply-To'))[0];
  const references = parseMessageIds(header(p.headers, 'References'));
  const replyTo = parseAddressList(p.replyTo)
    .map((a) => a.address)
    .filter((a) => a !== from.address);
  const sentAt = parseEmailDate(header(p.headers, 'Date'));
  // Without a Message-ID, the same delivery is recognised by its content.
  const dedupKey =
    messageId !== undefined
      ? `email:mid:${messageId}`
      : `email:hash:${createHash('sha256')
          .update(
            [p.provider, from.address, header(p.headers, 'Date') ?? '', p.subject ?? '', p.text ?? ''].join(
              '\u0000',
            ),
          )
          .digest('hex')}`;
  return {
    dedupKey,
    record: emptyRecord({
      kind: 'MESSAGE',
      channel: 'EMAIL',
      provider: p.provider,
      inbox: p.inbox,
      sender_handle: from.address,
      sender_aliases: replyTo,
      display_name: nullable(from.name),
      subject: nullable(p.subject),
      text_body: nullable(p.text),
      has_html: p.hasHtml,
      message_type: 'email',
      provider_message_id: nullable(p.providerMessageId),
      sent_at: sentAt ?? null,
      message_id: nullable(messageId),
      in_reply_to: nullable(inReplyTo),
      references,
      attachments: [...p.attachments],
      spam_flagged: p.spam.flagged,
      spam_score: p.spam.score ?? null,
      spam_status: nullable(p.spam.status),
    }),
  };
}

/** Postmark inbound webhook JSON. https://postmarkapp.com/developer/webhooks/inbound-webhook */
export function parsePostmark(body: unknown): Candidate {
  if (!isObject(body)) throw new InvalidPayload('not a Postmark inbound JSON object');
  const headers: [string, string][] = (Array.isArray(body['Headers']) ? body['Headers'] : [])
    .filter(isObject)
    .map((h) => [str(h['Name']) ?? '', str(h['Value']) ?? '']);
  const fromFull = isObject(body['FromFull']) ? body['FromFull'] : undefined;
  const fromAddress = str(fromFull?.['Email']);
  const from = fromAddress
    ? str(fromFull?.['Name'])
      ? `"${(str(fromFull?.['Name']) ?? '').replaceAll('"', '')}" <${fromAddress}>`
      : fromAddress
    : str(body['From']);
  const toFull = Array.isArray(body['ToFull']) ? body['ToFull'].filter(isObject) : [];
  const inbox =
    str(body['OriginalRecipient']) ??
    str(toFull[0]?.['Email']) ??
    parseAddressList(str(body['To']))[0]?.address;
  const attachments: Attachment[] = (Array.isArray(body['Attachments']) ? body['Attachments'] : [])
    .filter(isObject)
    .map((a) => {
      const content = str(a['Content']);
      const bytes = content === undefined ? undefined : Buffer.from(content, 'base64');
      return {
        filename: nullable(str(a['Name'])),
        content_type: str(a['ContentType']) ?? 'application/octet-stream',
        size_bytes: typeof a['ContentLength'] === 'number' ? a['ContentLength'] : (bytes?.length ?? null),
        provider_media_id: nullable(str(a['ContentID'])),
        sha256: bytes ? createHash('sha256').update(bytes).digest('hex') : null,
      };
    });
  return emailCandidate({
    provider: 'postmark',
    inbox,
    from,
    replyTo: str(body['ReplyTo']),
    subject: str(body['Subject']),
    text: str(body['TextBody']),
    hasHtml: str(body['HtmlBody']) !== undefined,
    headers,
    providerMessageId: str(body['MessageID']),
    attachments,
    spam: spamVerdict(headers),
  });
}

/** Mailgun Routes forward(): urlencoded or multipart fields. */
export function parseMailgun(body: FormBody): Candidate {
  const f = body.fields;
  let headers: [string, string][] = [];
  const raw = f['message-headers'];
  if (raw !== undefined) {
    try {
      const parsed = JSON.parse(raw) as unknown;
      if (Array.isArray(parsed)) {
        headers = parsed
          .filter(
            (h): h is [string, string] =>
              Array.isArray(h) && typeof h[0] === 'string' && typeof h[1] === 'string',
          )
          .map((h) => [h[0], h[1]]);
      }
    } catch {
      throw new InvalidPayload('message-headers is not JSON');
    }
  }
  // Mailgun also posts the threading headers as fields of their own.
  for (const name of ['Message-Id', 'In-Reply-To', 'References', 'Date']) {
    if (header(headers, name) === undefined && f[name] !== undefined) headers.push([name, f[name]]);
  }
  return emailCandidate({
    provider: 'mailgun',
    inbox: f['recipient'],
    from: f['from'] ?? f['From'] ?? f['sender'],
    replyTo: header(headers, 'Reply-To'),
    subject: f['subject'] ?? f['Subject'],
    text: f['body-plain'],
    hasHtml: f['body-html'] !== undefined && f['body-html'] !== '',
    headers,
    attachments: body.files,
    spam: spamVerdict(headers),
  });
}

/** SendGrid Inbound Parse (multipart, parsed mode). There is no Message-ID field: it is in `headers`. */
export function parseSendGrid(body: FormBody): Candidate {
  const f = body.fields;
  const headers = parseHeaderBlock(f['headers'] ?? '');
  let envelopeTo: string | undefined;
  if (f['envelope'] !== undefined) {
    try {
      const envelope = JSON.parse(f['envelope']) as unknown;
      if (isObject(envelope) && Array.isArray(envelope['to'])) envelopeTo = str(envelope['to'][0]);
    } catch {
      throw new InvalidPayload('envelope is not JSON');
    }
  }
  const spamReport = f['spam_report'] ?? '';
  return emailCandidate({
    provider: 'sendgrid',
    inbox: envelopeTo ?? parseAddressList(f['to'])[0]?.address,
    from: f['from'] ?? header(headers, 'From'),
    replyTo: header(headers, 'Reply-To'),
    subject: f['subject'],
    text: f['text'],
    hasHtml: f['html'] !== undefined && f['html'] !== '',
    headers,
    attachments: body.files,
    // SpamAssassin's report says so in words when it flags a message.
    spam: spamVerdict(headers, f['spam_score'], /probably spam/i.test(spamReport)),
  });
}
