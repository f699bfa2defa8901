// Generated from schemas/processing.customer.identities-value.avsc by `npm run generate`. Do not edit.

/** Why this link exists: MINTED for a new customer's first contact, NUMBER_CHANGED for a WhatsApp number change, MERGED when customers were merged, LINKED when an agent or API linked a handle. */
export type IdentityReason = 'MINTED' | 'NUMBER_CHANGED' | 'MERGED' | 'LINKED' | 'UNKNOWN';
export const identityReasonSymbols: readonly IdentityReason[] = ['MINTED', 'NUMBER_CHANGED', 'MERGED', 'LINKED', 'UNKNOWN'];

/** Which customer a canonical contact key belongs to. Compacted topic, key: contact_key; a tombstone unlinks the contact key. Read by the ksql enrichment table. */
export interface CustomerIdentity {
  /** Canonical contact key (also the record key): email:<address> or phone:+<E.164>. */
  contact_key: string;
  /** The customer the contact key belongs to (after merges: the surviving customer). */
  customer_id: string;
  /** Why the contact key is linked to this customer. */
  reason: IdentityReason;
  /** For MERGED: the customer the contact key belonged to before the merge. */
  previous_customer_id: string | null;
  /** When the link was made (UTC). */
  linked_at: number;
  /** Traces the message or request that caused the link. */
  correlation_id: string;
}

/** The Schema Registry subject this type belongs to. */
export const SUBJECT = 'processing.customer.identities-value';

/** The schema as registered (the .avsc text, parsed). */
export const SCHEMA = {"type":"record","name":"CustomerIdentity","namespace":"dev.streamdesk.contracts","doc":"Which customer a canonical contact key belongs to. Compacted topic, key: contact_key; a tombstone unlinks the contact key. Read by the ksql enrichment table.","fields":[{"name":"contact_key","type":"string","doc":"Canonical contact key (also the record key): email:<address> or phone:+<E.164>."},{"name":"customer_id","type":"string","doc":"The customer the contact key belongs to (after merges: the surviving customer)."},{"name":"reason","type":{"type":"enum","name":"IdentityReason","doc":"Why this link exists: MINTED for a new customer's first contact, NUMBER_CHANGED for a WhatsApp number change, MERGED when customers were merged, LINKED when an agent or API linked a handle.","symbols":["MINTED","NUMBER_CHANGED","MERGED","LINKED","UNKNOWN"],"default":"UNKNOWN"},"doc":"Why the contact key is linked to this customer."},{"name":"previous_customer_id","type":["null","string"],"default":null,"doc":"For MERGED: the customer the contact key belonged to before the merge."},{"name":"linked_at","type":{"type":"long","logicalType":"timestamp-millis"},"doc":"When the link was made (UTC)."},{"name":"correlation_id","type":"string","doc":"Traces the message or request that caused the link."}]} as const;

export type Value = CustomerIdentity;
