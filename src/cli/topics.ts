import { loadCatalog, PROFILES, withTopicPrefix, type Profile } from '../contracts/catalog.ts';
import { StreamdeskError } from '../errors.ts';
import { withAdmin } from '../kafka/admin.ts';
import {
  applyTopicPlan,
  formatTopicPlan,
  planTopics,
  refusals,
  waitForConvergence,
} from '../kafka/topics.ts';
import { usageError, type CliContext, type Command, type OptionSpec, type ParsedArgs } from './command.ts';

const options: Record<string, OptionSpec> = {
  profile: {
    type: 'string',
    description: `Catalog profile: ${PROFILES.join(' or ')} (default: STREAMDESK_PROFILE, else local).`,
  },
  json: { type: 'boolean', description: 'Print the plan as JSON.' },
};

export function profileOf(args: ParsedArgs, ctx: CliContext): Profile {
  const value = args.values['profile'] ?? ctx.config.profile;
  const found = PROFILES.find((p) => p === value);
  if (!found) throw usageError(`--profile must be ${PROFILES.join(' or ')}`);
  return found;
}

const plan: Command = {
  name: 'plan',
  summary:
    'Show the difference between schemas/catalog.yaml and the cluster (creates, partition increases, config drift).',
  usage: ['topics plan [--profile local|production] [--json]'],
  options,
  details: 'Exit code 0 when the plan can be applied (with or without changes), 1 when it contains refusals.',
  async run(args, ctx) {
    const profile = profileOf(args, ctx);
    const catalog = withTopicPrefix(loadCatalog(ctx.root), ctx.config.topicPrefix);
    const result = await withAdmin(ctx.config.kafka.brokers, (admin) => planTopics(admin, catalog, profile));
    ctx.out(args.values['json'] === true ? JSON.stringify(result, null, 2) : formatTopicPlan(result));
    return refusals(result).length > 0 ? 1 : 0;
  },
};

const apply: Command = {
  name: 'apply',
  summary:
    'Create and reconcile the catalog topics (idempotent). Never deletes topics or shrinks partitions.',
  usage: ['topics apply [--profile local|production]'],
  options: { profile: options['profile'] as OptionSpec },
  details: `
A plan with any refusal (fewer partitions than on the cluster, a different replication factor,
not enough brokers for the profile) applies nothing and exits 1 with SD_ERR_TOPICS_REFUSED.
Config drift is corrected: the topic's overrides become exactly the catalog's.`,
  async run(args, ctx) {
    await applyCatalogTopics(ctx, profileOf(args, ctx));
    return 0;
  },
};

/** `topics apply`: plan, apply, and wait until the cluster shows the catalog. */
export async function applyCatalogTopics(ctx: CliContext, profile: Profile): Promise<void> {
  const catalog = withTopicPrefix(loadCatalog(ctx.root), ctx.config.topicPrefix);
  await withAdmin(ctx.config.kafka.brokers, async (admin) => {
    const before = await planTopics(admin, catalog, profile);
    ctx.out(formatTopicPlan(before));
    if (before.actions.length === 0) return;
    await applyTopicPlan(admin, before, ctx.out);
    const after = await waitForConvergence(admin, catalog, profile);
    if (after.actions.length > 0) {
      throw new StreamdeskError(
        'KAFKA_UNAVAILABLE',
        `after apply the cluster still differs from the catalog:\n${formatTopicPlan(after)}`,
      );
    }
    ctx.out(`applied: all ${after.unchanged.length} catalog topics are as declared`);
  });
}

export const topicsCommand: Command = {
  name: 'topics',
  summary: 'Topics from the catalog (schemas/catalog.yaml): plan and apply.',
  usage: ['topics plan|apply [--profile local|production]'],
  subcommands: [plan, apply],
};
