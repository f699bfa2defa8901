/**
 * Topic names as constants (CONVENTIONS item 10). A test checks them against schemas/catalog.yaml, so
 * code cannot name a topic the catalog does not create.
 */
export const TOPICS = {
  rawMessages: 'ingestion.raw.messages',
  normalizedMessages: 'ingestion.normalized.messages',
  customerIdentities: 'processing.customer.identities',
  ticketsIn: 'processing.tickets.in',
  ticketsOut: 'processing.tickets.out',
  alerts: 'notifications.alerts',
  audit: 'notifications.audit',
} as const;

export type TopicName = (typeof TOPICS)[keyof typeof TOPICS];

/** TopicNameStrategy, as Confluent serializers and ksqlDB use it: `<topic>-value`. */
export function valueSubject(topic: string): string {
  return `${topic}-value`;
}

export const RETRY_SUFFIX = '.retry';
export const DEAD_LETTER_SUFFIX = '.dlt';

/** The topic name in an environment with STREAMDESK_TOPIC_PREFIX (subjects keep catalog names). */
export function prefixed(prefix: string, topic: string): string {
  return `${prefix}${topic}`;
}
