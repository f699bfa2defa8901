/**
 * An idempotent producer that never reuses sequence numbers after a failed send.
 *
 * kafkajs 2.2.4 rolls an idempotent producer's sequence numbers back when a produce request fails, so
 * that the retry carries the same numbers and the broker recognises a batch it already wrote. When the
 * send finally gives up (the broker stayed down past the client's connection retries), the numbers
 * stay rolled back. If the broker had written that batch — it crashed, or the connection dropped,
 * after the write and before the answer — the next batch with as many records for the partition gets
 * the same numbers, and the broker acknowledges it as a duplicate of the batch it holds, without
 * writing it: an acknowledged send whose records are not in the topic. (With a different count the
 * broker answers OUT_OF_ORDER_SEQUENCE_NUMBER instead, until some batch happens to match.) Measured
 * with a real broker and an injected lost response: test/integration/kafka/ambiguous-send.test.ts;
 * in the intake under `kill -9` of the broker, 8 of 21 runs lost acknowledged records.
 *
 * The Java producer bumps its epoch in this case (KIP-360). Here, a failed send retires the producer:
 * the next send connects a new one, which registers a new producer id whose numbers start afresh.
 * Sends go one at a time, so nothing can be numbered between a failed request and its retry (with one
 * broker connection and one request in flight, kafkajs sent them one at a time anyway).
 */
import type { Producer } from 'kafkajs';
import type { Logger } from 'pino';

/** The part of a kafkajs producer the services use. */
export type SendingProducer = Pick<Producer, 'connect' | 'disconnect' | 'send' | 'sendBatch'>;

export interface RenewingProducer extends SendingProducer {
  /** Producers retired after a failed send so far. */
  renewals(): number;
}

/**
 * `create` makes an unconnected idempotent (not transactional) producer; it is called again after each
 * failure, and `onRenewal` is told (for a log line: the error carries no message content).
 */
export function createRenewingProducer(
  create: () => Producer,
  onRenewal?: (error: unknown) => void,
): RenewingProducer {
  let current: Producer | undefined;
  const state = { closed: false };
  // Read through a function: the flag can change while a connect awaits.
  const closed = (): boolean => state.closed;
  let renewals = 0;
  let queue: Promise<unknown> = Promise.resolve();

  const connected = async (): Promise<Producer> => {
    if (current) return current;
    if (closed()) throw new Error('the producer was disconnected');
    const producer = create();
    try {
      await producer.connect();
    } catch (error) {
      await producer.disconnect().catch(() => undefined);
      throw error;
    }
    if (closed()) {
      await producer.disconnect().catch(() => undefined);
      throw new Error('the producer was disconnected');
    }
    current = producer;
    return producer;
  };

  const oneAtATime = <T>(work: (producer: Producer) => Promise<T>): Promise<T> => {
    const run = queue.then(async () => {
      const producer = await connected();
      try {
        return await work(producer);
      } catch (error) {
        if (current === producer) current = undefined;
        renewals++;
        onRenewal?.(error);
        await producer.disconnect().catch(() => undefined);
        throw error;
      }
    });
    queue = run.catch(() => undefined);
    return run;
  };

  return {
    async connect() {
      state.closed = false;
      await oneAtATime(() => Promise.resolve());
    },
    /** Does not wait for queued sends: a send still retrying fails (as with kafkajs' own disconnect). */
    async disconnect() {
      state.closed = true;
      const producer = current;
      current = undefined;
      await producer?.disconnect();
    },
    send: (record) => oneAtATime((producer) => producer.send(record)),
    sendBatch: (batch) => oneAtATime((producer) => producer.sendBatch(batch)),
    renewals: () => renewals,
  };
}

/** The warning services log when a producer is retired (error type and message: no message content). */
export function warnOnRenewal(logger: Pick<Logger, 'warn'>): (error: unknown) => void {
  return (error) =>
    logger.warn(
      { err: { type: (error as Error).name, message: (error as Error).message } },
      'a send failed: producer retired, the next send registers a new producer id',
    );
}
