import { withTopicPrefix, type Catalog } from '../../src/contracts/catalog.ts';
import { uniqueName } from './env.ts';

/** The catalog with every topic renamed under a unique prefix, so a test owns its topics. */
export function isolatedCatalog(catalog: Catalog, label: string): { catalog: Catalog; prefix: string } {
  const prefix = `${uniqueName(label)}.`;
  return { prefix, catalog: withTopicPrefix(catalog, prefix) };
}
