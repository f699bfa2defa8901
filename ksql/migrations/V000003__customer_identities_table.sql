-- Which customer each canonical contact key belongs to: the compacted topic the tickets service
-- writes (contract processing.customer.identities-value), read as a table keyed by the contact key.
-- A tombstone unlinks a contact key.
CREATE TABLE IF NOT EXISTS CUSTOMER_IDENTITIES (
  CONTACT_KEY STRING PRIMARY KEY
) WITH (
  KAFKA_TOPIC = '${PROCESSING_CUSTOMER_IDENTITIES_TOPIC}',
  KEY_FORMAT = 'KAFKA',
  VALUE_FORMAT = 'AVRO',
  VALUE_SCHEMA_ID = ${PROCESSING_CUSTOMER_IDENTITIES_SCHEMA_ID}
);
