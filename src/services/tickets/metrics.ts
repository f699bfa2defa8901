/** Prometheus metrics of the tickets service (labels are enums, never ids or contact data). */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface TicketsMetrics {
  readonly registry: Registry;
  readonly records: Counter<'outcome'>;
  readonly effects: Counter<'effect'>;
  readonly endToEnd: Histogram;
  readonly outboxPublished: Counter;
  readonly outboxLag: Gauge;
  readonly slaBreaches: Counter;
}

export function createTicketsMetrics(
  options: { defaultMetrics?: boolean; outboxLag?: () => Promise<number> } = {},
): TicketsMetrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true)
    collectDefaultMetrics({ register: registry, prefix: 'streamdesk_tickets_process_' });
  const registers = [registry];
  const lag = options.outboxLag;
  return {
    registry,
    records: new Counter({
      name: 'streamdesk_tickets_records_total',
      help: 'Consumed ticket requests by outcome: processed, duplicate, retried, dead_lettered.',
      labelNames: ['outcome'],
      registers,
    }),
    effects: new Counter({
      name: 'streamdesk_tickets_effects_total',
      help: 'Effects applied: ticket_created, message_appended, delivery_recorded, identity_linked.',
      labelNames: ['effect'],
      registers,
    }),
    endToEnd: new Histogram({
      name: 'streamdesk_tickets_end_to_end_seconds',
      help: 'From intake receipt (received_at) to the ticket effect committed in PostgreSQL.',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    outboxPublished: new Counter({
      name: 'streamdesk_tickets_outbox_published_total',
      help: 'Outbox events published to Kafka.',
      registers,
    }),
    outboxLag: new Gauge({
      name: 'streamdesk_tickets_outbox_unpublished',
      help: 'Outbox events not yet published.',
      registers,
      async collect() {
        if (lag) this.set(await lag().catch(() => -1));
      },
    }),
    slaBreaches: new Counter({
      name: 'streamdesk_tickets_sla_breaches_total',
      help: 'SLA breach alerts raised.',
      registers,
    }),
  };
}
