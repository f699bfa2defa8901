/**
 * What a channel parser produces (pure): one candidate per message or event in a delivery, with the
 * per-channel identity used for dedup. The intake fills in the ids and times when it accepts them.
 */
import type { RawMessage } from '../../contracts/generated/ingestion-raw-messages-value.ts';

export type CandidateRecord = Omit<
  RawMessage,
  'event_id' | 'correlation_id' | 'received_at' | 'dedup_key' | 'dedup_outcome'
>;

export interface Candidate {
  /** Per-channel identity: wamid (+status), RFC Message-ID or content hash, form idempotency key. */
  readonly dedupKey: string | undefined;
  readonly record: CandidateRecord;
}

/** Defaults of every optional field, so parsers only set what they know. */
export function emptyRecord(
  fields: Pick<CandidateRecord, 'kind' | 'channel' | 'provider' | 'inbox' | 'sender_handle'> &
    Partial<CandidateRecord>,
): CandidateRecord {
  return {
    provider_message_id: null,
    sent_at: null,
    sender_aliases: [],
    display_name: null,
    subject: null,
    text_body: null,
    has_html: false,
    message_type: 'text',
    payload_json: null,
    form_fields: {},
    message_id: null,
    in_reply_to: null,
    references: [],
    context_message_id: null,
    attachments: [],
    spam_flagged: false,
    spam_score: null,
    spam_status: null,
    delivery_status: null,
    delivery_error: null,
    new_handle: null,
    ...fields,
  };
}

/** A payload that parses but is not what the provider documents (SD_ERR_INTAKE_INVALID_PAYLOAD). */
export class InvalidPayload extends Error {}

export function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export function nullable(value: string | undefined): string | null {
  return value ?? null;
}
