import { loadCatalog } from '../contracts/catalog.ts';
import {
  checkSchemas,
  defaultBase,
  formatCheckReport,
  loadLocalSchemas,
  registerSchemas,
  schemasAtRef,
} from '../contracts/schemas.ts';
import { createRegistryClient } from '../registry/client.ts';
import type { Command } from './command.ts';

const check: Command = {
  name: 'check',
  summary: 'Check every schema parses and stays compatible with the registry and with a git base.',
  usage: ['schemas check [--base <git ref>] [--no-registry] [--json]'],
  options: {
    base: {
      type: 'string',
      description:
        'Git ref to compare with (default: the merge-base with main; on main, the previous commit).',
    },
    'no-registry': {
      type: 'boolean',
      description: 'Do not compare with the versions registered in the registry.',
    },
    json: { type: 'boolean', description: 'Print the report as JSON.' },
  },
  details: `
Each subject is checked under its compatibility mode from schemas/catalog.yaml (BACKWARD_TRANSITIVE
unless the topic says otherwise) against (a) the versions registered in the registry and (b) the
schemas at the git base, computed locally with Avro's reader/writer rules, so it works before anything
is registered. Each incompatibility is explained: which field, what changed, who breaks.
Exit code 1 on any problem (unparseable schema, field without doc, incompatibility).`,
  async run(args, ctx) {
    const catalog = loadCatalog(ctx.root);
    const local = loadLocalSchemas(ctx.root);
    const ref = typeof args.values['base'] === 'string' ? args.values['base'] : await defaultBase(ctx.root);
    const base = ref === undefined ? undefined : { label: ref, schemas: await schemasAtRef(ctx.root, ref) };
    const registry =
      args.values['no-registry'] === true ? undefined : createRegistryClient(ctx.config.registry.url);
    const report = await checkSchemas({ catalog, local, registry, base });
    ctx.out(args.values['json'] === true ? JSON.stringify(report, null, 2) : formatCheckReport(report));
    return report.ok ? 0 : 1;
  },
};

const register: Command = {
  name: 'register',
  summary: "Register every catalog subject and set each subject's compatibility mode from the catalog.",
  usage: ['schemas register'],
  details:
    'Idempotent: an unchanged schema keeps its id and version. A refused (incompatible) schema exits 1.',
  async run(_args, ctx) {
    const catalog = loadCatalog(ctx.root);
    const results = await registerSchemas(
      catalog,
      loadLocalSchemas(ctx.root),
      createRegistryClient(ctx.config.registry.url),
      ctx.out,
    );
    ctx.out(`registered ${results.length} subject(s) at ${ctx.config.registry.url}`);
    return 0;
  },
};

export const schemasCommand: Command = {
  name: 'schemas',
  summary: 'Avro contracts (schemas/*.avsc): check compatibility, register.',
  usage: ['schemas check|register'],
  subcommands: [check, register],
};
