/**
 * WhatsApp Business Cloud API webhook payloads → candidates (pure). Every entry × change × message
 * becomes one record; `statuses[]` become STATUS records for our outbound messages; a `system`
 * user_changed_number message is an identity change; unknown types are kept, never dropped.
 * https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components
 */
import type {
  Attachment,
  DeliveryStatus,
} from '../../../contracts/generated/ingestion-raw-messages-value.ts';
import { emptyRecord, InvalidPayload, isObject, nullable, str, type Candidate } from '../candidate.ts';

const MEDIA_TYPES = ['image', 'audio', 'video', 'document', 'sticker'] as const;
const STATUS: Record<string, DeliveryStatus> = {
  sent: 'SENT',
  delivered: 'DELIVERED',
  read: 'READ',
  failed: 'FAILED',
};

/** WhatsApp timestamps are Unix seconds as strings. */
function seconds(value: unknown): number | null {
  const n = typeof value === 'string' || typeof value === 'number' ? Number(value) : NaN;
  return Number.isFinite(n) && n > 0 ? Math.round(n * 1000) : null;
}

function media(
  message: Record<string, unknown>,
  type: string,
): { attachment: Attachment; caption: string | undefined } | undefined {
  const m = message[type];
  if (!isObject(m)) return undefined;
  return {
    attachment: {
      filename: nullable(str(m['filename'])),
      content_type: str(m['mime_type']) ?? 'application/octet-stream',
      size_bytes: typeof m['file_size'] === 'number' ? m['file_size'] : null,
      provider_media_id: nullable(str(m['id'])),
      sha256: nullable(str(m['sha256'])),
    },
    caption: str(m['caption']),
  };
}

function messageCandidate(
  message: Record<string, unknown>,
  inbox: string,
  names: ReadonlyMap<string, string>,
): Candidate {
  const from = str(message['from']);
  const id = str(message['id']);
  const type = str(message['type']) ?? 'unsupported';
  if (from === undefined || id === undefined) throw new InvalidPayload('a WhatsApp message lacks from or id');
  const context = isObject(message['context']) ? str(message['context']['id']) : undefined;
  const base = {
    kind: 'MESSAGE' as const,
    channel: 'WHATSAPP' as const,
    provider: 'whatsapp_cloud',
    inbox,
    sender_handle: from,
    provider_message_id: id,
    sent_at: seconds(message['timestamp']),
    display_name: nullable(names.get(from)),
    message_type: type,
    context_message_id: nullable(context),
  };
  const typed = message[type];
  const json = (value: unknown): string | null => (value === undefined ? null : JSON.stringify(value));
  let record = emptyRecord(base);
  if (type === 'text' && isObject(typed)) {
    record = { ...record, text_body: nullable(str(typed['body'])) };
  } else if ((MEDIA_TYPES as readonly string[]).includes(type)) {
    const m = media(message, type);
    record = { ...record, text_body: nullable(m?.caption), attachments: m ? [m.attachment] : [] };
  } else if (type === 'interactive' && isObject(typed)) {
    const reply = isObject(typed['button_reply'])
      ? typed['button_reply']
      : isObject(typed['list_reply'])
        ? typed['list_reply']
        : undefined;
    record = {
      ...record,
      text_body: nullable(reply ? str(reply['title']) : undefined),
      payload_json: json(typed),
    };
  } else if (type === 'button' && isObject(typed)) {
    record = { ...record, text_body: nullable(str(typed['text'])), payload_json: json(typed) };
  } else if (type === 'reaction' && isObject(typed)) {
    record = {
      ...record,
      payload_json: json(typed),
      context_message_id: nullable(str(typed['message_id']) ?? context),
    };
  } else if (type === 'system' && isObject(typed)) {
    const newHandle = str(typed['wa_id']) ?? str(typed['new_wa_id']);
    const changed = str(typed['type']) === 'user_changed_number' || newHandle !== undefined;
    record = {
      ...record,
      kind: changed ? 'IDENTITY_CHANGE' : 'MESSAGE',
      text_body: nullable(str(typed['body'])),
      new_handle: nullable(newHandle),
      payload_json: json(typed),
    };
  } else {
    // location, contacts, order, unsupported, and types added after this code: kept with their content.
    const errors = message['errors'];
    record = { ...record, payload_json: json(typed ?? errors ?? null) };
  }
  return { dedupKey: `whatsapp:msg:${id}`, record };
}

function statusCandidate(status: Record<string, unknown>, inbox: string): Candidate {
  const id = str(status['id']);
  const recipient = str(status['recipient_id']);
  const state = str(status['status']);
  if (id === undefined || recipient === undefined || state === undefined) {
    throw new InvalidPayload('a WhatsApp status lacks id, recipient_id or status');
  }
  const errors = Array.isArray(status['errors']) ? status['errors'] : [];
  const first = isObject(errors[0]) ? errors[0] : undefined;
  const scalar = (v: unknown): string | undefined =>
    typeof v === 'string' || typeof v === 'number' ? String(v) : undefined;
  const error = first
    ? [scalar(first['code']), scalar(first['title'])].filter((x) => x !== undefined).join(' ')
    : '';
  return {
    // Statuses arrive out of order and repeat: one record per (message, state).
    dedupKey: `whatsapp:status:${id}:${state}`,
    record: emptyRecord({
      kind: 'STATUS',
      channel: 'WHATSAPP',
      provider: 'whatsapp_cloud',
      inbox,
      sender_handle: recipient,
      provider_message_id: id,
      sent_at: seconds(status['timestamp']),
      message_type: 'status',
      delivery_status: STATUS[state] ?? 'UNKNOWN',
      delivery_error: error === '' ? null : error,
    }),
  };
}

/** All candidates of one webhook delivery, in payload order. */
export function parseWhatsAppWebhook(body: unknown): Candidate[] {
  if (!isObject(body) || body['object'] !== 'whatsapp_business_account' || !Array.isArray(body['entry'])) {
    throw new InvalidPayload('not a WhatsApp Business Account webhook (object, entry[])');
  }
  const candidates: Candidate[] = [];
  for (const entry of body['entry']) {
    if (!isObject(entry) || !Array.isArray(entry['changes']))
      throw new InvalidPayload('an entry lacks changes[]');
    for (const change of entry['changes']) {
      if (!isObject(change) || change['field'] !== 'messages' || !isObject(change['value'])) continue;
      const value = change['value'];
      const metadata = isObject(value['metadata']) ? value['metadata'] : {};
      const inbox = str(metadata['phone_number_id']);
      if (inbox === undefined) throw new InvalidPayload('a change lacks metadata.phone_number_id');
      const names = new Map<string, string>();
      for (const contact of Array.isArray(value['contacts']) ? value['contacts'] : []) {
        if (!isObject(contact)) continue;
        const waId = str(contact['wa_id']);
        const name = isObject(contact['profile']) ? str(contact['profile']['name']) : undefined;
        if (waId !== undefined && name !== undefined) names.set(waId, name);
      }
      for (const message of Array.isArray(value['messages']) ? value['messages'] : []) {
        if (!isObject(message)) throw new InvalidPayload('a message is not an object');
        candidates.push(messageCandidate(message, inbox, names));
      }
      for (const status of Array.isArray(value['statuses']) ? value['statuses'] : []) {
        if (!isObject(status)) throw new InvalidPayload('a status is not an object');
        candidates.push(statusCandidate(status, inbox));
      }
    }
  }
  return candidates;
}
