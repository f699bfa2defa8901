/**
 * The transactional outbox: events are written in the same PostgreSQL transaction as the effect they
 * describe (encoded with their registered contract), and a relay publishes them in order.
 *
 * Exactly once on the topics, not just at least once: the relay publishes each batch in a Kafka
 * transaction (transactional.id fences a zombie relay), every record carries its outbox id in a
 * header, and on start-up the relay reads the committed tails of its topics to learn the last outbox
 * id Kafka has, marking those rows published before it sends anything. A crash between the Kafka
 * commit and the database update therefore never republishes; a crash before the Kafka commit leaves
 * an aborted transaction that read_committed consumers never see. One relay runs at a time
 * (PostgreSQL advisory lock).
 */
import { transactionalProducerConfig } from '../../kafka/client.ts';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kafka, Producer } from 'kafkajs';
import type pg from 'pg';
import type { Logger } from 'pino';
import * as Alerts from '../../contracts/generated/notifications-alerts-value.ts';
import * as Audit from '../../contracts/generated/notifications-audit-value.ts';
import * as Identities from '../../contracts/generated/processing-customer-identities-value.ts';
import * as TicketEvents from '../../contracts/generated/processing-tickets-out-value.ts';
import { prefixed, TOPICS } from '../../contracts/topics.ts';
import type { RegistryClient } from '../../registry/client.ts';
import { createAvroEncoder, type AvroEncoder } from '../../registry/serde.ts';

export type TicketEvent = TicketEvents.TicketEvent;
export type CustomerIdentity = Identities.CustomerIdentity;
export type AlertEvent = Alerts.Alert;
export type AuditEvent = Audit.AuditEvent;

export const OUTBOX_ID_HEADER = 'sd-outbox-id';
export const EVENT_ID_HEADER = 'sd-event-id';

export interface Encoders {
  readonly ticketEvent: AvroEncoder<TicketEvent>;
  readonly identity: AvroEncoder<CustomerIdentity>;
  readonly alert: AvroEncoder<AlertEvent>;
  readonly audit: AvroEncoder<AuditEvent>;
}

export function createEncoders(registry: RegistryClient): Encoders {
  return {
    ticketEvent: createAvroEncoder(registry, TicketEvents),
    identity: createAvroEncoder(registry, Identities),
    alert: createAvroEncoder(registry, Alerts),
    audit: createAvroEncoder(registry, Audit),
  };
}

/**
 * Writes events into the outbox, inside the caller's transaction. Rows are buffered and inserted by
 * `flush` right before COMMIT under a transaction-scoped advisory lock, so outbox ids are assigned in
 * commit order: every reader sees a gap-tolerant prefix of the id sequence, which is what lets the
 * relay trust "everything up to id N is in Kafka". (With ids assigned mid-transaction, a transaction
 * committing late would surface an id below ones already published.)
 */
export interface OutboxWriter {
  ticketEvent(client: pg.PoolClient, event: TicketEvent): Promise<void>;
  identity(client: pg.PoolClient, event: CustomerIdentity): Promise<void>;
  alert(client: pg.PoolClient, event: AlertEvent): Promise<void>;
  audit(client: pg.PoolClient, event: AuditEvent): Promise<void>;
  /** Insert the transaction's buffered rows (call last, right before COMMIT). */
  flush(client: pg.PoolClient): Promise<void>;
  /** Forget the buffered rows of a transaction that rolled back. */
  discard(client: pg.PoolClient): void;
}

const OUTBOX_ORDER_LOCK = 728_104_553;

interface PendingRow {
  readonly eventId: string;
  readonly topic: string;
  readonly key: string;
  readonly value: Buffer;
}

export function createOutboxWriter(encoders: Encoders, now: () => number): OutboxWriter {
  const pending = new Map<pg.PoolClient, PendingRow[]>();
  const add = (client: pg.PoolClient, row: PendingRow): void => {
    const rows = pending.get(client) ?? [];
    rows.push(row);
    pending.set(client, rows);
  };
  return {
    ticketEvent: async (c, e) =>
      add(c, {
        eventId: e.event_id,
        topic: TOPICS.ticketsOut,
        key: e.ticket_id,
        value: await encoders.ticketEvent.encode(e),
      }),
    // Identity links are state keyed by contact key; their outbox id is unique per change.
    identity: async (c, e) =>
      add(c, {
        eventId: `identity:${randomUUID()}`,
        topic: TOPICS.customerIdentities,
        key: e.contact_key,
        value: await encoders.identity.encode(e),
      }),
    alert: async (c, e) =>
      add(c, {
        eventId: e.alert_id,
        topic: TOPICS.alerts,
        key: e.ticket_id ?? 'streamdesk',
        value: await encoders.alert.encode(e),
      }),
    audit: async (c, e) =>
      add(c, {
        eventId: e.audit_id,
        topic: TOPICS.audit,
        key: e.subject_id,
        value: await encoders.audit.encode(e),
      }),
    async flush(client) {
      const rows = pending.get(client);
      pending.delete(client);
      if (!rows || rows.length === 0) return;
      // Held until COMMIT: transactions writing the outbox take ids one after the other.
      await client.query('SELECT pg_advisory_xact_lock($1)', [OUTBOX_ORDER_LOCK]);
      const values = rows.map(
        (_, i) =>
          `($${i * 5 + 1}, $${i * 5 + 2}, $${i * 5 + 3}, $${i * 5 + 4}, to_timestamp($${i * 5 + 5} / 1000.0))`,
      );
      const at = now();
      // ON CONFLICT: an event id is published once, even if a caller wrote it twice.
      await client.query(
        `INSERT INTO outbox (event_id, topic, key, value, created_at) VALUES ${values.join(', ')} ON CONFLICT (event_id) DO NOTHING`,
        rows.flatMap((r) => [r.eventId, r.topic, r.key, r.value, at]),
      );
    },
    discard(client) {
      pending.delete(client);
    },
  };
}

/** A transaction whose outbox events are flushed last, in commit order (see OutboxWriter). */
export async function transactionWithOutbox<T>(
  pool: pg.Pool,
  outbox: OutboxWriter,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await outbox.flush(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    outbox.discard(client);
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

const RELAY_LOCK = 728_104_552;

export interface RelayOptions {
  readonly kafka: Kafka;
  readonly pool: pg.Pool;
  readonly topicPrefix: string;
  readonly transactionalId: string;
  readonly logger: Logger;
  readonly batchSize?: number;
  readonly idleMs?: number;
  readonly onPublished?: (count: number) => void;
}

export interface OutboxRelay {
  /** Runs until stop(); resolves when stopped. */
  run(): Promise<void>;
  stop(): Promise<void>;
  /** Unpublished outbox rows. */
  lag(): Promise<number>;
}

/**
 * Progress is kept in Kafka, atomically with the records: each transaction also commits, for a group
 * no consumer uses, "offset" = the last outbox id of the batch on partition 0 of the ticket-events
 * topic (TxnOffsetCommit). After a crash the committed value says exactly which rows Kafka has.
 */
function progressGroup(transactionalId: string): string {
  return `${transactionalId}-progress`;
}

async function lastPublishedOutboxId(
  kafka: Kafka,
  transactionalId: string,
  progressTopic: string,
): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchOffsets({
      groupId: progressGroup(transactionalId),
      topics: [progressTopic],
    });
    const value = Number(offsets[0]?.partitions.find((p) => p.partition === 0)?.offset ?? '-1');
    return value > 0 ? value : 0;
  } finally {
    await admin.disconnect();
  }
}

export function createOutboxRelay(options: RelayOptions): OutboxRelay {
  const batchSize = options.batchSize ?? 500;
  const idleMs = options.idleMs ?? 50;
  const topic = (base: string): string => prefixed(options.topicPrefix, base);
  const state = { stopping: false };
  // Read through a function: the flag changes while the loop awaits.
  const stopping = (): boolean => state.stopping;
  let producer: Producer | undefined;
  let running: Promise<void> | undefined;

  const publishBatch = async (client: pg.PoolClient): Promise<number> => {
    const rows = (
      await client.query<{
        outbox_id: string;
        event_id: string;
        topic: string;
        key: string | null;
        value: Buffer;
      }>(
        'SELECT outbox_id, event_id, topic, key, value FROM outbox WHERE published_at IS NULL ORDER BY outbox_id LIMIT $1',
        [batchSize],
      )
    ).rows;
    if (rows.length === 0 || !producer) return 0;
    const tx = await producer.transaction();
    try {
      const byTopic = new Map<string, typeof rows>();
      for (const r of rows) byTopic.set(r.topic, [...(byTopic.get(r.topic) ?? []), r]);
      await tx.sendBatch({
        acks: -1,
        topicMessages: [...byTopic].map(([base, list]) => ({
          topic: topic(base),
          messages: list.map((r) => ({
            key: r.key,
            value: r.value,
            headers: { [OUTBOX_ID_HEADER]: r.outbox_id, [EVENT_ID_HEADER]: r.event_id },
          })),
        })),
      });
      // The batch's last outbox id commits with the records (see lastPublishedOutboxId).
      await tx.sendOffsets({
        consumerGroupId: progressGroup(options.transactionalId),
        topics: [
          {
            topic: topic(TOPICS.ticketsOut),
            partitions: [{ partition: 0, offset: rows.at(-1)?.outbox_id ?? '0' }],
          },
        ],
      });
      await tx.commit();
    } catch (error) {
      await tx.abort().catch(() => undefined);
      throw error;
    }
    await client.query('UPDATE outbox SET published_at = now() WHERE outbox_id = ANY($1::bigint[])', [
      rows.map((r) => r.outbox_id),
    ]);
    options.onPublished?.(rows.length);
    return rows.length;
  };

  const loop = async (): Promise<void> => {
    while (!state.stopping) {
      let client: pg.PoolClient | undefined;
      let locked = false;
      try {
        client = await options.pool.connect();
        locked =
          (await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [RELAY_LOCK])).rows[0]
            ?.ok === true;
        if (!locked) {
          await sleep(1000); // another instance relays; stand by
          continue;
        }
        producer = options.kafka.producer(transactionalProducerConfig(options.transactionalId));
        await producer.connect();
        const recovered = await lastPublishedOutboxId(
          options.kafka,
          options.transactionalId,
          topic(TOPICS.ticketsOut),
        );
        if (recovered > 0) {
          const marked = await client.query(
            'UPDATE outbox SET published_at = now() WHERE published_at IS NULL AND outbox_id <= $1',
            [recovered],
          );
          if ((marked.rowCount ?? 0) > 0)
            options.logger.info(
              { recovered, rows: marked.rowCount },
              'outbox: rows already in Kafka marked published',
            );
        }
        for (;;) {
          if (stopping()) break;
          const sent = await publishBatch(client);
          if (sent === 0) await sleep(idleMs);
        }
      } catch (error) {
        options.logger.warn(
          { err: { type: (error as Error).name, message: (error as Error).message } },
          'outbox relay failed; restarting',
        );
        await sleep(1000);
      } finally {
        await producer?.disconnect().catch(() => undefined);
        producer = undefined;
        if (client) {
          if (locked)
            await client.query('SELECT pg_advisory_unlock($1)', [RELAY_LOCK]).catch(() => undefined);
          client.release();
        }
      }
    }
  };

  return {
    run() {
      running ??= loop();
      return running;
    },
    async stop() {
      state.stopping = true;
      await running;
    },
    async lag() {
      return Number(
        (
          await options.pool.query<{ n: string }>(
            'SELECT count(*) AS n FROM outbox WHERE published_at IS NULL',
          )
        ).rows[0]?.n ?? 0,
      );
    },
  };
}
