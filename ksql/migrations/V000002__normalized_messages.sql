-- Normalization: raw records → ingestion.normalized.messages, written with the registered contract
-- (VALUE_SCHEMA_ID: the columns below are the contract's fields, in its order, with its names).
--
-- contact key   email:<address lower-cased and trimmed>, or phone:+<digits> (E.164) for WhatsApp ids
--               and phone numbers (punctuation and spaces removed, a leading 00 read as +); a web form's
--               handle is its email when it has one, else its phone.
-- thread key    email: the root Message-ID (first References entry, else In-Reply-To, else its own
--               Message-ID); WhatsApp: whatsapp:<inbox>:<contact key>; web form: ticket:<id> when the
--               form names a ticket (field ticket_id), else form:<event id> (a new conversation).
-- priority      URGENT / HIGH / LOW from keywords in the lower-cased subject and text, else NORMAL.
-- statuses      WhatsApp delivery statuses keep kind STATUS and their delivery_status, so the tickets
--               service records delivery state instead of opening tickets.
-- spam          messages the provider flagged as spam are dropped here.
-- key           re-keyed by the contact key (PARTITION BY) so the identity join is co-partitioned.
--
-- Exactly-once: a crash or restart neither loses nor duplicates a normalized record. Queries read
-- the topic from the beginning when first created, so nothing published before them is skipped.
SET 'auto.offset.reset' = 'earliest';
SET 'processing.guarantee' = 'exactly_once_v2';

CREATE STREAM IF NOT EXISTS NORMALIZED_MESSAGES WITH (
  KAFKA_TOPIC = '${INGESTION_NORMALIZED_MESSAGES_TOPIC}',
  KEY_FORMAT = 'KAFKA',
  VALUE_FORMAT = 'AVRO',
  VALUE_SCHEMA_ID = ${INGESTION_NORMALIZED_MESSAGES_SCHEMA_ID},
  PARTITIONS = ${INGESTION_NORMALIZED_MESSAGES_PARTITIONS},
  REPLICAS = ${INGESTION_NORMALIZED_MESSAGES_REPLICAS}
) AS SELECT
  CASE
    WHEN `channel` = 'EMAIL' OR (`channel` = 'WEB_FORM' AND INSTR(`sender_handle`, '@') > 0)
      THEN 'email:' + LCASE(TRIM(`sender_handle`))
    ELSE 'phone:+' + REGEXP_REPLACE(REGEXP_REPLACE(TRIM(`sender_handle`), '[^0-9]', ''), '^00', '')
  END AS CONTACT_KEY,
  `event_id` AS `event_id`,
  `kind` AS `kind`,
  `channel` AS `channel`,
  `provider` AS `provider`,
  `provider_message_id` AS `provider_message_id`,
  AS_VALUE(CASE
    WHEN `channel` = 'EMAIL' OR (`channel` = 'WEB_FORM' AND INSTR(`sender_handle`, '@') > 0)
      THEN 'email:' + LCASE(TRIM(`sender_handle`))
    ELSE 'phone:+' + REGEXP_REPLACE(REGEXP_REPLACE(TRIM(`sender_handle`), '[^0-9]', ''), '^00', '')
  END) AS `contact_key`,
  `sender_handle` AS `sender_handle`,
  `display_name` AS `display_name`,
  `inbox` AS `inbox`,
  `received_at` AS `received_at`,
  `sent_at` AS `sent_at`,
  `subject` AS `subject`,
  TRIM(`text_body`) AS `text`,
  `has_html` AS `has_html`,
  CASE WHEN `kind` = 'STATUS' THEN 'status' ELSE `message_type` END AS `message_type`,
  `payload_json` AS `payload_json`,
  CASE
    WHEN `kind` <> 'MESSAGE' THEN CAST(NULL AS STRING)
    WHEN `channel` = 'EMAIL' THEN 'email:' + COALESCE(`references`[1], `in_reply_to`, `message_id`)
    WHEN `channel` = 'WHATSAPP' THEN 'whatsapp:' + `inbox` + ':phone:+'
      + REGEXP_REPLACE(REGEXP_REPLACE(TRIM(`sender_handle`), '[^0-9]', ''), '^00', '')
    WHEN `form_fields`['ticket_id'] IS NOT NULL THEN 'ticket:' + TRIM(`form_fields`['ticket_id'])
    ELSE 'form:' + `event_id`
  END AS `thread_key`,
  `message_id` AS `message_id`,
  `in_reply_to` AS `in_reply_to`,
  `context_message_id` AS `context_message_id`,
  CASE
    WHEN `kind` <> 'MESSAGE' THEN CAST(NULL AS STRING)
    WHEN REGEXP_EXTRACT('\b(urgent|emergency|asap|outage|immediately|security breach)\b',
      LCASE(COALESCE(`subject`, '') + ' ' + COALESCE(`text_body`, ''))) IS NOT NULL THEN 'URGENT'
    WHEN REGEXP_EXTRACT('\b(refund|cancel|cancellation|broken|not working|error|complaint|charged twice)\b',
      LCASE(COALESCE(`subject`, '') + ' ' + COALESCE(`text_body`, ''))) IS NOT NULL THEN 'HIGH'
    WHEN REGEXP_EXTRACT('\b(thanks|thank you|feedback|suggestion|newsletter)\b',
      LCASE(COALESCE(`subject`, '') + ' ' + COALESCE(`text_body`, ''))) IS NOT NULL THEN 'LOW'
    ELSE 'NORMAL'
  END AS `priority`,
  `delivery_status` AS `delivery_status`,
  `delivery_error` AS `delivery_error`,
  CASE
    WHEN `new_handle` IS NULL THEN CAST(NULL AS STRING)
    ELSE 'phone:+' + REGEXP_REPLACE(REGEXP_REPLACE(TRIM(`new_handle`), '[^0-9]', ''), '^00', '')
  END AS `new_contact_key`,
  `attachments` AS `attachments`,
  `correlation_id` AS `correlation_id`
FROM RAW_MESSAGES
WHERE NOT `spam_flagged`
PARTITION BY CASE
    WHEN `channel` = 'EMAIL' OR (`channel` = 'WEB_FORM' AND INSTR(`sender_handle`, '@') > 0)
      THEN 'email:' + LCASE(TRIM(`sender_handle`))
    ELSE 'phone:+' + REGEXP_REPLACE(REGEXP_REPLACE(TRIM(`sender_handle`), '[^0-9]', ''), '^00', '')
  END
EMIT CHANGES;
