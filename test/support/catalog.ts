import type { Catalog } from '../../src/contracts/catalog.ts';
import { uniqueName } from './env.ts';

/** The catalog with every topic renamed under a unique prefix, so a test owns its topics. */
export function isolatedCatalog(catalog: Catalog, label: string): { catalog: Catalog; prefix: string } {
  const prefix = `${uniqueName(label)}.`;
  const rename = (name: string | undefined): string | undefined =>
    name === undefined ? undefined : `${prefix}${name}`;
  return {
    prefix,
    catalog: {
      ...catalog,
      topics: catalog.topics.map((t) => ({
        ...t,
        name: `${prefix}${t.name}`,
        sourceTopic: rename(t.sourceTopic),
        coPartitionedWith: rename(t.coPartitionedWith),
      })),
    },
  };
}
