/**
 * The local Apache Kafka broker: single-node KRaft (broker + controller) from the Maven Central jars
 * pinned in stack/kafka/pom.xml, storage under .stack/kafka/data, loopback listeners only.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { StackConfig } from '../config/index.ts';
import { StreamdeskError } from '../errors.ts';
import { createKafka } from '../kafka/client.ts';
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

const execFileAsync = promisify(execFile);

export const KAFKA_MIN_JAVA = 17;

export function kafkaVersion(root: string): string {
  return pomProperty(`${root}/stack/kafka/pom.xml`, 'kafka.version');
}

/** Render stack/kafka/server.properties with this stack's ports and data directory. */
export function renderServerProperties(template: string, values: Record<string, string | number>): string {
  return template.replace(/\$\{([A-Z_]+)\}/g, (whole, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`server.properties template uses unknown \${${key}}`);
    return String(value);
  });
}

export async function probeKafka(brokers: readonly string[]): Promise<boolean> {
  const admin = createKafka({
    brokers,
    clientId: 'streamdesk-stack-probe',
    connectionTimeoutMs: 1000,
    requestTimeoutMs: 3000,
    retries: 0,
  }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0 && cluster.controller !== null;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

export function createKafkaService(config: StackConfig, paths: StackPaths): StackService {
  const home = `${config.dir}/kafka`;
  const libs = `${home}/libs`;
  const dataDir = `${home}/data`;
  const propsFile = `${home}/server.properties`;
  const logFile = `${paths.logs}/kafka.log`;
  const marker = `-Dstreamdesk.service=kafka@${config.dir}`;
  const brokers = [`127.0.0.1:${config.kafka.port}`];
  const pom = `${paths.root}/stack/kafka/pom.xml`;
  const log4j = `${paths.root}/stack/kafka/log4j2.properties`;

  const own: OwnProcess = {
    name: 'kafka',
    pidFile: new PidFile(`${paths.run}/kafka.pid`, marker),
    logFile,
    ports: [config.kafka.port, config.kafka.controllerPort],
    readyTimeoutMs: 90_000,
    probe: () => probeKafka(brokers),
    async start(progress: Progress): Promise<number> {
      const java = await findJava(KAFKA_MIN_JAVA, `Kafka ${kafkaVersion(paths.root)}`, config.javaHome);
      mkdirSync(home, { recursive: true });
      progress(`resolving jars (Kafka ${kafkaVersion(paths.root)}) with Maven`);
      const ran = await resolveWithMaven({ pom, goal: 'copy-dependencies', outputDir: libs });
      if (!ran) progress('jars already resolved');
      writeFileSync(
        propsFile,
        renderServerProperties(readFileSync(`${paths.root}/stack/kafka/server.properties`, 'utf8'), {
          KAFKA_PORT: config.kafka.port,
          CONTROLLER_PORT: config.kafka.controllerPort,
          DATA_DIR: dataDir,
        }),
      );
      const classpath = `${libs}/*`;
      const common = ['-Djava.awt.headless=true', `-Dlog4j2.configurationFile=${log4j}`, '-cp', classpath];
      if (!existsSync(`${dataDir}/meta.properties`)) {
        const idFile = `${home}/cluster.id`;
        if (!existsSync(idFile)) writeFileSync(idFile, `${randomBytes(16).toString('base64url')}\n`);
        const clusterId = readFileSync(idFile, 'utf8').trim();
        progress('formatting KRaft storage');
        try {
          await execFileAsync(
            java.path,
            ['-Xmx256m', ...common, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', propsFile],
            { timeout: 120_000 },
          );
        } catch (error) {
          const output = (error as { stdout?: string; stderr?: string }).stderr ?? '';
          throw new StreamdeskError(
            'STACK_SERVICE_DIED',
            `kafka: formatting storage in ${dataDir} failed:\n${output.split('\n').slice(-10).join('\n')}`,
            { cause: error },
          );
        }
      }
      return startDetached({
        command: java.path,
        args: [
          marker,
          '-Xms256m',
          `-Xmx${config.kafka.heap}`,
          '-XX:+UseG1GC',
          '-XX:MaxGCPauseMillis=20',
          '-XX:InitiatingHeapOccupancyPercent=35',
          '-XX:+ExplicitGCInvokesConcurrent',
          ...common,
          'kafka.Kafka',
          propsFile,
        ],
        cwd: home,
        logFile,
      });
    },
  };

  return processService({
    own,
    address: brokers[0] ?? '',
    // A controlled shutdown of a single KRaft node takes a few seconds.
    stopGraceMs: 30_000,
    version: () => Promise.resolve(kafkaVersion(paths.root)),
  });
}
