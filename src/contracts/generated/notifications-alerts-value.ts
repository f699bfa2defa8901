// Generated from schemas/notifications.alerts-value.avsc by `npm run generate`. Do not edit.

/** What the alert is about. */
export type AlertType = 'SLA_FIRST_RESPONSE_BREACH' | 'SLA_RESOLUTION_BREACH' | 'DEAD_LETTER' | 'UNKNOWN';
export const alertTypeSymbols: readonly AlertType[] = ['SLA_FIRST_RESPONSE_BREACH', 'SLA_RESOLUTION_BREACH', 'DEAD_LETTER', 'UNKNOWN'];

/** How urgent. */
export type Severity = 'INFO' | 'WARNING' | 'CRITICAL' | 'UNKNOWN';
export const severitySymbols: readonly Severity[] = ['INFO', 'WARNING', 'CRITICAL', 'UNKNOWN'];

/** An operational alert, emitted exactly once per occurrence. Key: ticket_id, or the alert source. Carries no personal data. */
export interface Alert {
  /** Unique id of this alert; also its dedup key (for SLA breaches derived from ticket and target). */
  alert_id: string;
  /** What the alert is about. */
  type: AlertType;
  /** How urgent. */
  severity: Severity;
  /** The ticket concerned, if any. */
  ticket_id: string | null;
  /** The customer concerned, if any. */
  customer_id: string | null;
  /** The ticket's priority, for SLA alerts. */
  priority: string | null;
  /** When the alert was raised (UTC). */
  raised_at: number;
  /** For SLA breaches: when the target was due. */
  due_at: number | null;
  /** One line for humans, without personal data. */
  summary: string;
  /** Traces what caused the alert. */
  correlation_id: string;
}

/** The Schema Registry subject this type belongs to. */
export const SUBJECT = 'notifications.alerts-value';

/** The schema as registered (the .avsc text, parsed). */
export const SCHEMA = {"type":"record","name":"Alert","namespace":"dev.streamdesk.contracts","doc":"An operational alert, emitted exactly once per occurrence. Key: ticket_id, or the alert source. Carries no personal data.","fields":[{"name":"alert_id","type":"string","doc":"Unique id of this alert; also its dedup key (for SLA breaches derived from ticket and target)."},{"name":"type","type":{"type":"enum","name":"AlertType","doc":"What the alert is about.","symbols":["SLA_FIRST_RESPONSE_BREACH","SLA_RESOLUTION_BREACH","DEAD_LETTER","UNKNOWN"],"default":"UNKNOWN"},"doc":"What the alert is about."},{"name":"severity","type":{"type":"enum","name":"Severity","doc":"How urgent.","symbols":["INFO","WARNING","CRITICAL","UNKNOWN"],"default":"UNKNOWN"},"doc":"How urgent."},{"name":"ticket_id","type":["null","string"],"default":null,"doc":"The ticket concerned, if any."},{"name":"customer_id","type":["null","string"],"default":null,"doc":"The customer concerned, if any."},{"name":"priority","type":["null","string"],"default":null,"doc":"The ticket's priority, for SLA alerts."},{"name":"raised_at","type":{"type":"long","logicalType":"timestamp-millis"},"doc":"When the alert was raised (UTC)."},{"name":"due_at","type":["null",{"type":"long","logicalType":"timestamp-millis"}],"default":null,"doc":"For SLA breaches: when the target was due."},{"name":"summary","type":"string","doc":"One line for humans, without personal data."},{"name":"correlation_id","type":"string","doc":"Traces what caused the alert."}]} as const;

export type Value = Alert;
