/**
 * ksqlDB's processing log: records that could not be processed (deserialization failures, expression
 * errors) are skipped or NULLed and reported here; the query keeps running. The in-memory log serves
 * tests; a Kafka-backed log (ksqlDB writes to a processing-log topic) can implement the same port.
 */

export interface ProcessingLogEntry {
  readonly queryId: string;
  /** What failed, e.g. "deserialization", "expression", "serialization", "timestamp". */
  readonly kind: string;
  /** Log-safe description (no record contents). */
  readonly message: string;
  readonly topic?: string;
  readonly partition?: number;
  readonly offset?: bigint;
}

export interface ProcessingLog {
  record(entry: ProcessingLogEntry): void;
}

export class InMemoryProcessingLog implements ProcessingLog {
  readonly entries: ProcessingLogEntry[] = [];

  record(entry: ProcessingLogEntry): void {
    this.entries.push(entry);
  }
}
