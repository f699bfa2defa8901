/**
 * `streamdesk dlt list|show|replay`: dead-letter topics for the people who look after them
 * (src/ops/dlt.ts). Prints coordinates, sizes, error codes and safe messages — never keys or values.
 */
import type { Admin, Kafka } from 'kafkajs';
import { loadCatalog, withTopicPrefix } from '../contracts/catalog.ts';
import { StreamdeskError } from '../errors.ts';
import { withAdmin } from '../kafka/admin.ts';
import { createKafka } from '../kafka/client.ts';
import {
  readDeadLetters,
  replayDeadLetters,
  replayGroupId,
  selectDeadLetters,
  summarize,
  type DeadLetter,
  type ReplaySelection,
} from '../ops/dlt.ts';
import { usageError, type CliContext, type Command, type ParsedArgs } from './command.ts';

/** The catalog's dead-letter topics (with the configured prefix), each with the topic it serves. */
function deadLetterTopics(ctx: CliContext): { name: string; source: string | undefined }[] {
  const catalog = withTopicPrefix(loadCatalog(ctx.root), ctx.config.topicPrefix);
  return catalog.topics
    .filter((t) => t.role === 'dead-letter')
    .map((t) => ({ name: t.name, source: t.sourceTopic }));
}

/**
 * A dead-letter topic from what the user typed: a catalog dead-letter topic, the product topic it
 * belongs to, or any existing topic named explicitly (consumers outside the catalog).
 */
async function resolveTopic(ctx: CliContext, admin: Admin, given: string | undefined): Promise<string> {
  if (given === undefined)
    throw usageError('name a dead-letter topic (or the topic it belongs to); see `streamdesk dlt list`');
  const known = deadLetterTopics(ctx);
  const match = known.find((t) => t.name === given) ?? known.find((t) => t.source === given);
  if (match !== undefined) return match.name;
  if ((await admin.listTopics()).includes(given)) return given;
  throw new StreamdeskError(
    'DLT_UNKNOWN_TOPIC',
    `no dead-letter topic "${given}"; the catalog's are: ${known.map((t) => t.name).join(', ')}`,
  );
}

async function withKafka<T>(ctx: CliContext, fn: (kafka: Kafka, admin: Admin) => Promise<T>): Promise<T> {
  const kafka = createKafka({ brokers: ctx.config.kafka.brokers, clientId: 'streamdesk-dlt' });
  return withAdmin(ctx.config.kafka.brokers, (admin) => fn(kafka, admin));
}

const time = (ms: number | undefined): string => (ms === undefined ? '-' : new Date(ms).toISOString());

const list: Command = {
  name: 'list',
  summary: 'Every dead-letter topic of the catalog: records, not yet replayed, by error code, failure times.',
  usage: ['dlt list [--json]'],
  options: { json: { type: 'boolean', description: 'Print JSON: one object per topic.' } },
  async run(args, ctx) {
    const summaries = await withKafka(ctx, async (kafka, admin) => {
      const existing = new Set(await admin.listTopics());
      const out = [];
      for (const t of deadLetterTopics(ctx)) {
        if (!existing.has(t.name)) continue;
        out.push({ ...summarize(t.name, await readDeadLetters(kafka, admin, t.name)), source: t.source });
      }
      return out;
    });
    if (args.values['json'] === true) {
      ctx.out(JSON.stringify(summaries, null, 2));
      return 0;
    }
    if (summaries.length === 0) {
      ctx.out('no dead-letter topics on the cluster (run `streamdesk topics apply`)');
      return 0;
    }
    const rows = summaries.map((s) => [
      s.topic,
      String(s.records),
      String(s.pending),
      Object.entries(s.byErrorCode)
        .map(([code, n]) => `${code}×${n}`)
        .join(' ') || '-',
      time(s.oldestFailure),
      time(s.newestFailure),
    ]);
    const head = ['TOPIC', 'RECORDS', 'NOT REPLAYED', 'ERRORS', 'OLDEST FAILURE', 'NEWEST FAILURE'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
    for (const r of [head, ...rows])
      ctx.out(
        r
          .map((c, i) => c.padEnd(widths[i] ?? 0))
          .join('  ')
          .trimEnd(),
      );
    return 0;
  },
};

function describeLetter(l: DeadLetter): string {
  const origin =
    l.originalTopic === undefined
      ? '(origin unknown)'
      : `${l.originalTopic}/${l.originalPartition ?? '?'}/${l.originalOffset ?? '?'}`;
  return [
    `${l.partition}/${l.offset}`,
    l.replayed ? 'replayed' : 'pending',
    origin,
    `attempts=${l.attempts ?? '?'}`,
    `failed=${time(l.failedAt)}`,
    `bytes=${l.value?.length ?? 0}`,
    l.errorCode,
    l.errorMessage,
  ].join('  ');
}

function selectionOf(args: ParsedArgs): ReplaySelection {
  const offsets = args.values['offsets'];
  const errorCode = args.values['error-code'];
  const partition = args.values['partition'];
  let range: ReplaySelection['offsets'];
  if (typeof offsets === 'string') {
    const m = /^(\d+)(?:\.\.(\d+))?$/.exec(offsets);
    if (m === null) throw usageError('--offsets must be N or N..M (offsets of the dead-letter topic)');
    const from = BigInt(m[1] ?? '0');
    const to = m[2] === undefined ? from : BigInt(m[2]);
    if (to < from) throw usageError('--offsets N..M needs N ≤ M');
    let p: number | undefined;
    if (typeof partition === 'string') {
      if (!/^\d+$/.test(partition)) throw usageError('--partition must be a partition number');
      p = Number(partition);
    }
    range = p === undefined ? { from, to } : { from, to, partition: p };
  } else if (partition !== undefined) {
    throw usageError('--partition goes with --offsets');
  }
  return {
    ...(range === undefined ? {} : { offsets: range }),
    ...(typeof errorCode === 'string' ? { errorCode } : {}),
  };
}

const selectionOptions = {
  offsets: { type: 'string', description: 'Only dead-letter offsets N or N..M (inclusive).' },
  partition: { type: 'string', description: 'Partition of --offsets (default 0).' },
  'error-code': { type: 'string', description: 'Only records that failed with this code (e.g. SD_ERR_...).' },
} as const;

const show: Command = {
  name: 'show',
  summary: 'One line per dead letter: offset, replayed or not, origin, attempts, failure time, size, error.',
  usage: ['dlt show <topic> [--offsets N..M] [--error-code CODE] [--limit N] [--json]'],
  options: {
    ...selectionOptions,
    limit: { type: 'string', description: 'At most this many, newest last (default 50).' },
    json: { type: 'boolean', description: 'Print JSON (no keys or values either).' },
  },
  details: `
<topic> is a dead-letter topic (processing.tickets.in.dlt) or the topic it belongs to
(processing.tickets.in). Keys and values are never printed: they hold customer data.`,
  async run(args, ctx) {
    const limitText = args.values['limit'];
    const limit = typeof limitText === 'string' ? Number(limitText) : 50;
    if (!Number.isInteger(limit) || limit <= 0) throw usageError('--limit must be a positive whole number');
    const selection = selectionOf(args);
    const { topic, letters } = await withKafka(ctx, async (kafka, admin) => {
      const topic = await resolveTopic(ctx, admin, args.positionals[0]);
      return { topic, letters: await readDeadLetters(kafka, admin, topic) };
    });
    const chosen = selectDeadLetters(letters, selection);
    const shown = chosen.slice(-limit);
    if (args.values['json'] === true) {
      ctx.out(
        JSON.stringify(
          shown.map(({ key: _k, value, headers: _h, offset, ...rest }) => ({
            ...rest,
            offset: offset.toString(),
            bytes: value?.length ?? 0,
          })),
          null,
          2,
        ),
      );
      return 0;
    }
    ctx.out(`${topic}: ${letters.length} record(s), showing ${shown.length}`);
    for (const l of shown) ctx.out(describeLetter(l));
    return 0;
  },
};

const replayCommand: Command = {
  name: 'replay',
  summary: 'Send dead letters back to their original topics, once the cause is fixed (exactly once).',
  usage: ['dlt replay <topic> [--offsets N..M [--partition P]] [--error-code CODE] [--dry-run]'],
  options: {
    ...selectionOptions,
    'dry-run': { type: 'boolean', description: 'Say what would be replayed; send nothing.' },
  },
  details: `
Without a selection, replays every record after the replay position (consumer group
streamdesk.dlt-replay.<dlt topic>) and moves the position, in one Kafka transaction with the sends:
a second replay sends nothing new, a crash mid-way sends nothing twice. With --offsets or
--error-code, replays just those records and leaves the position alone.
Replayed records keep their key, value and headers (failure headers removed) and gain
sd-replayed-from (<dlt topic>/<partition>/<offset>) and sd-replayed-at. Consumers process them like
new records; a record that fails again comes back to the dead-letter topic.`,
  async run(args, ctx) {
    const selection = selectionOf(args);
    const dryRun = args.values['dry-run'] === true;
    return withKafka(ctx, async (kafka, admin) => {
      const topic = await resolveTopic(ctx, admin, args.positionals[0]);
      const { records, plan, perTopic, sent } = await replayDeadLetters(kafka, admin, topic, {
        selection,
        dryRun,
      });
      const what = plan.movesPosition ? 'after the replay position' : 'selected';
      if (plan.letters.length === 0) {
        ctx.out(`${topic}: nothing to replay (${records} record(s), none ${what})`);
        return 0;
      }
      const targets = Object.entries(perTopic)
        .map(([t, n]) => `${n} → ${t}`)
        .join(', ');
      if (!sent) {
        ctx.out(
          `${topic}: would replay ${plan.letters.length} record(s) ${what}: ${targets} (dry run: nothing sent)`,
        );
        return 0;
      }
      ctx.out(`${topic}: replayed ${plan.letters.length} record(s) ${what}: ${targets}`);
      ctx.out(
        plan.movesPosition
          ? `replay position of ${replayGroupId(topic)} moved past offset ${plan.letters.at(-1)?.offset ?? '?'}`
          : 'replay position unchanged (selective replay)',
      );
      return 0;
    });
  },
};

export const dltCommand: Command = {
  name: 'dlt',
  summary: 'Dead-letter topics: list them, show what failed and why, replay once fixed.',
  usage: ['dlt list|show|replay ...'],
  subcommands: [list, show, replayCommand],
};
