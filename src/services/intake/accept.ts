/**
 * The path every channel shares once a delivery is verified and parsed: dedup each message, publish
 * the new ones in one produce call, answer only after the broker acknowledged. On any failure the
 * claims are released and the caller answers 503, so the provider's retry is published.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { RawMessage } from '../../contracts/generated/ingestion-raw-messages-value.ts';
import { StreamdeskError } from '../../errors.ts';
import type { Candidate } from './candidate.ts';
import type { Claim, Dedup } from './dedup.ts';
import type { Channel, IntakeMetrics } from './metrics.ts';
import type { RawPublisher } from './publisher.ts';

export interface AcceptDeps {
  readonly dedup: Dedup;
  readonly publisher: RawPublisher;
  readonly metrics: IntakeMetrics;
  readonly logger: Logger;
  readonly now: () => number;
  readonly publishTimeoutMs: number;
}

export interface AcceptResult {
  readonly accepted: number;
  readonly duplicates: number;
  /** Per candidate, the event id under which it was published (by this delivery or the first one). */
  readonly references: readonly string[];
}

class PublishTimeout extends Error {}

export async function acceptCandidates(
  deps: AcceptDeps,
  channel: Channel,
  candidates: readonly Candidate[],
  correlationId: string,
): Promise<AcceptResult> {
  // One delivery can repeat an id (a status reported twice in one batch): keep the first.
  const eventIds = candidates.map(() => randomUUID());
  const keys = candidates.map((c, i) => c.dedupKey ?? `none:${eventIds[i] ?? ''}`);
  const firstIndex = new Map<string, number>();
  keys.forEach((k, i) => {
    if (!firstIndex.has(k)) firstIndex.set(k, i);
  });
  const unique = [...firstIndex.keys()];
  const claims = new Map<string, Claim>();
  const claimed = await deps.dedup.claim(unique);
  unique.forEach((k, i) => claims.set(k, claimed[i] ?? { status: 'unchecked' }));

  const mine = [...claims].flatMap(([key, c]) => (c.status === 'claimed' ? [{ key, token: c.token }] : []));
  if ([...claims.values()].some((c) => c.status === 'pending')) {
    await deps.dedup.release(mine);
    throw new StreamdeskError(
      'INTAKE_UNAVAILABLE',
      'the same message is being published by another request; retry',
    );
  }
  if ([...claims.values()].some((c) => c.status === 'unchecked')) {
    deps.logger.warn({ channel, correlationId }, 'dedup unavailable (Redis): accepting without dedup');
  }

  const now = deps.now();
  const fresh: { index: number; record: RawMessage }[] = [];
  for (const [key, index] of firstIndex) {
    const claim = claims.get(key);
    const candidate = candidates[index];
    if (!candidate || !claim || (claim.status !== 'claimed' && claim.status !== 'unchecked')) continue;
    fresh.push({
      index,
      record: {
        ...candidate.record,
        event_id: eventIds[index] ?? randomUUID(),
        correlation_id: correlationId,
        received_at: now,
        dedup_key: key,
        dedup_outcome: claim.status === 'claimed' ? 'FIRST_SEEN' : 'UNCHECKED',
      },
    });
  }

  if (fresh.length > 0) {
    let messages;
    try {
      messages = await deps.publisher.encode(fresh.map((f) => f.record));
    } catch (error) {
      await deps.dedup.release(mine);
      throw error;
    }
    const started = process.hrtime.bigint();
    const sent = deps.publisher.send(messages);
    const reference = new Map(fresh.map((f) => [keys[f.index] ?? '', f.record.event_id]));
    const finished = mine.map((m) => ({ ...m, reference: reference.get(m.key) ?? '' }));
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        sent,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new PublishTimeout()), deps.publishTimeoutMs);
        }),
      ]);
    } catch (error) {
      if (error instanceof PublishTimeout) {
        // The send may still succeed: settle the claims when it does, so a retry is not published twice.
        sent.then(
          () => deps.dedup.done(finished),
          () => deps.dedup.release(mine),
        );
        throw new StreamdeskError(
          'INTAKE_UNAVAILABLE',
          `Kafka did not acknowledge within ${deps.publishTimeoutMs} ms`,
        );
      }
      await deps.dedup.release(mine);
      if (error instanceof StreamdeskError) throw error;
      throw new StreamdeskError('INTAKE_UNAVAILABLE', 'Kafka refused or could not take the records', {
        cause: error,
      });
    } finally {
      clearTimeout(timer);
    }
    deps.metrics.produceSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    await deps.dedup.done(finished);
    for (const f of fresh) deps.metrics.messages.inc({ channel, kind: f.record.kind });
  }

  const duplicates = [...claims.values()].filter((c) => c.status === 'duplicate').length;
  if (duplicates > 0) deps.metrics.duplicates.inc({ channel }, duplicates);
  const references = keys.map((key) => {
    const claim = claims.get(key);
    if (claim?.status === 'duplicate') return claim.reference;
    return fresh.find((f) => keys[f.index] === key)?.record.event_id ?? '';
  });
  return { accepted: fresh.length, duplicates, references };
}
