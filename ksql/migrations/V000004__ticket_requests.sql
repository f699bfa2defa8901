-- Enrichment: each normalized message with the customer its contact key belongs to, for the tickets
-- service (contract processing.tickets.in-value). LEFT JOIN: customer_id is null when the contact is
-- unknown, and the tickets service mints the customer. Both topics are keyed by the contact key and
-- have the same partition count (schemas/catalog.yaml declares them co-partitioned).
SET 'auto.offset.reset' = 'earliest';
SET 'processing.guarantee' = 'exactly_once_v2';

CREATE STREAM IF NOT EXISTS TICKET_REQUESTS WITH (
  KAFKA_TOPIC = '${PROCESSING_TICKETS_IN_TOPIC}',
  KEY_FORMAT = 'KAFKA',
  VALUE_FORMAT = 'AVRO',
  VALUE_SCHEMA_ID = ${PROCESSING_TICKETS_IN_SCHEMA_ID},
  PARTITIONS = ${PROCESSING_TICKETS_IN_PARTITIONS},
  REPLICAS = ${PROCESSING_TICKETS_IN_REPLICAS}
) AS SELECT
  M.CONTACT_KEY AS CONTACT_KEY,
  M.`event_id` AS `event_id`,
  M.`kind` AS `kind`,
  M.`channel` AS `channel`,
  M.`provider` AS `provider`,
  M.`provider_message_id` AS `provider_message_id`,
  M.`contact_key` AS `contact_key`,
  M.`sender_handle` AS `sender_handle`,
  M.`display_name` AS `display_name`,
  M.`inbox` AS `inbox`,
  M.`received_at` AS `received_at`,
  M.`sent_at` AS `sent_at`,
  M.`subject` AS `subject`,
  M.`text` AS `text`,
  M.`has_html` AS `has_html`,
  M.`message_type` AS `message_type`,
  M.`payload_json` AS `payload_json`,
  M.`thread_key` AS `thread_key`,
  M.`message_id` AS `message_id`,
  M.`in_reply_to` AS `in_reply_to`,
  M.`context_message_id` AS `context_message_id`,
  M.`priority` AS `priority`,
  M.`delivery_status` AS `delivery_status`,
  M.`delivery_error` AS `delivery_error`,
  M.`new_contact_key` AS `new_contact_key`,
  M.`attachments` AS `attachments`,
  M.`correlation_id` AS `correlation_id`,
  I.`customer_id` AS `customer_id`
FROM NORMALIZED_MESSAGES M
LEFT JOIN CUSTOMER_IDENTITIES I ON M.CONTACT_KEY = I.CONTACT_KEY
EMIT CHANGES;
