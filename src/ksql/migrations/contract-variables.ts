/**
 * Variables the topology's migrations use instead of literals, so one set of files runs on a laptop
 * and in production: for every product topic of schemas/catalog.yaml, `<T>_TOPIC` (with
 * STREAMDESK_TOPIC_PREFIX), `<T>_PARTITIONS` and `<T>_REPLICAS` (for the profile) and `<T>_SCHEMA_ID`
 * (the registered id of the latest `<topic>-value` contract), where `<T>` is the topic name upper-cased
 * with dots as underscores (INGESTION_RAW_MESSAGES_TOPIC ...). `--define` overrides any of them.
 */
import type { Catalog, Profile } from '../../contracts/catalog.ts';
import { prefixed } from '../../contracts/topics.ts';
import type { RegistryClient } from '../../registry/client.ts';

export function variableBase(topic: string): string {
  return topic.replace(/[^A-Za-z0-9]/g, '_').toUpperCase();
}

export interface ContractVariables {
  readonly variables: Map<string, string>;
  /** Subjects not registered (their _SCHEMA_ID variables are missing). */
  readonly unregistered: string[];
}

export async function contractVariables(
  catalog: Catalog,
  profile: Profile,
  topicPrefix: string,
  registry: Pick<RegistryClient, 'subjectVersion'> | undefined,
): Promise<ContractVariables> {
  const variables = new Map<string, string>();
  const unregistered: string[] = [];
  const replicas = catalog.profiles[profile].replicationFactor;
  for (const topic of catalog.topics) {
    if (topic.role !== 'product') continue;
    const base = variableBase(topic.name);
    variables.set(`${base}_TOPIC`, prefixed(topicPrefix, topic.name));
    variables.set(`${base}_PARTITIONS`, String(topic.partitions));
    variables.set(`${base}_REPLICAS`, String(replicas));
    if (topic.valueSubject === undefined || registry === undefined) continue;
    const latest = await registry.subjectVersion(topic.valueSubject, 'latest');
    if (latest?.id === undefined) unregistered.push(topic.valueSubject);
    else variables.set(`${base}_SCHEMA_ID`, String(latest.id));
  }
  return { variables, unregistered };
}
