// Generated from schemas/processing.tickets.out-value.avsc by `npm run generate`. Do not edit.

/** What happened to the ticket. */
export type TicketEventType = 'CREATED' | 'MESSAGE_APPENDED' | 'STATUS_CHANGED' | 'ASSIGNED' | 'MERGED' | 'DELIVERY_UPDATED' | 'UNKNOWN';
export const ticketEventTypeSymbols: readonly TicketEventType[] = ['CREATED', 'MESSAGE_APPENDED', 'STATUS_CHANGED', 'ASSIGNED', 'MERGED', 'DELIVERY_UPDATED', 'UNKNOWN'];

/** Ticket lifecycle state. */
export type TicketStatus = 'NEW' | 'OPEN' | 'PENDING' | 'SOLVED' | 'CLOSED' | 'UNKNOWN';
export const ticketStatusSymbols: readonly TicketStatus[] = ['NEW', 'OPEN', 'PENDING', 'SOLVED', 'CLOSED', 'UNKNOWN'];

/** Ticket lifecycle state before the event. */
export type PreviousTicketStatus = 'NEW' | 'OPEN' | 'PENDING' | 'SOLVED' | 'CLOSED' | 'UNKNOWN';
export const previousTicketStatusSymbols: readonly PreviousTicketStatus[] = ['NEW', 'OPEN', 'PENDING', 'SOLVED', 'CLOSED', 'UNKNOWN'];

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

/** One change in a ticket's life. Key: ticket_id. Each event has a unique event_id; consumers dedupe on it. */
export interface TicketEvent {
  /** Unique id of this event (UUID); the same event is never published twice under another id. */
  event_id: string;
  /** What happened. */
  type: TicketEventType;
  /** The ticket. */
  ticket_id: string;
  /** The ticket's customer. */
  customer_id: string;
  /** When it happened (UTC). */
  occurred_at: number;
  /** The ticket's status after the event. */
  status: TicketStatus;
  /** For STATUS_CHANGED: the status before. */
  previous_status: PreviousTicketStatus | null;
  /** For ASSIGNED: the agent now assigned; null when unassigned. */
  assignee_id: string | null;
  /** For MERGED: the ticket this one was merged into. */
  merged_into_ticket_id: string | null;
  /** For CREATED and MESSAGE_APPENDED: the event_id of the message that caused it. */
  message_event_id: string | null;
  /** Channel of that message: EMAIL, WHATSAPP or WEB_FORM. */
  channel: string | null;
  /** The ticket's priority: LOW, NORMAL, HIGH or URGENT. */
  priority: string | null;
  /** The conversation the ticket follows. */
  thread_key: string | null;
  /** For DELIVERY_UPDATED: SENT, DELIVERED, READ or FAILED of an outbound message. */
  delivery_status: string | null;
  /** Who caused the event. */
  actor: Actor;
  /** Traces the message or request that caused the event. */
  correlation_id: string;
}

/** The Schema Registry subject this type belongs to. */
export const SUBJECT = 'processing.tickets.out-value';

/** The schema as registered (the .avsc text, parsed). */
export const SCHEMA = {"type":"record","name":"TicketEvent","namespace":"dev.streamdesk.contracts","doc":"One change in a ticket's life. Key: ticket_id. Each event has a unique event_id; consumers dedupe on it.","fields":[{"name":"event_id","type":"string","doc":"Unique id of this event (UUID); the same event is never published twice under another id."},{"name":"type","type":{"type":"enum","name":"TicketEventType","doc":"What happened to the ticket.","symbols":["CREATED","MESSAGE_APPENDED","STATUS_CHANGED","ASSIGNED","MERGED","DELIVERY_UPDATED","UNKNOWN"],"default":"UNKNOWN"},"doc":"What happened."},{"name":"ticket_id","type":"string","doc":"The ticket."},{"name":"customer_id","type":"string","doc":"The ticket's customer."},{"name":"occurred_at","type":{"type":"long","logicalType":"timestamp-millis"},"doc":"When it happened (UTC)."},{"name":"status","type":{"type":"enum","name":"TicketStatus","doc":"Ticket lifecycle state.","symbols":["NEW","OPEN","PENDING","SOLVED","CLOSED","UNKNOWN"],"default":"UNKNOWN"},"doc":"The ticket's status after the event."},{"name":"previous_status","type":["null",{"type":"enum","name":"PreviousTicketStatus","doc":"Ticket lifecycle state before the event.","symbols":["NEW","OPEN","PENDING","SOLVED","CLOSED","UNKNOWN"],"default":"UNKNOWN"}],"default":null,"doc":"For STATUS_CHANGED: the status before."},{"name":"assignee_id","type":["null","string"],"default":null,"doc":"For ASSIGNED: the agent now assigned; null when unassigned."},{"name":"merged_into_ticket_id","type":["null","string"],"default":null,"doc":"For MERGED: the ticket this one was merged into."},{"name":"message_event_id","type":["null","string"],"default":null,"doc":"For CREATED and MESSAGE_APPENDED: the event_id of the message that caused it."},{"name":"channel","type":["null","string"],"default":null,"doc":"Channel of that message: EMAIL, WHATSAPP or WEB_FORM."},{"name":"priority","type":["null","string"],"default":null,"doc":"The ticket's priority: LOW, NORMAL, HIGH or URGENT."},{"name":"thread_key","type":["null","string"],"default":null,"doc":"The conversation the ticket follows."},{"name":"delivery_status","type":["null","string"],"default":null,"doc":"For DELIVERY_UPDATED: SENT, DELIVERED, READ or FAILED of an outbound message."},{"name":"actor","type":{"type":"record","name":"Actor","doc":"Who did something.","fields":[{"name":"type","type":{"type":"enum","name":"ActorType","doc":"SYSTEM: streamdesk itself (SLA timers, minting); AGENT: a support agent; API_CLIENT: an integration; CUSTOMER: the customer's own message.","symbols":["SYSTEM","AGENT","API_CLIENT","CUSTOMER","UNKNOWN"],"default":"UNKNOWN"},"doc":"Kind of actor."},{"name":"id","type":["null","string"],"default":null,"doc":"The agent or API client id; null for SYSTEM and CUSTOMER."}]},"doc":"Who caused the event."},{"name":"correlation_id","type":"string","doc":"Traces the message or request that caused the event."}]} as const;

export type Value = TicketEvent;
