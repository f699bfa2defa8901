/**
 * Publishes raw messages: Avro with the registered contract (Confluent wire format: magic byte 0,
 * 4-byte schema id, Avro body), key = the sender handle as received, through an idempotent producer
 * with acks=all.
 *
 * Concurrent requests are group-committed: while one produce request is in flight, the records of
 * the requests arriving meanwhile gather and go out together in the next one (kafkajs has no linger).
 * A request's promise settles when the broker acknowledged (or refused) the produce request that
 * carried its records.
 */
import type { Message } from 'kafkajs';
import type { SendingProducer } from '../../kafka/renewing-producer.ts';
import * as RawMessages from '../../contracts/generated/ingestion-raw-messages-value.ts';
import type { RawMessage } from '../../contracts/generated/ingestion-raw-messages-value.ts';
import { StreamdeskError } from '../../errors.ts';
import type { RegistryClient } from '../../registry/client.ts';
import { createAvroEncoder } from '../../registry/serde.ts';

export interface RawPublisher {
  /** Encode (throws SD_ERR_INTAKE_PAYLOAD_TOO_LARGE for a record over the limit) without sending. */
  encode(records: readonly RawMessage[]): Promise<Message[]>;
  /** Send encoded messages; resolves once the broker acknowledged all of them. */
  send(messages: readonly Message[]): Promise<void>;
  /** The schema id of the raw-message contract, looked up once (SD_ERR_REGISTRY_UNAVAILABLE if not). */
  schemaId(): Promise<number>;
  /** Messages queued or in flight. */
  backlog(): number;
}

export interface PublisherOptions {
  readonly producer: SendingProducer;
  readonly registry: RegistryClient;
  readonly topic: string;
  readonly maxRecordBytes: number;
  /** Refuse new sends (503) beyond this many queued messages, so an outage cannot exhaust memory. */
  readonly maxBacklog?: number;
  /** Bytes per produce request: a partition's batch must stay under the broker's max.message.bytes. */
  readonly maxBatchBytes?: number;
}

interface Pending {
  readonly messages: readonly Message[];
  readonly bytes: number;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

export function createRawPublisher(options: PublisherOptions): RawPublisher {
  const maxBacklog = options.maxBacklog ?? 20_000;
  const maxBatchBytes = options.maxBatchBytes ?? 800 * 1024;
  const encoder = createAvroEncoder<RawMessage>(options.registry, RawMessages);
  const queue: Pending[] = [];
  let queued = 0;
  let inFlight = 0;
  let sending = false;

  const flush = async (): Promise<void> => {
    sending = true;
    while (queue.length > 0) {
      const batch: Pending[] = [];
      let bytes = 0;
      while (queue.length > 0 && (batch.length === 0 || bytes + (queue[0]?.bytes ?? 0) <= maxBatchBytes)) {
        const next = queue.shift() as Pending;
        batch.push(next);
        bytes += next.bytes;
      }
      const count = batch.reduce((n, p) => n + p.messages.length, 0);
      queued -= count;
      inFlight += count;
      try {
        await options.producer.send({
          topic: options.topic,
          acks: -1,
          messages: batch.flatMap((p) => p.messages),
        });
        for (const p of batch) p.resolve();
      } catch (error) {
        for (const p of batch) p.reject(error);
      } finally {
        inFlight -= count;
      }
    }
    sending = false;
  };

  return {
    schemaId: () => encoder.schemaId(),
    async encode(records) {
      const values = await Promise.all(records.map((record) => encoder.encode(record)));
      return records.map((record, i) => {
        const value = values[i] as Buffer;
        if (value.length > options.maxRecordBytes) {
          throw new StreamdeskError(
            'INTAKE_PAYLOAD_TOO_LARGE',
            `a message encodes to ${value.length} bytes, over the ${options.maxRecordBytes}-byte record limit`,
          );
        }
        return {
          key: record.sender_handle,
          value,
          timestamp: String(record.received_at),
          headers: { 'sd-correlation-id': record.correlation_id, 'sd-event-id': record.event_id },
        };
      });
    },
    send(messages) {
      if (queued + inFlight + messages.length > maxBacklog) {
        return Promise.reject(
          new StreamdeskError('INTAKE_UNAVAILABLE', 'Kafka is not keeping up (publish backlog full)'),
        );
      }
      return new Promise<void>((resolve, reject) => {
        queue.push({
          messages,
          bytes: messages.reduce((n, m) => n + ((m.value as Buffer | null)?.length ?? 0), 0),
          resolve,
          reject,
        });
        queued += messages.length;
        if (!sending) void flush();
      });
    },
    backlog: () => queued + inFlight,
  };
}
