/**
 * Dead-letter topics: what is in them, and putting records back where they failed.
 *
 * A consumer (src/kafka/consumer-runner.ts) moves a record it cannot process to `<topic>.dlt` with its
 * original coordinates, attempt count and a safe error in headers. Here: read those records back
 * (`readDeadLetters`), summarize them by error code, and replay them to their original topic once the
 * cause is fixed.
 *
 * Replay position: every dead-letter topic has a consumer group `streamdesk.dlt-replay.<dlt topic>`
 * whose committed offsets mark what was already replayed. A plain replay sends every record after that
 * position and moves it, in one Kafka transaction with the sends (exactly once: a crash mid-replay
 * replays nothing twice). A selective replay (`offsets`, `errorCode`) sends just those records and
 * leaves the position alone. Replayed records carry the original key, value and headers (the failure
 * headers removed) plus `sd-replayed-from` (`<dlt topic>/<partition>/<offset>`) and `sd-replayed-at`.
 *
 * Nothing here prints keys or values: they hold customer data. Only coordinates, sizes, error codes
 * and the safe error messages the consumer wrote.
 */
import type { Admin, IHeaders, Kafka, KafkaMessage, Message } from 'kafkajs';
import { StreamdeskError } from '../errors.ts';
import { transactionalProducerConfig } from '../kafka/client.ts';
import { HEADERS } from '../kafka/consumer-runner.ts';
import { readToEnd } from '../kafka/read-to-end.ts';

export const REPLAY_HEADERS = {
  from: 'sd-replayed-from',
  at: 'sd-replayed-at',
} as const;

/** Headers the consumer adds when it forwards a record; a replayed record starts clean. */
const FAILURE_HEADERS = new Set<string>([...Object.values(HEADERS), 'sd-forward-id']);

export interface DeadLetter {
  readonly partition: number;
  readonly offset: bigint;
  readonly originalTopic: string | undefined;
  readonly originalPartition: number | undefined;
  readonly originalOffset: string | undefined;
  readonly attempts: number | undefined;
  readonly errorCode: string;
  readonly errorMessage: string;
  /** When the consumer gave up on it (ms since the epoch). */
  readonly failedAt: number | undefined;
  /** Whether a plain replay already sent it (its offset is below the replay position). */
  readonly replayed: boolean;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: IHeaders;
  readonly timestamp: string;
}

export function replayGroupId(dltTopic: string): string {
  return `streamdesk.dlt-replay.${dltTopic}`;
}

function header(headers: IHeaders | undefined, name: string): string | undefined {
  const v = headers?.[name];
  const first = Array.isArray(v) ? v[0] : v;
  return first === undefined ? undefined : first.toString();
}

function numberOrUndefined(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

/** The replay position per partition (next offset to replay); 0 where nothing was replayed yet. */
async function replayPosition(admin: Admin, dltTopic: string): Promise<Map<number, bigint>> {
  const committed = await admin.fetchOffsets({ groupId: replayGroupId(dltTopic), topics: [dltTopic] });
  const position = new Map<number, bigint>();
  for (const t of committed) {
    for (const p of t.partitions) position.set(p.partition, p.offset === '-1' ? 0n : BigInt(p.offset));
  }
  return position;
}

/** Every record of a dead-letter topic (committed ones), in offset order per partition. */
export async function readDeadLetters(kafka: Kafka, admin: Admin, dltTopic: string): Promise<DeadLetter[]> {
  const topics = await admin.listTopics();
  if (!topics.includes(dltTopic)) {
    throw new StreamdeskError('DLT_UNKNOWN_TOPIC', `topic ${dltTopic} does not exist on the cluster`);
  }
  const position = await replayPosition(admin, dltTopic);
  const letters: DeadLetter[] = [];
  await readToEnd({
    kafka,
    admin,
    topics: [dltTopic],
    readCommitted: true,
    groupPrefix: 'streamdesk-dlt-read',
    onMessage(_topic, partition, m: KafkaMessage) {
      const offset = BigInt(m.offset);
      letters.push({
        partition,
        offset,
        originalTopic: header(m.headers, HEADERS.originalTopic),
        originalPartition: numberOrUndefined(header(m.headers, HEADERS.originalPartition)),
        originalOffset: header(m.headers, HEADERS.originalOffset),
        attempts: numberOrUndefined(header(m.headers, HEADERS.attempts)),
        errorCode: header(m.headers, HEADERS.errorCode) ?? 'unknown',
        errorMessage: header(m.headers, HEADERS.errorMessage) ?? '',
        failedAt: numberOrUndefined(header(m.headers, HEADERS.failedAt)),
        replayed: offset < (position.get(partition) ?? 0n),
        key: m.key,
        value: m.value,
        headers: m.headers ?? {},
        timestamp: m.timestamp,
      });
    },
  });
  letters.sort(
    (a, b) => a.partition - b.partition || (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0),
  );
  return letters;
}

export interface DeadLetterSummary {
  readonly topic: string;
  readonly records: number;
  /** Records after the replay position: what a plain replay would send. */
  readonly pending: number;
  readonly byErrorCode: Readonly<Record<string, number>>;
  readonly oldestFailure: number | undefined;
  readonly newestFailure: number | undefined;
}

export function summarize(topic: string, letters: readonly DeadLetter[]): DeadLetterSummary {
  const byErrorCode: Record<string, number> = {};
  let oldest: number | undefined;
  let newest: number | undefined;
  for (const l of letters) {
    byErrorCode[l.errorCode] = (byErrorCode[l.errorCode] ?? 0) + 1;
    if (l.failedAt !== undefined) {
      oldest = oldest === undefined ? l.failedAt : Math.min(oldest, l.failedAt);
      newest = newest === undefined ? l.failedAt : Math.max(newest, l.failedAt);
    }
  }
  return {
    topic,
    records: letters.length,
    pending: letters.filter((l) => !l.replayed).length,
    byErrorCode,
    oldestFailure: oldest,
    newestFailure: newest,
  };
}

export interface ReplaySelection {
  /** Only records with offsets in [from, to] (partition 0 unless `partition` is given). */
  readonly offsets?: { readonly from: bigint; readonly to: bigint; readonly partition?: number };
  /** Only records that failed with this error code. */
  readonly errorCode?: string;
}

export interface ReplayPlan {
  readonly letters: readonly DeadLetter[];
  /** Whether the replay moves the replay position (a plain replay: no selection). */
  readonly movesPosition: boolean;
}

export function isSelective(selection: ReplaySelection): boolean {
  return selection.offsets !== undefined || selection.errorCode !== undefined;
}

/** The records a selection names (all of them for an empty selection). */
export function selectDeadLetters(letters: readonly DeadLetter[], selection: ReplaySelection): DeadLetter[] {
  const { offsets, errorCode } = selection;
  return letters.filter((l) => {
    if (offsets !== undefined) {
      if (l.partition !== (offsets.partition ?? 0)) return false;
      if (l.offset < offsets.from || l.offset > offsets.to) return false;
    }
    return errorCode === undefined || l.errorCode === errorCode;
  });
}

/** What a replay would send: the selection, or everything after the replay position. */
export function planReplay(letters: readonly DeadLetter[], selection: ReplaySelection): ReplayPlan {
  const selective = isSelective(selection);
  const chosen = selective ? selectDeadLetters(letters, selection) : letters.filter((l) => !l.replayed);
  const orphans = chosen.filter((l) => l.originalTopic === undefined);
  if (orphans.length > 0) {
    throw new StreamdeskError(
      'DLT_REPLAY_REFUSED',
      `${orphans.length} selected record(s) have no ${HEADERS.originalTopic} header, so where they came from is unknown (offsets ${orphans
        .slice(0, 5)
        .map((l) => `${l.partition}/${l.offset}`)
        .join(', ')}${orphans.length > 5 ? ', …' : ''}); nothing was replayed`,
    );
  }
  return { letters: chosen, movesPosition: !selective };
}

function replayMessage(dltTopic: string, l: DeadLetter, now: number): Message {
  const headers: IHeaders = {};
  for (const [name, value] of Object.entries(l.headers)) {
    if (!FAILURE_HEADERS.has(name) && value !== undefined) headers[name] = value;
  }
  headers[REPLAY_HEADERS.from] = `${dltTopic}/${l.partition}/${l.offset}`;
  headers[REPLAY_HEADERS.at] = String(now);
  return { key: l.key, value: l.value, headers, timestamp: l.timestamp };
}

export interface ReplayOutcome {
  /** Records in the dead-letter topic. */
  readonly records: number;
  readonly plan: ReplayPlan;
  /** Records per original topic (sent, or that would be sent on a dry run). */
  readonly perTopic: Readonly<Record<string, number>>;
  readonly sent: boolean;
}

/**
 * Replays a dead-letter topic: the selection, or everything after the replay position (which then
 * moves in the same transaction as the sends). Replays of one dead-letter topic share a transactional
 * id, and the transaction begins — which registers the producer with the coordinator, fencing any
 * replay still running and waiting for one that is committing — before the position is read. So two
 * replays at once never both send the same records: the fenced one fails and sends nothing.
 */
export async function replayDeadLetters(
  kafka: Kafka,
  admin: Admin,
  dltTopic: string,
  options: { readonly selection: ReplaySelection; readonly dryRun: boolean; readonly now?: () => number },
): Promise<ReplayOutcome> {
  const producer = options.dryRun
    ? undefined
    : kafka.producer(transactionalProducerConfig(`streamdesk-dlt-replay.${dltTopic}`));
  try {
    await producer?.connect();
    // kafkajs registers a transactional producer id on its first transaction, not on connect.
    const tx = await producer?.transaction();
    let letters: DeadLetter[];
    try {
      letters = await readDeadLetters(kafka, admin, dltTopic);
    } catch (error) {
      await tx?.abort().catch(() => undefined);
      throw error;
    }
    const plan = planReplay(letters, options.selection);
    const now = options.now ?? Date.now;
    const perTopic = new Map<string, Message[]>();
    for (const l of plan.letters) {
      const topic = l.originalTopic as string;
      const list = perTopic.get(topic) ?? [];
      list.push(replayMessage(dltTopic, l, now()));
      perTopic.set(topic, list);
    }
    const existing = new Set(await admin.listTopics());
    const missing = [...perTopic.keys()].filter((t) => !existing.has(t));
    if (missing.length > 0) {
      await tx?.abort().catch(() => undefined);
      throw new StreamdeskError(
        'DLT_REPLAY_REFUSED',
        `the original topic(s) ${missing.join(', ')} do not exist; nothing was replayed`,
      );
    }
    const outcome = {
      records: letters.length,
      plan,
      perTopic: Object.fromEntries([...perTopic].map(([t, ms]) => [t, ms.length])),
    };
    if (tx === undefined || plan.letters.length === 0) {
      await tx?.abort();
      return { ...outcome, sent: false };
    }
    try {
      await tx.sendBatch({
        acks: -1,
        topicMessages: [...perTopic].map(([topic, messages]) => ({ topic, messages })),
      });
      if (plan.movesPosition) {
        const next = new Map<number, bigint>();
        for (const l of plan.letters) {
          const n = l.offset + 1n;
          if (n > (next.get(l.partition) ?? 0n)) next.set(l.partition, n);
        }
        await tx.sendOffsets({
          consumerGroupId: replayGroupId(dltTopic),
          topics: [
            {
              topic: dltTopic,
              partitions: [...next].map(([partition, offset]) => ({ partition, offset: offset.toString() })),
            },
          ],
        });
      }
      await tx.commit();
    } catch (error) {
      await tx.abort().catch(() => undefined);
      const type = (error as { type?: unknown }).type;
      if (type === 'INVALID_PRODUCER_EPOCH' || type === 'PRODUCER_FENCED') {
        throw new StreamdeskError(
          'DLT_REPLAY_REFUSED',
          `another replay of ${dltTopic} started meanwhile and took over; this one sent nothing (see \`streamdesk dlt list\`)`,
          { cause: error },
        );
      }
      throw new StreamdeskError(
        'KAFKA_UNAVAILABLE',
        `replay failed, nothing was replayed: ${(error as Error).message}`,
        { cause: error },
      );
    }
    return { ...outcome, sent: true };
  } finally {
    await producer?.disconnect().catch(() => undefined);
  }
}
