-- Every customer message and provider event as the intake published it: the registered contract
-- ingestion.raw.messages-value, read by its schema id (column names are the contract's, so they are
-- quoted with backticks in the queries that read them). The record key (sender handle as received) is
-- not needed: normalization derives the canonical contact key from the value.
CREATE STREAM IF NOT EXISTS RAW_MESSAGES WITH (
  KAFKA_TOPIC = '${INGESTION_RAW_MESSAGES_TOPIC}',
  KEY_FORMAT = 'KAFKA',
  VALUE_FORMAT = 'AVRO',
  VALUE_SCHEMA_ID = ${INGESTION_RAW_MESSAGES_SCHEMA_ID}
);
