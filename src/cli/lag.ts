/**
 * `streamdesk lag`: how far each consumer group is behind (src/ops/lag.ts), with an optional threshold
 * for scripts and health checks.
 */
import { withAdmin } from '../kafka/admin.ts';
import { consumerLag, type GroupLag } from '../ops/lag.ts';
import { usageError, type Command } from './command.ts';

function render(groups: readonly GroupLag[], verbose: boolean): string[] {
  const rows: string[][] = [];
  for (const g of groups) {
    if (g.topics.length === 0) {
      rows.push([g.groupId, g.state, String(g.members), '-', '-', '0']);
      continue;
    }
    for (const t of g.topics) {
      rows.push([
        g.groupId,
        g.state,
        String(g.members),
        t.topic,
        String(t.partitions.length),
        t.lag.toString(),
      ]);
      if (verbose) {
        for (const p of t.partitions) {
          rows.push([
            '',
            '',
            '',
            `  partition ${p.partition}`,
            `${p.committed ?? '-'}/${p.end}`,
            p.lag.toString(),
          ]);
        }
      }
    }
  }
  const head = ['GROUP', 'STATE', 'MEMBERS', 'TOPIC', verbose ? 'PARTITIONS | AT/END' : 'PARTITIONS', 'LAG'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [head, ...rows].map((r) =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd(),
  );
}

export const lagCommand: Command = {
  name: 'lag',
  summary: 'Consumer lag per group and topic: tickets, ksql queries, dead-letter replay positions.',
  usage: ['lag [--group <text>] [--max-lag <n>] [--all] [--verbose] [--json]'],
  options: {
    group: { type: 'string', description: 'Only groups whose id contains this text.' },
    'max-lag': {
      type: 'string',
      description: 'Exit 1 when any group is more than this many offsets behind (for scripts and checks).',
    },
    all: {
      type: 'boolean',
      description: 'Also groups with no offsets on any existing topic (e.g. their topics were deleted).',
    },
    verbose: {
      type: 'boolean',
      short: 'v',
      description: 'One line per partition: committed offset, end, lag.',
    },
    json: { type: 'boolean', description: 'Print JSON (offsets as strings).' },
  },
  details: `
Lag = end offset − committed offset, summed over partitions (a partition the group never committed on
counts all of its records). Transactional topics spend an offset on each commit marker, so a group that
read everything there can show a lag of a few offsets, as kafka-consumer-groups.sh does.
A dead-letter replay group (streamdesk.dlt-replay.<topic>.dlt) lags by the dead letters not replayed.`,
  async run(args, ctx) {
    const maxText = args.values['max-lag'];
    let max: bigint | undefined;
    if (typeof maxText === 'string') {
      if (!/^\d+$/.test(maxText)) throw usageError('--max-lag must be a whole number of offsets');
      max = BigInt(maxText);
    }
    const text = args.values['group'];
    const groups = await withAdmin(ctx.config.kafka.brokers, (admin) =>
      consumerLag(admin, {
        ...(typeof text === 'string' ? { filter: (id: string) => id.includes(text) } : {}),
        all: args.values['all'] === true,
      }),
    );
    if (args.values['json'] === true) {
      ctx.out(JSON.stringify(groups, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2));
    } else if (groups.length === 0) {
      const none = typeof text === 'string' ? `no consumer group matches "${text}"` : 'no consumer groups';
      ctx.out(
        args.values['all'] === true
          ? none
          : `${none} with offsets on an existing topic (--all shows the others)`,
      );
    } else {
      for (const line of render(groups, args.values['verbose'] === true)) ctx.out(line);
    }
    if (max === undefined) return 0;
    const over = groups.filter((g) => g.lag > max);
    if (over.length === 0) return 0;
    ctx.err(`lag above ${max}: ${over.map((g) => `${g.groupId} (${g.lag})`).join(', ')}`);
    return 1;
  },
};
