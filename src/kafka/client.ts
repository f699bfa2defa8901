/**
 * The kafkajs client factory. kafkajs's own logger prints connection errors (which may carry broker
 * addresses, never message content) to stdout in JSON; here it is quiet by default and routed to a
 * caller-supplied sink when one is given.
 */
import { Kafka, logLevel as KafkaLogLevel, type KafkaConfig, type logCreator } from 'kafkajs';

export interface KafkaClientOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  /** Connection and request timeouts; short for probes, defaults for services. */
  readonly connectionTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  readonly retries?: number;
  readonly log?: (level: 'error' | 'warn' | 'info' | 'debug', message: string, extra: object) => void;
}

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [KafkaLogLevel.ERROR]: 'error',
  [KafkaLogLevel.WARN]: 'warn',
  [KafkaLogLevel.INFO]: 'info',
  [KafkaLogLevel.DEBUG]: 'debug',
};

export function createKafka(options: KafkaClientOptions): Kafka {
  const sink = options.log;
  const creator: logCreator = () => (entry) => {
    if (!sink) return;
    const { message, ...extra } = entry.log;
    sink(LEVELS[entry.level] ?? 'info', `${entry.namespace}: ${message}`, extra);
  };
  const config: KafkaConfig = {
    clientId: options.clientId,
    brokers: [...options.brokers],
    logLevel: sink ? KafkaLogLevel.WARN : KafkaLogLevel.NOTHING,
    logCreator: creator,
    connectionTimeout: options.connectionTimeoutMs ?? 3000,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    retry: { retries: options.retries ?? 5 },
  };
  return new Kafka(config);
}
