/**
 * The tickets service's PostgreSQL schema, as ordered migrations applied at start-up under an
 * advisory lock (several instances may start together). PostgreSQL is the system of record for
 * customers and tickets; Kafka gets what happened through the outbox.
 */
import type pg from 'pg';

const MIGRATIONS: readonly string[] = [
  // 1: customers, identities, tickets, messages, processed events, delivery states, SLA timers, outbox
  `
  CREATE TABLE customers (
    customer_id   text PRIMARY KEY,
    created_at    timestamptz NOT NULL,
    display_name  text,
    merged_into   text REFERENCES customers (customer_id)
  );
  -- A contact key belongs to exactly one customer: the uniqueness that makes minting exactly-once.
  CREATE TABLE customer_identities (
    contact_key   text PRIMARY KEY,
    customer_id   text NOT NULL REFERENCES customers (customer_id),
    reason        text NOT NULL,
    linked_at     timestamptz NOT NULL
  );
  CREATE INDEX customer_identities_customer ON customer_identities (customer_id);
  CREATE SEQUENCE customer_seq;
  CREATE SEQUENCE ticket_seq;
  CREATE TABLE tickets (
    ticket_id         text PRIMARY KEY,
    customer_id       text NOT NULL REFERENCES customers (customer_id),
    status            text NOT NULL,
    priority          text NOT NULL,
    channel           text NOT NULL,
    thread_key        text,
    subject           text,
    assignee_id       text,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    last_message_at   timestamptz NOT NULL,
    first_response_at timestamptz,
    solved_at         timestamptz,
    message_count     integer NOT NULL DEFAULT 0
  );
  CREATE INDEX tickets_thread ON tickets (thread_key, last_message_at DESC);
  CREATE INDEX tickets_customer ON tickets (customer_id);
  -- Every consumed record's identity with its effect, written in the transaction that makes the
  -- effect: a redelivered record finds its id here and does nothing.
  CREATE TABLE processed_events (
    event_id      text PRIMARY KEY,
    effect        text NOT NULL,
    processed_at  timestamptz NOT NULL
  );
  CREATE TABLE ticket_messages (
    event_id            text PRIMARY KEY REFERENCES processed_events (event_id),
    ticket_id           text NOT NULL REFERENCES tickets (ticket_id),
    channel             text NOT NULL,
    provider            text,
    provider_message_id text,
    contact_key         text NOT NULL,
    subject             text,
    body                text,
    received_at         timestamptz NOT NULL,
    correlation_id      text
  );
  CREATE INDEX ticket_messages_ticket ON ticket_messages (ticket_id);
  -- WhatsApp delivery state of our outbound messages; it never moves backwards.
  CREATE TABLE delivery_states (
    provider_message_id text PRIMARY KEY,
    status              text NOT NULL,
    rank                integer NOT NULL,
    error               text,
    updated_at          timestamptz NOT NULL
  );
  CREATE TABLE sla_timers (
    ticket_id    text NOT NULL REFERENCES tickets (ticket_id),
    kind         text NOT NULL,
    due_at       timestamptz NOT NULL,
    met_at       timestamptz,
    breached_at  timestamptz,
    PRIMARY KEY (ticket_id, kind)
  );
  CREATE INDEX sla_timers_open ON sla_timers (due_at) WHERE met_at IS NULL AND breached_at IS NULL;
  -- Transactional outbox: events written with the effect, published by the relay in id order.
  CREATE TABLE outbox (
    outbox_id     bigserial PRIMARY KEY,
    event_id      text NOT NULL UNIQUE,
    topic         text NOT NULL,
    key           text,
    value         bytea NOT NULL,
    created_at    timestamptz NOT NULL,
    published_at  timestamptz
  );
  CREATE INDEX outbox_unpublished ON outbox (outbox_id) WHERE published_at IS NULL;
  `,
];

// Any constant shared by every instance: serializes concurrent start-ups' migrations.
const MIGRATION_LOCK = 728_104_551;

/** Apply pending migrations; returns how many ran. */
export async function migrate(pool: pg.Pool): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS tickets_schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const applied = new Set(
      (await client.query<{ version: number }>('SELECT version FROM tickets_schema_migrations')).rows.map(
        (r) => r.version,
      ),
    );
    let ran = 0;
    for (const [index, sql] of MIGRATIONS.entries()) {
      const version = index + 1;
      if (applied.has(version)) continue;
      await client.query(sql);
      await client.query('INSERT INTO tickets_schema_migrations (version) VALUES ($1)', [version]);
      ran++;
    }
    await client.query('COMMIT');
    return ran;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
