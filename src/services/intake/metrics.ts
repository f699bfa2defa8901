/**
 * Prometheus metrics of the intake (one registry per app instance). Labels are low-cardinality
 * enums only: never an id, address or phone number.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type Channel = 'whatsapp' | 'email' | 'form';
export type Outcome =
  | 'accepted'
  | 'duplicate'
  | 'rejected'
  | 'unauthorized'
  | 'rate_limited'
  | 'unavailable'
  | 'spam_dropped'
  | 'verified'
  | 'error';

export interface IntakeMetrics {
  readonly registry: Registry;
  readonly requests: Counter<'channel' | 'outcome'>;
  readonly messages: Counter<'channel' | 'kind'>;
  readonly duplicates: Counter<'channel'>;
  readonly signatureFailures: Counter<'channel'>;
  readonly dedupUnavailable: Counter;
  readonly rateLimiterUnavailable: Counter;
  readonly produceSeconds: Histogram;
  readonly requestSeconds: Histogram<'channel'>;
  readonly inFlight: Gauge;
}

export function createIntakeMetrics(options: { defaultMetrics?: boolean } = {}): IntakeMetrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true)
    collectDefaultMetrics({ register: registry, prefix: 'streamdesk_intake_process_' });
  const registers = [registry];
  return {
    registry,
    requests: new Counter({
      name: 'streamdesk_intake_requests_total',
      help: 'Webhook and form requests by channel and outcome.',
      labelNames: ['channel', 'outcome'],
      registers,
    }),
    messages: new Counter({
      name: 'streamdesk_intake_messages_total',
      help: 'Messages and events published to ingestion.raw.messages, by channel and kind.',
      labelNames: ['channel', 'kind'],
      registers,
    }),
    duplicates: new Counter({
      name: 'streamdesk_intake_duplicates_total',
      help: 'Redelivered messages recognised by dedup and not published again.',
      labelNames: ['channel'],
      registers,
    }),
    signatureFailures: new Counter({
      name: 'streamdesk_intake_signature_failures_total',
      help: 'Requests refused for a missing or wrong signature, secret or basic auth.',
      labelNames: ['channel'],
      registers,
    }),
    dedupUnavailable: new Counter({
      name: 'streamdesk_intake_dedup_unavailable_total',
      help: 'Times Redis was unavailable for dedup; those messages were accepted unchecked.',
      registers,
    }),
    rateLimiterUnavailable: new Counter({
      name: 'streamdesk_intake_rate_limiter_unavailable_total',
      help: 'Times Redis was unavailable for form rate limiting; those requests were allowed.',
      registers,
    }),
    produceSeconds: new Histogram({
      name: 'streamdesk_intake_produce_duration_seconds',
      help: 'Time from handing records to the producer until the broker acknowledged them (acks=all).',
      buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    requestSeconds: new Histogram({
      name: 'streamdesk_intake_request_duration_seconds',
      help: 'Request handling time by channel.',
      labelNames: ['channel'],
      buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    inFlight: new Gauge({
      name: 'streamdesk_intake_in_flight_requests',
      help: 'Requests being handled.',
      registers,
    }),
  };
}
