/**
 * Configuration is read once (CONVENTIONS item 9): environment → typed values with defaults → a frozen
 * object. Unknown `STREAMDESK_*` keys are rejected, so a typo cannot silently fall back to a default.
 * Each module receives only its slice (`config.stack`, `config.kafka`, ...).
 *
 * This module reads no environment itself: `loadConfig(env)` is given one, which keeps it pure and
 * testable. The CLI passes `process.env` (after loading `.env` when present).
 */
import { StreamdeskError } from '../errors.ts';

type Parser<T> = (raw: string, key: string) => T;

interface KeySpec<T> {
  readonly parse: Parser<T>;
  readonly default: T | ((env: Partial<ParsedBase>) => T);
  readonly description: string;
}

const port: Parser<number> = (raw, key) => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    throw new StreamdeskError('CONFIG_INVALID', `${key} must be a TCP port (1-65535), got "${raw}"`);
  }
  return n;
};

const text: Parser<string> = (raw, key) => {
  if (raw.trim() === '') throw new StreamdeskError('CONFIG_INVALID', `${key} must not be empty`);
  return raw.trim();
};

const heap: Parser<string> = (raw, key) => {
  if (!/^\d+[mMgG]$/.test(raw)) {
    throw new StreamdeskError(
      'CONFIG_INVALID',
      `${key} must be a JVM heap size such as 512m or 1g, got "${raw}"`,
    );
  }
  return raw;
};

const logLevel: Parser<LogLevel> = (raw, key) => {
  const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
  const found = levels.find((l) => l === raw.toLowerCase());
  if (!found) throw new StreamdeskError('CONFIG_INVALID', `${key} must be one of ${levels.join(', ')}`);
  return found;
};

const profile: Parser<'local' | 'production'> = (raw, key) => {
  if (raw !== 'local' && raw !== 'production') {
    throw new StreamdeskError('CONFIG_INVALID', `${key} must be local or production, got "${raw}"`);
  }
  return raw;
};

const optional: Parser<string> = (raw) => raw.trim();

const positiveInt: Parser<number> = (raw, key) => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new StreamdeskError('CONFIG_INVALID', `${key} must be a positive integer, got "${raw}"`);
  return n;
};

const bool: Parser<boolean> = (raw, key) => {
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new StreamdeskError('CONFIG_INVALID', `${key} must be true or false, got "${raw}"`);
};

const userPass: Parser<string> = (raw, key) => {
  if (!/^[^:]+:.+$/.test(raw))
    throw new StreamdeskError('CONFIG_INVALID', `${key} must look like user:password`);
  return raw;
};

const durationSeconds: Parser<number> = (raw, key) => {
  const match = /^(\d+)(s|m|h|d)$/.exec(raw);
  if (!match?.[1] || !match[2])
    throw new StreamdeskError('CONFIG_INVALID', `${key} must be a duration like 90s, 30m, 12h or 7d`);
  return Number(match[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[match[2] as 's' | 'm' | 'h' | 'd'];
};

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

interface ParsedBase {
  STREAMDESK_STACK_DIR: string;
  STREAMDESK_JAVA_HOME: string;
  STREAMDESK_KAFKA_PORT: number;
  STREAMDESK_KAFKA_CONTROLLER_PORT: number;
  STREAMDESK_KAFKA_HEAP: string;
  STREAMDESK_REGISTRY_PORT: number;
  STREAMDESK_REGISTRY_MANAGEMENT_PORT: number;
  STREAMDESK_REGISTRY_HEAP: string;
  STREAMDESK_REGISTRY_DATABASE: string;
  STREAMDESK_REDIS_PORT: number;
  STREAMDESK_POSTGRES_PORT: number;
  STREAMDESK_POSTGRES_USER: string;
  STREAMDESK_POSTGRES_DATABASE: string;
  STREAMDESK_KAFKA_BROKERS: string;
  STREAMDESK_REGISTRY_URL: string;
  STREAMDESK_REDIS_URL: string;
  STREAMDESK_DATABASE_URL: string;
  STREAMDESK_LOG_LEVEL: LogLevel;
  STREAMDESK_PROFILE: 'local' | 'production';
  STREAMDESK_INTAKE_HOST: string;
  STREAMDESK_INTAKE_PORT: number;
  STREAMDESK_INTAKE_MAX_BODY_BYTES: number;
  STREAMDESK_INTAKE_MAX_EMAIL_BYTES: number;
  STREAMDESK_INTAKE_MAX_RECORD_BYTES: number;
  STREAMDESK_INTAKE_DEDUP_TTL: number;
  STREAMDESK_INTAKE_PUBLISH_TIMEOUT_MS: number;
  STREAMDESK_INTAKE_TRUST_PROXY: boolean;
  STREAMDESK_INTAKE_FORMS_FILE: string;
  STREAMDESK_WHATSAPP_APP_SECRET: string;
  STREAMDESK_WHATSAPP_VERIFY_TOKEN: string;
  STREAMDESK_POSTMARK_BASIC_AUTH: string;
  STREAMDESK_MAILGUN_SIGNING_KEY: string;
  STREAMDESK_MAILGUN_MAX_AGE: number;
  STREAMDESK_SENDGRID_PATH_SECRET: string;
  STREAMDESK_SENDGRID_BASIC_AUTH: string;
  STREAMDESK_TOPIC_PREFIX: string;
  STREAMDESK_TICKETS_HOST: string;
  STREAMDESK_TICKETS_PORT: number;
  STREAMDESK_TICKETS_GROUP: string;
  STREAMDESK_TICKETS_CONCURRENCY: number;
  STREAMDESK_TICKETS_WHATSAPP_WINDOW: number;
  STREAMDESK_TICKETS_SLA: string;
  STREAMDESK_TICKETS_SLA_CHECK_INTERVAL: number;
  STREAMDESK_TICKETS_RETRY_DELAYS: string;
  STREAMDESK_TICKETS_MAX_ATTEMPTS: number;
  STREAMDESK_KSQL_HOST: string;
  STREAMDESK_KSQL_PORT: number;
  STREAMDESK_KSQL_SERVICE_ID: string;
  STREAMDESK_KSQL_REPLICAS: number;
  STREAMDESK_KSQL_URL: string;
}

/**
 * Every key streamdesk reads. Client addresses default to the local stack's ports, so a single
 * `STREAMDESK_KAFKA_PORT=19092` moves both the broker and its clients.
 */
export const CONFIG_KEYS: { readonly [K in keyof ParsedBase]: KeySpec<ParsedBase[K]> } = {
  STREAMDESK_STACK_DIR: {
    parse: text,
    default: '.stack',
    description: 'Directory (relative to the project root or absolute) for local stack data, pids and logs.',
  },
  STREAMDESK_JAVA_HOME: {
    parse: text,
    default: '',
    description: 'JDK to prefer for the local stack (else JAVA_HOME, java on PATH, /usr/lib/jvm/*).',
  },
  STREAMDESK_KAFKA_PORT: { parse: port, default: 9092, description: 'Local Kafka broker listener port.' },
  STREAMDESK_KAFKA_CONTROLLER_PORT: {
    parse: port,
    default: 9093,
    description: 'Local KRaft controller listener port.',
  },
  STREAMDESK_KAFKA_HEAP: { parse: heap, default: '1g', description: 'Maximum JVM heap of the local broker.' },
  STREAMDESK_REGISTRY_PORT: {
    parse: port,
    default: 8081,
    description: 'Local Schema Registry (Apicurio) HTTP port.',
  },
  STREAMDESK_REGISTRY_MANAGEMENT_PORT: {
    parse: port,
    default: 8091,
    description: "Local Apicurio management (health/metrics) port, Quarkus's 9000 moved out of the way.",
  },
  STREAMDESK_REGISTRY_HEAP: {
    parse: heap,
    default: '512m',
    description: 'Maximum JVM heap of the local registry.',
  },
  STREAMDESK_REGISTRY_DATABASE: {
    parse: text,
    default: 'streamdesk_registry',
    description: 'PostgreSQL database in which the local registry stores schemas (survives restarts).',
  },
  STREAMDESK_REDIS_PORT: {
    parse: port,
    default: 6379,
    description: 'Redis port (used if running, else started).',
  },
  STREAMDESK_POSTGRES_PORT: {
    parse: port,
    default: 5432,
    description: 'PostgreSQL port (used if running, else started).',
  },
  STREAMDESK_POSTGRES_USER: {
    parse: text,
    default: 'postgres',
    description: 'PostgreSQL user (trust auth locally).',
  },
  STREAMDESK_POSTGRES_DATABASE: {
    parse: text,
    default: 'streamdesk',
    description: 'PostgreSQL database of the streamdesk services; created by `stack up` if missing.',
  },
  STREAMDESK_KAFKA_BROKERS: {
    parse: text,
    default: (e) => `127.0.0.1:${e.STREAMDESK_KAFKA_PORT}`,
    description: 'Comma-separated Kafka bootstrap servers for clients (default: the local broker).',
  },
  STREAMDESK_REGISTRY_URL: {
    parse: text,
    default: (e) => `http://127.0.0.1:${e.STREAMDESK_REGISTRY_PORT}/apis/ccompat/v7`,
    description: 'Confluent-compatible Schema Registry base URL for clients (default: the local registry).',
  },
  STREAMDESK_REDIS_URL: {
    parse: text,
    default: (e) => `redis://127.0.0.1:${e.STREAMDESK_REDIS_PORT}`,
    description: 'Redis URL for clients (default: the local Redis).',
  },
  STREAMDESK_DATABASE_URL: {
    parse: text,
    default: (e) =>
      `postgres://${e.STREAMDESK_POSTGRES_USER}@127.0.0.1:${e.STREAMDESK_POSTGRES_PORT}/${e.STREAMDESK_POSTGRES_DATABASE}`,
    description: 'PostgreSQL URL for the services (default: the local database).',
  },
  STREAMDESK_LOG_LEVEL: {
    parse: logLevel,
    default: 'info',
    description: 'Log level: fatal, error, warn, info, debug, trace or silent.',
  },
  STREAMDESK_PROFILE: {
    parse: profile,
    default: 'local',
    description: 'Topic catalog profile (replication, min.insync.replicas): local or production.',
  },
  STREAMDESK_INTAKE_HOST: {
    parse: text,
    default: '127.0.0.1',
    description: 'Address the intake listens on (loopback by default; 0.0.0.0 only inside a container).',
  },
  STREAMDESK_INTAKE_PORT: { parse: port, default: 8080, description: 'Intake HTTP port.' },
  STREAMDESK_INTAKE_MAX_BODY_BYTES: {
    parse: positiveInt,
    default: 1_048_576,
    description: 'Largest WhatsApp or form request body accepted (bytes).',
  },
  STREAMDESK_INTAKE_MAX_EMAIL_BYTES: {
    parse: positiveInt,
    default: 31_457_280,
    description: 'Largest inbound email request accepted, attachments included (bytes).',
  },
  STREAMDESK_INTAKE_MAX_RECORD_BYTES: {
    parse: positiveInt,
    default: 921_600,
    description: "Largest encoded raw-message record (bytes); must stay under the topic's max.message.bytes.",
  },
  STREAMDESK_INTAKE_DEDUP_TTL: {
    parse: durationSeconds,
    default: 8 * 86400,
    description: 'How long a delivered message id is remembered for dedup (providers retry up to 7 days).',
  },
  STREAMDESK_INTAKE_PUBLISH_TIMEOUT_MS: {
    parse: positiveInt,
    default: 5000,
    description: 'How long a request waits for the Kafka acknowledgement before answering 503.',
  },
  STREAMDESK_INTAKE_TRUST_PROXY: {
    parse: bool,
    default: false,
    description: 'Take the client IP (form rate limits) from X-Forwarded-For: only behind a trusted proxy.',
  },
  STREAMDESK_INTAKE_FORMS_FILE: {
    parse: text,
    default: 'config/forms.yaml',
    description: 'Web form definitions: allowed origins, required fields, honeypot, rate limit.',
  },
  STREAMDESK_WHATSAPP_APP_SECRET: {
    parse: optional,
    default: '',
    description: 'Meta app secret for X-Hub-Signature-256; empty disables the WhatsApp endpoint.',
  },
  STREAMDESK_WHATSAPP_VERIFY_TOKEN: {
    parse: optional,
    default: '',
    description: 'Token Meta sends in the webhook verification handshake (hub.verify_token).',
  },
  STREAMDESK_POSTMARK_BASIC_AUTH: {
    parse: (raw, key) => (raw.trim() === '' ? '' : userPass(raw, key)),
    default: '',
    description: 'user:password Postmark sends as basic auth; empty disables the Postmark endpoint.',
  },
  STREAMDESK_MAILGUN_SIGNING_KEY: {
    parse: optional,
    default: '',
    description: 'Mailgun HTTP webhook signing key; empty disables the Mailgun endpoint.',
  },
  STREAMDESK_MAILGUN_MAX_AGE: {
    parse: durationSeconds,
    default: 300,
    description: 'Oldest Mailgun signature timestamp accepted (replay window).',
  },
  STREAMDESK_SENDGRID_PATH_SECRET: {
    parse: optional,
    default: '',
    description: 'Secret path segment of the SendGrid Inbound Parse URL (/webhooks/email/sendgrid/<secret>).',
  },
  STREAMDESK_SENDGRID_BASIC_AUTH: {
    parse: (raw, key) => (raw.trim() === '' ? '' : userPass(raw, key)),
    default: '',
    description: 'user:password for SendGrid Inbound Parse basic auth (alternative to the path secret).',
  },
  STREAMDESK_TOPIC_PREFIX: {
    parse: optional,
    default: '',
    description:
      'Prefix for every topic name (isolated environments, tests); subjects keep their catalog names.',
  },
  STREAMDESK_TICKETS_HOST: {
    parse: text,
    default: '127.0.0.1',
    description: 'Address the tickets API listens on.',
  },
  STREAMDESK_TICKETS_PORT: { parse: port, default: 8082, description: 'Tickets API HTTP port.' },
  STREAMDESK_TICKETS_GROUP: {
    parse: text,
    default: 'streamdesk-tickets',
    description: 'Consumer group of the tickets service (instances sharing it split the partitions).',
  },
  STREAMDESK_TICKETS_CONCURRENCY: {
    parse: positiveInt,
    default: 3,
    description: 'Partitions processed concurrently per instance (order is kept within a partition).',
  },
  STREAMDESK_TICKETS_WHATSAPP_WINDOW: {
    parse: durationSeconds,
    default: 24 * 3600,
    description:
      "A WhatsApp message joins the contact's ticket if that ticket saw a message within this window.",
  },
  STREAMDESK_TICKETS_SLA: {
    parse: optional,
    default: '',
    description:
      'SLA target overrides: URGENT=15m/4h,HIGH=1h/8h,NORMAL=4h/1d,LOW=8h/3d (first response/resolution).',
  },
  STREAMDESK_TICKETS_SLA_CHECK_INTERVAL: {
    parse: durationSeconds,
    default: 30,
    description: 'How often SLA timers are checked for breaches.',
  },
  STREAMDESK_TICKETS_RETRY_DELAYS: {
    parse: text,
    default: '5s,30s,2m,10m',
    description:
      'Delays of successive retries of a failed record (via the .retry topic) before the dead-letter topic.',
  },
  STREAMDESK_TICKETS_MAX_ATTEMPTS: {
    parse: positiveInt,
    default: 5,
    description: 'Attempts (first try included) before a retriable failure goes to the dead-letter topic.',
  },
  STREAMDESK_KSQL_HOST: {
    parse: text,
    default: '127.0.0.1',
    description: 'Address the local ksql engine listens on.',
  },
  STREAMDESK_KSQL_PORT: {
    parse: port,
    default: 8088,
    description: "Local ksql engine port (ksqlDB's default).",
  },
  STREAMDESK_KSQL_SERVICE_ID: {
    parse: text,
    default: 'streamdesk_',
    description: 'ksql.service.id: prefixes the command topic, processing log and query consumer groups.',
  },
  STREAMDESK_KSQL_REPLICAS: {
    parse: positiveInt,
    default: 1,
    description: 'Replication of the command topic and of topics the engine creates without REPLICAS.',
  },
  STREAMDESK_KSQL_URL: {
    parse: text,
    default: (e) => `http://127.0.0.1:${e.STREAMDESK_KSQL_PORT}`,
    description: 'ksqlDB REST endpoint the migrator talks to (the local engine, or a real ksqlDB).',
  },
};

export interface StackConfig {
  readonly dir: string;
  readonly javaHome: string | undefined;
  readonly kafka: { readonly port: number; readonly controllerPort: number; readonly heap: string };
  readonly registry: {
    readonly port: number;
    readonly managementPort: number;
    readonly heap: string;
    readonly database: string;
  };
  readonly redis: { readonly port: number };
  readonly postgres: { readonly port: number; readonly user: string; readonly database: string };
}

export interface Config {
  readonly stack: StackConfig;
  readonly kafka: { readonly brokers: readonly string[] };
  readonly registry: { readonly url: string };
  readonly redis: { readonly url: string };
  readonly database: { readonly url: string };
  readonly logLevel: LogLevel;
  readonly profile: 'local' | 'production';
  readonly intake: IntakeConfig;
  readonly topicPrefix: string;
  readonly tickets: TicketsConfig;
  readonly ksql: {
    readonly host: string;
    readonly port: number;
    readonly serviceId: string;
    readonly replicas: number;
    readonly url: string;
  };
}

export interface TicketsConfig {
  readonly host: string;
  readonly port: number;
  readonly groupId: string;
  readonly concurrency: number;
  readonly whatsappWindowMs: number;
  /** Raw override spec; parsed by the SLA module. */
  readonly sla: string;
  readonly slaCheckIntervalMs: number;
  readonly retryDelaysMs: readonly number[];
  readonly maxAttempts: number;
}

export interface IntakeConfig {
  readonly host: string;
  readonly port: number;
  readonly maxBodyBytes: number;
  readonly maxEmailBytes: number;
  readonly maxRecordBytes: number;
  readonly dedupTtlSeconds: number;
  readonly publishTimeoutMs: number;
  readonly trustProxy: boolean;
  readonly formsFile: string;
  /** Undefined: the channel's endpoint is not served. */
  readonly whatsapp: { readonly appSecret: string; readonly verifyToken: string } | undefined;
  readonly postmark: { readonly basicAuth: string } | undefined;
  readonly mailgun: { readonly signingKey: string; readonly maxAgeSeconds: number } | undefined;
  readonly sendgrid:
    { readonly pathSecret: string | undefined; readonly basicAuth: string | undefined } | undefined;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** Parse and validate `env` into a frozen Config. Throws SD_ERR_CONFIG_INVALID naming the key. */
export function loadConfig(env: Readonly<Record<string, string | undefined>>, rootDir: string): Config {
  const known = new Set(Object.keys(CONFIG_KEYS));
  const unknown = Object.keys(env).filter((k) => k.startsWith('STREAMDESK_') && !known.has(k));
  if (unknown.length > 0) {
    throw new StreamdeskError(
      'CONFIG_INVALID',
      `unknown configuration key(s): ${unknown.join(', ')} (see .env.example for the keys streamdesk reads)`,
    );
  }
  const parsed: Partial<Record<keyof ParsedBase, unknown>> = {};
  // Keys are declared so that derived defaults come after what they derive from.
  for (const [key, spec] of Object.entries(CONFIG_KEYS) as [keyof ParsedBase, KeySpec<unknown>][]) {
    const raw = env[key];
    if (raw !== undefined && raw !== '') {
      parsed[key] = spec.parse(raw, key);
    } else {
      parsed[key] =
        typeof spec.default === 'function'
          ? (spec.default as (e: Partial<ParsedBase>) => unknown)(parsed as Partial<ParsedBase>)
          : spec.default;
    }
  }
  const p = parsed as ParsedBase;
  const stackDir = p.STREAMDESK_STACK_DIR.startsWith('/')
    ? p.STREAMDESK_STACK_DIR
    : `${rootDir}/${p.STREAMDESK_STACK_DIR}`;
  return deepFreeze({
    stack: {
      dir: stackDir,
      javaHome: p.STREAMDESK_JAVA_HOME === '' ? undefined : p.STREAMDESK_JAVA_HOME,
      kafka: {
        port: p.STREAMDESK_KAFKA_PORT,
        controllerPort: p.STREAMDESK_KAFKA_CONTROLLER_PORT,
        heap: p.STREAMDESK_KAFKA_HEAP,
      },
      registry: {
        port: p.STREAMDESK_REGISTRY_PORT,
        managementPort: p.STREAMDESK_REGISTRY_MANAGEMENT_PORT,
        heap: p.STREAMDESK_REGISTRY_HEAP,
        database: p.STREAMDESK_REGISTRY_DATABASE,
      },
      redis: { port: p.STREAMDESK_REDIS_PORT },
      postgres: {
        port: p.STREAMDESK_POSTGRES_PORT,
        user: p.STREAMDESK_POSTGRES_USER,
        database: p.STREAMDESK_POSTGRES_DATABASE,
      },
    },
    kafka: {
      brokers: p.STREAMDESK_KAFKA_BROKERS.split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    },
    registry: { url: p.STREAMDESK_REGISTRY_URL.replace(/\/+$/, '') },
    redis: { url: p.STREAMDESK_REDIS_URL },
    database: { url: p.STREAMDESK_DATABASE_URL },
    logLevel: p.STREAMDESK_LOG_LEVEL,
    profile: p.STREAMDESK_PROFILE,
    topicPrefix: p.STREAMDESK_TOPIC_PREFIX,
    ksql: {
      host: p.STREAMDESK_KSQL_HOST,
      port: p.STREAMDESK_KSQL_PORT,
      serviceId: p.STREAMDESK_KSQL_SERVICE_ID,
      replicas: p.STREAMDESK_KSQL_REPLICAS,
      url: p.STREAMDESK_KSQL_URL.replace(/\/+$/, ''),
    },
    tickets: {
      host: p.STREAMDESK_TICKETS_HOST,
      port: p.STREAMDESK_TICKETS_PORT,
      groupId: p.STREAMDESK_TICKETS_GROUP,
      concurrency: p.STREAMDESK_TICKETS_CONCURRENCY,
      whatsappWindowMs: p.STREAMDESK_TICKETS_WHATSAPP_WINDOW * 1000,
      sla: p.STREAMDESK_TICKETS_SLA,
      slaCheckIntervalMs: p.STREAMDESK_TICKETS_SLA_CHECK_INTERVAL * 1000,
      retryDelaysMs: p.STREAMDESK_TICKETS_RETRY_DELAYS.split(',').map(
        (d) => durationSeconds(d.trim(), 'STREAMDESK_TICKETS_RETRY_DELAYS') * 1000,
      ),
      maxAttempts: p.STREAMDESK_TICKETS_MAX_ATTEMPTS,
    },
    intake: {
      host: p.STREAMDESK_INTAKE_HOST,
      port: p.STREAMDESK_INTAKE_PORT,
      maxBodyBytes: p.STREAMDESK_INTAKE_MAX_BODY_BYTES,
      maxEmailBytes: p.STREAMDESK_INTAKE_MAX_EMAIL_BYTES,
      maxRecordBytes: p.STREAMDESK_INTAKE_MAX_RECORD_BYTES,
      dedupTtlSeconds: p.STREAMDESK_INTAKE_DEDUP_TTL,
      publishTimeoutMs: p.STREAMDESK_INTAKE_PUBLISH_TIMEOUT_MS,
      trustProxy: p.STREAMDESK_INTAKE_TRUST_PROXY,
      formsFile: p.STREAMDESK_INTAKE_FORMS_FILE.startsWith('/')
        ? p.STREAMDESK_INTAKE_FORMS_FILE
        : `${rootDir}/${p.STREAMDESK_INTAKE_FORMS_FILE}`,
      whatsapp:
        p.STREAMDESK_WHATSAPP_APP_SECRET === ''
          ? undefined
          : { appSecret: p.STREAMDESK_WHATSAPP_APP_SECRET, verifyToken: p.STREAMDESK_WHATSAPP_VERIFY_TOKEN },
      postmark:
        p.STREAMDESK_POSTMARK_BASIC_AUTH === '' ? undefined : { basicAuth: p.STREAMDESK_POSTMARK_BASIC_AUTH },
      mailgun:
        p.STREAMDESK_MAILGUN_SIGNING_KEY === ''
          ? undefined
          : { signingKey: p.STREAMDESK_MAILGUN_SIGNING_KEY, maxAgeSeconds: p.STREAMDESK_MAILGUN_MAX_AGE },
      sendgrid:
        p.STREAMDESK_SENDGRID_PATH_SECRET === '' && p.STREAMDESK_SENDGRID_BASIC_AUTH === ''
          ? undefined
          : {
              pathSecret:
                p.STREAMDESK_SENDGRID_PATH_SECRET === '' ? undefined : p.STREAMDESK_SENDGRID_PATH_SECRET,
              basicAuth:
                p.STREAMDESK_SENDGRID_BASIC_AUTH === '' ? undefined : p.STREAMDESK_SENDGRID_BASIC_AUTH,
            },
    },
  });
}
