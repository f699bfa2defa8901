// Generated from schemas/notifications.audit-value.avsc by `npm run generate`. Do not edit.

/** SYSTEM: streamdesk itself (SLA timers, minting); AGENT: a support agent; API_CLIENT: an integration; CUSTOMER: the customer's own message. */
export type ActorType = 'SYSTEM' | 'AGENT' | 'API_CLIENT' | 'CUSTOMER' | 'UNKNOWN';
export const actorTypeSymbols: readonly ActorType[] = ['SYSTEM', 'AGENT', 'API_CLIENT', 'CUSTOMER', 'UNKNOWN'];

/** Who did something. */
export interface Actor {
  /** Kind of actor. */
  type: ActorType;
  /** The agent or API client id; null for SYSTEM and CUSTOMER. */
  id: string | null;
}

/** Who changed what and when. Key: subject_id. Kept two years. */
export interface AuditEvent {
  /** Unique id of this audit record (UUID). */
  audit_id: string;
  /** When the change happened (UTC). */
  occurred_at: number;
  /** Who made the change. */
  actor: Actor;
  /** What was done, as <subject>.<verb>: ticket.created, ticket.status_changed, ticket.assigned, customer.merged, identity.linked... */
  action: string;
  /** Kind of thing changed: ticket, customer, identity. */
  subject_type: string;
  /** Id of the thing changed (also the record key). */
  subject_id: string;
  /** The changed attributes before, as JSON (ids and states, no message content). */
  before: string | null;
  /** The changed attributes after, as JSON (ids and states, no message content). */
  after: string | null;
  /** Traces the message or request behind the change. */
  correlation_id: string;
}

/** The Schema Registry subject this type belongs to. */
export const SUBJECT = 'notifications.audit-value';

/** The schema as registered (the .avsc text, parsed). */
export const SCHEMA = {"type":"record","name":"AuditEvent","namespace":"dev.streamdesk.contracts","doc":"Who changed what and when. Key: subject_id. Kept two years.","fields":[{"name":"audit_id","type":"string","doc":"Unique id of this audit record (UUID)."},{"name":"occurred_at","type":{"type":"long","logicalType":"timestamp-millis"},"doc":"When the change happened (UTC)."},{"name":"actor","type":{"type":"record","name":"Actor","doc":"Who did something.","fields":[{"name":"type","type":{"type":"enum","name":"ActorType","doc":"SYSTEM: streamdesk itself (SLA timers, minting); AGENT: a support agent; API_CLIENT: an integration; CUSTOMER: the customer's own message.","symbols":["SYSTEM","AGENT","API_CLIENT","CUSTOMER","UNKNOWN"],"default":"UNKNOWN"},"doc":"Kind of actor."},{"name":"id","type":["null","string"],"default":null,"doc":"The agent or API client id; null for SYSTEM and CUSTOMER."}]},"doc":"Who made the change."},{"name":"action","type":"string","doc":"What was done, as <subject>.<verb>: ticket.created, ticket.status_changed, ticket.assigned, customer.merged, identity.linked..."},{"name":"subject_type","type":"string","doc":"Kind of thing changed: ticket, customer, identity."},{"name":"subject_id","type":"string","doc":"Id of the thing changed (also the record key)."},{"name":"before","type":["null","string"],"default":null,"doc":"The changed attributes before, as JSON (ids and states, no message content)."},{"name":"after","type":["null","string"],"default":null,"doc":"The changed attributes after, as JSON (ids and states, no message content)."},{"name":"correlation_id","type":"string","doc":"Traces the message or request behind the change."}]} as const;

export type Value = AuditEvent;
