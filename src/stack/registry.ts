/**
 * The local Schema Registry: Apicurio Registry 3.x from its Maven Central bundle, clients use its
 * Confluent-compatible API (/apis/ccompat/v7). Schemas are stored in PostgreSQL, so their ids (baked
 * into every record) survive a registry restart. The global compatibility rule is BACKWARD, as on
 * Confluent Schema Registry; Apicurio has no rule by default.
 */
import { mkdirSync } from 'node:fs';
import type { StackConfig } from '../config/index.ts';
import { findJava } from './java.ts';
import { pomProperty, resolveWithMaven } from './maven.ts';
import { PidFile, startDetached } from './process.ts';
import {
  processService,
  type OwnProcess,
  type Progress,
  type StackPaths,
  type StackService,
} from './service.ts';

export const GLOBAL_COMPATIBILITY = 'BACKWARD';

async function fetchJson(url: string, init: RequestInit = {}): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(3000) });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, body };
}

export async function probeRegistry(baseUrl: string): Promise<boolean> {
  try {
    return (await fetchJson(`${baseUrl}/apis/ccompat/v7/subjects`)).status === 200;
  } catch {
    return false;
  }
}

export function createRegistryService(config: StackConfig, paths: StackPaths): StackService {
  const pom = `${paths.root}/stack/apicurio/pom.xml`;
  const pinned = pomProperty(pom, 'apicurio.version');
  const minJava = Number(pomProperty(pom, 'apicurio.java'));
  const home = `${config.dir}/apicurio`;
  const dist = `${home}/dist`;
  const logFile = `${paths.logs}/registry.log`;
  const baseUrl = `http://127.0.0.1:${config.registry.port}`;
  const marker = `-Dstreamdesk.service=registry@${config.dir}`;

  const own: OwnProcess = {
    name: 'registry',
    pidFile: new PidFile(`${paths.run}/registry.pid`, marker),
    logFile,
    ports: [config.registry.port, config.registry.managementPort],
    readyTimeoutMs: 120_000,
    probe: () => probeRegistry(baseUrl),
    async start(progress: Progress): Promise<number> {
      const java = await findJava(minJava, `Apicurio Registry ${pinned}`, config.javaHome);
      mkdirSync(home, { recursive: true });
      progress(`resolving the Apicurio Registry ${pinned} bundle with Maven`);
      const ran = await resolveWithMaven({ pom, goal: 'unpack-dependencies', outputDir: dist });
      if (!ran) progress('bundle already resolved');
      const jdbc = `jdbc:postgresql://127.0.0.1:${config.postgres.port}/${config.registry.database}`;
      return startDetached({
        command: java.path,
        args: [
          marker,
          `-Xmx${config.registry.heap}`,
          // Quarkus binds 0.0.0.0 in prod mode unless told otherwise; both listeners stay on loopback.
          '-Dquarkus.http.host=127.0.0.1',
          `-Dquarkus.http.port=${config.registry.port}`,
          '-Dquarkus.management.host=127.0.0.1',
          `-Dquarkus.management.port=${config.registry.managementPort}`,
          `-Dapicurio.rules.global.compatibility=${GLOBAL_COMPATIBILITY}`,
          '-Dapicurio.storage.kind=sql',
          '-Dapicurio.storage.sql.kind=postgresql',
          `-Dapicurio.datasource.url=${jdbc}`,
          `-Dapicurio.datasource.username=${config.postgres.user}`,
          '-Dapicurio.datasource.password=',
          '-jar',
          `${dist}/quarkus-run.jar`,
        ],
        cwd: home,
        logFile,
      });
    },
  };

  return processService({
    own,
    address: `${baseUrl}/apis/ccompat/v7`,
    stopGraceMs: 20_000,
    async version() {
      try {
        const { body } = await fetchJson(`${baseUrl}/apis/registry/v3/system/info`);
        const v = (body as { version?: unknown }).version;
        return typeof v === 'string' ? v : pinned;
      } catch {
        return pinned;
      }
    },
    async afterUp(progress) {
      const { body } = await fetchJson(`${baseUrl}/apis/ccompat/v7/config`);
      if ((body as { compatibilityLevel?: unknown }).compatibilityLevel !== GLOBAL_COMPATIBILITY) {
        const put = await fetchJson(`${baseUrl}/apis/ccompat/v7/config`, {
          method: 'PUT',
          headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
          body: JSON.stringify({ compatibility: GLOBAL_COMPATIBILITY }),
        });
        if (put.status !== 200)
          throw new Error(`registry: setting global compatibility failed (${put.status})`);
        progress(`global compatibility set to ${GLOBAL_COMPATIBILITY}`);
      }
    },
  });
}
