// Generated from schemas/ingestion.normalized.messages-value.avsc by `npm run generate`. Do not edit.

/** Metadata of one attachment (the bytes stay with the provider). */
export interface NormalizedAttachment {
  /** File name as sent, if any. */
  filename: string | null;
  /** MIME type. */
  content_type: string | null;
  /** Size in bytes, when the provider says. */
  size_bytes: number | null;
  /** The provider's id to fetch the bytes (WhatsApp media id). */
  provider_media_id: string | null;
  /** SHA-256 of the bytes, as the provider gives it. */
  sha256: string | null;
}

/** A customer message or provider event after normalization by the ksql topology. Written by a persistent query, so every field is nullable (ksql columns are). Key: contact_key. */
export interface NormalizedMessage {
  /** The raw record's event_id (one normalized record per raw record). */
  event_id: string | null;
  /** MESSAGE, STATUS or IDENTITY_CHANGE (the raw kind). */
  kind: string | null;
  /** EMAIL, WHATSAPP or WEB_FORM. */
  channel: string | null;
  /** postmark, mailgun, sendgrid, whatsapp_cloud or web_form. */
  provider: string | null;
  /** The provider's message id (for a status: the wamid of our outbound message). */
  provider_message_id: string | null;
  /** Canonical contact key, also the record key: email:<lower-cased, trimmed address> or phone:+<E.164 digits> (WhatsApp and form phones). */
  contact_key: string | null;
  /** The handle as received, before normalization. */
  sender_handle: string | null;
  /** The sender's display name. */
  display_name: string | null;
  /** Which of our inboxes received it (recipient address, WhatsApp phone_number_id, form id). */
  inbox: string | null;
  /** When the intake received it (UTC). */
  received_at: number | null;
  /** When the provider says it was sent. */
  sent_at: number | null;
  /** Email or form subject. */
  subject: string | null;
  /** The plain-text content, trimmed. */
  text: string | null;
  /** Whether the email had an HTML part. */
  has_html: boolean | null;
  /** The provider's content type (email, form, text, image, ..., status). */
  message_type: string | null;
  /** Type-specific content without its own field, as JSON. */
  payload_json: string | null;
  /** Conversation this message belongs to: email: the root Message-ID (first References entry, else In-Reply-To, else its own Message-ID), prefixed email:; WhatsApp: whatsapp:<inbox>:<contact key>; form: form:<event id>. */
  thread_key: string | null;
  /** Email Message-ID, without angle brackets. */
  message_id: string | null;
  /** Email In-Reply-To, without angle brackets. */
  in_reply_to: string | null;
  /** WhatsApp: the wamid this message replies to. */
  context_message_id: string | null;
  /** LOW, NORMAL, HIGH or URGENT, from keywords in subject and text. */
  priority: string | null;
  /** For kind STATUS: SENT, DELIVERED, READ or FAILED. */
  delivery_status: string | null;
  /** For a FAILED status: the provider's error code and title. */
  delivery_error: string | null;
  /** For kind IDENTITY_CHANGE: the canonical contact key of the new handle. */
  new_contact_key: string | null;
  /** Attachments, metadata only. */
  attachments: (NormalizedAttachment | null)[] | null;
  /** Traces this message through every service. */
  correlation_id: string | null;
}

/** The Schema Registry subject this type belongs to. */
export const SUBJECT = 'ingestion.normalized.messages-value';

/** The schema as registered (the .avsc text, parsed). */
export const SCHEMA = {"type":"record","name":"NormalizedMessage","namespace":"dev.streamdesk.contracts","doc":"A customer message or provider event after normalization by the ksql topology. Written by a persistent query, so every field is nullable (ksql columns are). Key: contact_key.","fields":[{"name":"event_id","type":["null","string"],"default":null,"doc":"The raw record's event_id (one normalized record per raw record)."},{"name":"kind","type":["null","string"],"default":null,"doc":"MESSAGE, STATUS or IDENTITY_CHANGE (the raw kind)."},{"name":"channel","type":["null","string"],"default":null,"doc":"EMAIL, WHATSAPP or WEB_FORM."},{"name":"provider","type":["null","string"],"default":null,"doc":"postmark, mailgun, sendgrid, whatsapp_cloud or web_form."},{"name":"provider_message_id","type":["null","string"],"default":null,"doc":"The provider's message id (for a status: the wamid of our outbound message)."},{"name":"contact_key","type":["null","string"],"default":null,"doc":"Canonical contact key, also the record key: email:<lower-cased, trimmed address> or phone:+<E.164 digits> (WhatsApp and form phones)."},{"name":"sender_handle","type":["null","string"],"default":null,"doc":"The handle as received, before normalization."},{"name":"display_name","type":["null","string"],"default":null,"doc":"The sender's display name."},{"name":"inbox","type":["null","string"],"default":null,"doc":"Which of our inboxes received it (recipient address, WhatsApp phone_number_id, form id)."},{"name":"received_at","type":["null",{"type":"long","logicalType":"timestamp-millis"}],"default":null,"doc":"When the intake received it (UTC)."},{"name":"sent_at","type":["null",{"type":"long","logicalType":"timestamp-millis"}],"default":null,"doc":"When the provider says it was sent."},{"name":"subject","type":["null","string"],"default":null,"doc":"Email or form subject."},{"name":"text","type":["null","string"],"default":null,"doc":"The plain-text content, trimmed."},{"name":"has_html","type":["null","boolean"],"default":null,"doc":"Whether the email had an HTML part."},{"name":"message_type","type":["null","string"],"default":null,"doc":"The provider's content type (email, form, text, image, ..., status)."},{"name":"payload_json","type":["null","string"],"default":null,"doc":"Type-specific content without its own field, as JSON."},{"name":"thread_key","type":["null","string"],"default":null,"doc":"Conversation this message belongs to: email: the root Message-ID (first References entry, else In-Reply-To, else its own Message-ID), prefixed email:; WhatsApp: whatsapp:<inbox>:<contact key>; form: form:<event id>."},{"name":"message_id","type":["null","string"],"default":null,"doc":"Email Message-ID, without angle brackets."},{"name":"in_reply_to","type":["null","string"],"default":null,"doc":"Email In-Reply-To, without angle brackets."},{"name":"context_message_id","type":["null","string"],"default":null,"doc":"WhatsApp: the wamid this message replies to."},{"name":"priority","type":["null","string"],"default":null,"doc":"LOW, NORMAL, HIGH or URGENT, from keywords in subject and text."},{"name":"delivery_status","type":["null","string"],"default":null,"doc":"For kind STATUS: SENT, DELIVERED, READ or FAILED."},{"name":"delivery_error","type":["null","string"],"default":null,"doc":"For a FAILED status: the provider's error code and title."},{"name":"new_contact_key","type":["null","string"],"default":null,"doc":"For kind IDENTITY_CHANGE: the canonical contact key of the new handle."},{"name":"attachments","type":["null",{"type":"array","items":["null",{"type":"record","name":"NormalizedAttachment","doc":"Metadata of one attachment (the bytes stay with the provider).","fields":[{"name":"filename","type":["null","string"],"default":null,"doc":"File name as sent, if any."},{"name":"content_type","type":["null","string"],"default":null,"doc":"MIME type."},{"name":"size_bytes","type":["null","long"],"default":null,"doc":"Size in bytes, when the provider says."},{"name":"provider_media_id","type":["null","string"],"default":null,"doc":"The provider's id to fetch the bytes (WhatsApp media id)."},{"name":"sha256","type":["null","string"],"default":null,"doc":"SHA-256 of the bytes, as the provider gives it."}]}]}],"default":null,"doc":"Attachments, metadata only."},{"name":"correlation_id","type":["null","string"],"default":null,"doc":"Traces this message through every service."}]} as const;

export type Value = NormalizedMessage;
