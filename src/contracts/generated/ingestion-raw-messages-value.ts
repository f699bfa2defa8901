// Generated from schemas/ingestion.raw.messages-value.avsc by `npm run generate`. Do not edit.

/** What the record is: a message from a customer, a delivery status of one of our outbound messages, or a change of the customer's handle. */
export type RawKind = 'MESSAGE' | 'STATUS' | 'IDENTITY_CHANGE' | 'UNKNOWN';
export const rawKindSymbols: readonly RawKind[] = ['MESSAGE', 'STATUS', 'IDENTITY_CHANGE', 'UNKNOWN'];

/** The channel the customer used. */
export type Channel = 'EMAIL' | 'WHATSAPP' | 'WEB_FORM' | 'UNKNOWN';
export const channelSymbols: readonly Channel[] = ['EMAIL', 'WHATSAPP', 'WEB_FORM', 'UNKNOWN'];

/** Metadata of one attachment; the bytes stay with the provider. */
export interface Attachment {
  /** File name as sent, if any. */
  filename: string | null;
  /** MIME type. */
  content_type: string;
  /** Size in bytes, when the provider says. */
  size_bytes: number | null;
  /** The provider's id to fetch the bytes (WhatsApp media id). */
  provider_media_id: string | null;
  /** SHA-256 of the bytes, hex or as the provider gives it. */
  sha256: string | null;
}

/** Delivery state of an outbound message. */
export type DeliveryStatus = 'SENT' | 'DELIVERED' | 'READ' | 'FAILED' | 'UNKNOWN';
export const deliveryStatusSymbols: readonly DeliveryStatus[] = ['SENT', 'DELIVERED', 'READ', 'FAILED', 'UNKNOWN'];

/** FIRST_SEEN: Redis confirmed the first delivery. UNCHECKED: Redis was unavailable, accepted without dedup (downstream effects are idempotent). */
export type DedupOutcome = 'FIRST_SEEN' | 'UNCHECKED' | 'UNKNOWN';
export const dedupOutcomeSymbols: readonly DedupOutcome[] = ['FIRST_SEEN', 'UNCHECKED', 'UNKNOWN'];

/** A customer message or provider event exactly as the intake received it (after signature check and dedup). Key: the sender handle as received. */
export interface RawMessage {
  /** Id the intake assigned to this record (UUID). */
  event_id: string;
  /** What the record is; UNKNOWN is what readers on an older schema see for a kind added later. */
  kind: RawKind;
  /** The channel the customer used. */
  channel: Channel;
  /** Which provider delivered it: postmark, mailgun, sendgrid, whatsapp_cloud or web_form. */
  provider: string;
  /** The provider's id: the WhatsApp wamid (for a status, the wamid of our outbound message), the Postmark MessageID; null when the provider gives none. */
  provider_message_id: string | null;
  /** Which of our inboxes received it: the recipient address, the WhatsApp phone_number_id, or the form id. */
  inbox: string;
  /** When the intake received the delivery (UTC, milliseconds). */
  received_at: number;
  /** When the provider says it was sent: the WhatsApp timestamp or the email Date header; null when absent or unparseable. */
  sent_at: number | null;
  /** The customer's handle exactly as the provider gave it (email From address, WhatsApp wa_id, form email or phone); for a delivery status, the recipient. Not normalized. */
  sender_handle: string;
  /** Other handles given for the same person as received: Reply-To, the form's phone when its email is the main handle. */
  sender_aliases: string[];
  /** The sender's display name (email From name, WhatsApp profile name, form name). */
  display_name: string | null;
  /** Email subject, or the form's subject field. */
  subject: string | null;
  /** Plain-text content: the email text part, the WhatsApp text, caption or reply title, the form message. */
  text_body: string | null;
  /** Whether the email also had an HTML part (not carried here). */
  has_html: boolean;
  /** The provider's content type: email, form, text, image, audio, video, document, sticker, interactive, button, location, contacts, reaction, system, unsupported or status. Unknown types are kept, never dropped. */
  message_type: string;
  /** Type-specific content that has no field of its own, as JSON: location, shared contacts, interactive or button reply ids, reaction. */
  payload_json: string | null;
  /** Web form fields other than those mapped to named fields (category, page URL, locale, consent...). */
  form_fields: Record<string, string>;
  /** Email RFC 5322 Message-ID, without angle brackets. */
  message_id: string | null;
  /** Email In-Reply-To Message-ID, without angle brackets. */
  in_reply_to: string | null;
  /** Email References Message-IDs, oldest first, without angle brackets. */
  references: string[];
  /** WhatsApp context.id: the wamid of the message this one replies to. */
  context_message_id: string | null;
  /** Attachments, metadata only. */
  attachments: Attachment[];
  /** Whether the provider's spam verdict flagged the message. */
  spam_flagged: boolean;
  /** The provider's spam score (SendGrid spam_score, X-Spam-Score), if given. */
  spam_score: number | null;
  /** The provider's raw verdict header (X-Spam-Status), if given. */
  spam_status: string | null;
  /** For kind STATUS: the delivery state reported for our outbound message provider_message_id. */
  delivery_status: DeliveryStatus | null;
  /** For a FAILED status: the provider's error code and title. */
  delivery_error: string | null;
  /** For kind IDENTITY_CHANGE: the customer's new handle (WhatsApp user_changed_number: the new wa_id). */
  new_handle: string | null;
  /** Traces this message through every service (the intake request id). */
  correlation_id: string;
  /** The per-channel identity dedup used: wamid (plus status), email Message-ID or content hash, form idempotency key. */
  dedup_key: string;
  /** How dedup judged this delivery. */
  dedup_outcome: DedupOutcome;
}

/** The Schema Registry subject this type belongs to. */
export const SUBJECT = 'ingestion.raw.messages-value';

/** The schema as registered (the .avsc text, parsed). */
export const SCHEMA = {"type":"record","name":"RawMessage","namespace":"dev.streamdesk.contracts","doc":"A customer message or provider event exactly as the intake received it (after signature check and dedup). Key: the sender handle as received.","fields":[{"name":"event_id","type":"string","doc":"Id the intake assigned to this record (UUID)."},{"name":"kind","type":{"type":"enum","name":"RawKind","doc":"What the record is: a message from a customer, a delivery status of one of our outbound messages, or a change of the customer's handle.","symbols":["MESSAGE","STATUS","IDENTITY_CHANGE","UNKNOWN"],"default":"UNKNOWN"},"doc":"What the record is; UNKNOWN is what readers on an older schema see for a kind added later."},{"name":"channel","type":{"type":"enum","name":"Channel","doc":"The channel the customer used.","symbols":["EMAIL","WHATSAPP","WEB_FORM","UNKNOWN"],"default":"UNKNOWN"},"doc":"The channel the customer used."},{"name":"provider","type":"string","doc":"Which provider delivered it: postmark, mailgun, sendgrid, whatsapp_cloud or web_form."},{"name":"provider_message_id","type":["null","string"],"default":null,"doc":"The provider's id: the WhatsApp wamid (for a status, the wamid of our outbound message), the Postmark MessageID; null when the provider gives none."},{"name":"inbox","type":"string","doc":"Which of our inboxes received it: the recipient address, the WhatsApp phone_number_id, or the form id."},{"name":"received_at","type":{"type":"long","logicalType":"timestamp-millis"},"doc":"When the intake received the delivery (UTC, milliseconds)."},{"name":"sent_at","type":["null",{"type":"long","logicalType":"timestamp-millis"}],"default":null,"doc":"When the provider says it was sent: the WhatsApp timestamp or the email Date header; null when absent or unparseable."},{"name":"sender_handle","type":"string","doc":"The customer's handle exactly as the provider gave it (email From address, WhatsApp wa_id, form email or phone); for a delivery status, the recipient. Not normalized."},{"name":"sender_aliases","type":{"type":"array","items":"string"},"default":[],"doc":"Other handles given for the same person as received: Reply-To, the form's phone when its email is the main handle."},{"name":"display_name","type":["null","string"],"default":null,"doc":"The sender's display name (email From name, WhatsApp profile name, form name)."},{"name":"subject","type":["null","string"],"default":null,"doc":"Email subject, or the form's subject field."},{"name":"text_body","type":["null","string"],"default":null,"doc":"Plain-text content: the email text part, the WhatsApp text, caption or reply title, the form message."},{"name":"has_html","type":"boolean","default":false,"doc":"Whether the email also had an HTML part (not carried here)."},{"name":"message_type","type":"string","default":"text","doc":"The provider's content type: email, form, text, image, audio, video, document, sticker, interactive, button, location, contacts, reaction, system, unsupported or status. Unknown types are kept, never dropped."},{"name":"payload_json","type":["null","string"],"default":null,"doc":"Type-specific content that has no field of its own, as JSON: location, shared contacts, interactive or button reply ids, reaction."},{"name":"form_fields","type":{"type":"map","values":"string"},"default":{},"doc":"Web form fields other than those mapped to named fields (category, page URL, locale, consent...)."},{"name":"message_id","type":["null","string"],"default":null,"doc":"Email RFC 5322 Message-ID, without angle brackets."},{"name":"in_reply_to","type":["null","string"],"default":null,"doc":"Email In-Reply-To Message-ID, without angle brackets."},{"name":"references","type":{"type":"array","items":"string"},"default":[],"doc":"Email References Message-IDs, oldest first, without angle brackets."},{"name":"context_message_id","type":["null","string"],"default":null,"doc":"WhatsApp context.id: the wamid of the message this one replies to."},{"name":"attachments","type":{"type":"array","items":{"type":"record","name":"Attachment","doc":"Metadata of one attachment; the bytes stay with the provider.","fields":[{"name":"filename","type":["null","string"],"default":null,"doc":"File name as sent, if any."},{"name":"content_type","type":"string","doc":"MIME type."},{"name":"size_bytes","type":["null","long"],"default":null,"doc":"Size in bytes, when the provider says."},{"name":"provider_media_id","type":["null","string"],"default":null,"doc":"The provider's id to fetch the bytes (WhatsApp media id)."},{"name":"sha256","type":["null","string"],"default":null,"doc":"SHA-256 of the bytes, hex or as the provider gives it."}]}},"default":[],"doc":"Attachments, metadata only."},{"name":"spam_flagged","type":"boolean","default":false,"doc":"Whether the provider's spam verdict flagged the message."},{"name":"spam_score","type":["null","double"],"default":null,"doc":"The provider's spam score (SendGrid spam_score, X-Spam-Score), if given."},{"name":"spam_status","type":["null","string"],"default":null,"doc":"The provider's raw verdict header (X-Spam-Status), if given."},{"name":"delivery_status","type":["null",{"type":"enum","name":"DeliveryStatus","doc":"Delivery state of an outbound message.","symbols":["SENT","DELIVERED","READ","FAILED","UNKNOWN"],"default":"UNKNOWN"}],"default":null,"doc":"For kind STATUS: the delivery state reported for our outbound message provider_message_id."},{"name":"delivery_error","type":["null","string"],"default":null,"doc":"For a FAILED status: the provider's error code and title."},{"name":"new_handle","type":["null","string"],"default":null,"doc":"For kind IDENTITY_CHANGE: the customer's new handle (WhatsApp user_changed_number: the new wa_id)."},{"name":"correlation_id","type":"string","doc":"Traces this message through every service (the intake request id)."},{"name":"dedup_key","type":"string","doc":"The per-channel identity dedup used: wamid (plus status), email Message-ID or content hash, form idempotency key."},{"name":"dedup_outcome","type":{"type":"enum","name":"DedupOutcome","doc":"FIRST_SEEN: Redis confirmed the first delivery. UNCHECKED: Redis was unavailable, accepted without dedup (downstream effects are idempotent).","symbols":["FIRST_SEEN","UNCHECKED","UNKNOWN"],"default":"UNKNOWN"},"doc":"How dedup judged this delivery."}]} as const;

export type Value = RawMessage;
