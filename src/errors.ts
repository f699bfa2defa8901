/**
 * The one error catalogue (CONVENTIONS item 4). Every error streamdesk raises on purpose carries a
 * stable code from here, whether it may be retried, and the HTTP status where one applies.
 *
 * Messages are split in two: `message` is safe to log and to show (no customer text, no addresses,
 * no phone numbers); `detail` may hold sensitive context for a debugger and is never logged
 * (CONVENTIONS item 5).
 */

export interface ErrorSpec {
  readonly code: `SD_ERR_${string}`;
  readonly retriable: boolean;
  readonly httpStatus?: number;
  /** One line for docs/errors.md and `--help` output: what happened and what to do. */
  readonly description: string;
}

export const ERRORS = {
  CONFIG_INVALID: {
    code: 'SD_ERR_CONFIG_INVALID',
    retriable: false,
    description: 'A configuration value (environment or .env) is malformed or unknown; fix the named key.',
  },
  CLI_USAGE: {
    code: 'SD_ERR_CLI_USAGE',
    retriable: false,
    description: 'The command line is not valid: unknown command or option, or a missing argument.',
  },
  STACK_JAVA_MISSING: {
    code: 'SD_ERR_STACK_JAVA_MISSING',
    retriable: false,
    description: 'No Java runtime of the required version was found; install it or set STREAMDESK_JAVA_HOME.',
  },
  STACK_MAVEN_MISSING: {
    code: 'SD_ERR_STACK_MAVEN_MISSING',
    retriable: false,
    description: 'Apache Maven (mvn) is not on PATH; it is needed once to fetch the Kafka and registry jars.',
  },
  STACK_MAVEN_RESOLVE_FAILED: {
    code: 'SD_ERR_STACK_MAVEN_RESOLVE_FAILED',
    retriable: true,
    description: 'Maven could not resolve the pinned artifacts (network, repository or version problem).',
  },
  STACK_PORT_TAKEN: {
    code: 'SD_ERR_STACK_PORT_TAKEN',
    retriable: false,
    description: 'A port the stack needs is used by another program; stop it or configure another port.',
  },
  STACK_SERVICE_DIED: {
    code: 'SD_ERR_STACK_SERVICE_DIED',
    retriable: false,
    description: 'A stack service exited while starting; the last lines of its log are shown.',
  },
  STACK_READY_TIMEOUT: {
    code: 'SD_ERR_STACK_READY_TIMEOUT',
    retriable: true,
    description: 'A stack service did not become ready in time; see its log under .stack/logs/.',
  },
  STACK_BINARY_MISSING: {
    code: 'SD_ERR_STACK_BINARY_MISSING',
    retriable: false,
    description: 'A system binary the stack needs (redis-server, PostgreSQL) is not installed.',
  },
  STACK_BUSY: {
    code: 'SD_ERR_STACK_BUSY',
    retriable: true,
    description: 'Another `stack up` or `stack down` is running on the same stack directory.',
  },
  CATALOG_INVALID: {
    code: 'SD_ERR_CATALOG_INVALID',
    retriable: false,
    description: 'schemas/catalog.yaml is malformed or inconsistent; the message names the key to fix.',
  },
  SCHEMA_INVALID: {
    code: 'SD_ERR_SCHEMA_INVALID',
    retriable: false,
    description: 'An .avsc file does not parse as an Avro schema, or a field lacks its doc.',
  },
  SCHEMA_INCOMPATIBLE: {
    code: 'SD_ERR_SCHEMA_INCOMPATIBLE',
    retriable: false,
    description:
      'A schema change would break readers under its subject compatibility mode; see the explanation.',
  },
  REGISTRY_UNAVAILABLE: {
    code: 'SD_ERR_REGISTRY_UNAVAILABLE',
    retriable: true,
    httpStatus: 503,
    description: 'The Schema Registry did not answer or answered with an unexpected error.',
  },
  KAFKA_UNAVAILABLE: {
    code: 'SD_ERR_KAFKA_UNAVAILABLE',
    retriable: true,
    httpStatus: 503,
    description: 'The Kafka cluster did not answer (connection refused, timeout, no controller).',
  },
  TOPICS_REFUSED: {
    code: 'SD_ERR_TOPICS_REFUSED',
    retriable: false,
    description:
      'The topic plan has changes streamdesk will not make (shrinking partitions, changing replication); nothing was applied.',
  },
  GIT_REF_UNKNOWN: {
    code: 'SD_ERR_GIT_REF_UNKNOWN',
    retriable: false,
    description: 'The git ref given to compare schemas against does not exist in this repository.',
  },
  INTAKE_MALFORMED_BODY: {
    code: 'SD_ERR_INTAKE_MALFORMED_BODY',
    retriable: false,
    httpStatus: 400,
    description:
      'The request body does not parse (JSON, form or multipart); it will never be accepted as sent.',
  },
  INTAKE_INVALID_PAYLOAD: {
    code: 'SD_ERR_INTAKE_INVALID_PAYLOAD',
    retriable: false,
    httpStatus: 422,
    description: "The body parses but lacks required fields or is not the provider's documented shape.",
  },
  INTAKE_UNSUPPORTED_MEDIA_TYPE: {
    code: 'SD_ERR_INTAKE_UNSUPPORTED_MEDIA_TYPE',
    retriable: false,
    httpStatus: 415,
    description: 'The Content-Type is not one this endpoint accepts.',
  },
  INTAKE_PAYLOAD_TOO_LARGE: {
    code: 'SD_ERR_INTAKE_PAYLOAD_TOO_LARGE',
    retriable: false,
    httpStatus: 413,
    description: 'The body (or the message it carries) exceeds the configured limit.',
  },
  INTAKE_UNAUTHORIZED: {
    code: 'SD_ERR_INTAKE_UNAUTHORIZED',
    retriable: false,
    httpStatus: 401,
    description: 'The signature, shared secret or basic auth is missing or wrong.',
  },
  INTAKE_STALE_SIGNATURE: {
    code: 'SD_ERR_INTAKE_STALE_SIGNATURE',
    retriable: false,
    httpStatus: 401,
    description:
      'A signed timestamp is outside the freshness window, or its token was already used (replay).',
  },
  INTAKE_FORBIDDEN: {
    code: 'SD_ERR_INTAKE_FORBIDDEN',
    retriable: false,
    httpStatus: 403,
    description: 'Refused: wrong verify token, or an Origin the form does not allow.',
  },
  INTAKE_NOT_FOUND: {
    code: 'SD_ERR_INTAKE_NOT_FOUND',
    retriable: false,
    httpStatus: 404,
    description: 'No such endpoint, or no such form.',
  },
  INTAKE_METHOD_NOT_ALLOWED: {
    code: 'SD_ERR_INTAKE_METHOD_NOT_ALLOWED',
    retriable: false,
    httpStatus: 405,
    description: 'The endpoint exists but not for this HTTP method.',
  },
  INTAKE_RATE_LIMITED: {
    code: 'SD_ERR_INTAKE_RATE_LIMITED',
    retriable: true,
    httpStatus: 429,
    description: 'Too many form submissions from this client; retry after the Retry-After seconds.',
  },
  INTAKE_UNAVAILABLE: {
    code: 'SD_ERR_INTAKE_UNAVAILABLE',
    retriable: true,
    httpStatus: 503,
    description:
      'Kafka or the schema registry is unreachable (or the same message is being processed); nothing was published, retry later.',
  },
  TICKET_NOT_FOUND: {
    code: 'SD_ERR_TICKET_NOT_FOUND',
    retriable: false,
    httpStatus: 404,
    description: 'No ticket with that id.',
  },
  CUSTOMER_NOT_FOUND: {
    code: 'SD_ERR_CUSTOMER_NOT_FOUND',
    retriable: false,
    httpStatus: 404,
    description: 'No customer with that id.',
  },
  TICKET_TRANSITION: {
    code: 'SD_ERR_TICKET_TRANSITION',
    retriable: false,
    httpStatus: 409,
    description: 'The ticket cannot move from its current status to the requested one (see the lifecycle).',
  },
  TICKETS_INVALID_REQUEST: {
    code: 'SD_ERR_TICKETS_INVALID_REQUEST',
    retriable: false,
    httpStatus: 422,
    description: 'The request body is missing fields or has values the tickets API does not accept.',
  },
  TICKETS_UNAVAILABLE: {
    code: 'SD_ERR_TICKETS_UNAVAILABLE',
    retriable: true,
    httpStatus: 503,
    description: 'PostgreSQL, Kafka or the registry is unavailable; retry later.',
  },
  RECORD_UNDECODABLE: {
    code: 'SD_ERR_RECORD_UNDECODABLE',
    retriable: false,
    description:
      'A consumed record is not in the Confluent Avro wire format or does not decode with its schema (sent to the dead-letter topic).',
  },
  RECORD_INVALID: {
    code: 'SD_ERR_RECORD_INVALID',
    retriable: false,
    description:
      'A consumed record decodes but cannot be acted on (missing contact key, unknown kind...); sent to the dead-letter topic.',
  },
  KSQL_UNAVAILABLE: {
    code: 'SD_ERR_KSQL_UNAVAILABLE',
    retriable: true,
    httpStatus: 503,
    description:
      'The ksqlDB server (or the local engine) did not answer; start it (`streamdesk up`) or check STREAMDESK_KSQL_URL.',
  },
  MIGRATION_INVALID: {
    code: 'SD_ERR_MIGRATION_INVALID',
    retriable: false,
    description:
      'A migration file or the migrations configuration is not valid (name, version, variable, statement kind); fix the named file.',
  },
  MIGRATION_FAILED: {
    code: 'SD_ERR_MIGRATION_FAILED',
    retriable: false,
    description:
      'A migration statement was rejected by the server; the version is recorded as ERROR. Fix the file (or the server) and apply again.',
  },
  MIGRATION_DRIFT: {
    code: 'SD_ERR_MIGRATION_DRIFT',
    retriable: false,
    description:
      'An applied migration file changed or disappeared since it was applied (checksum differs); restore it and add a new migration instead.',
  },
  MIGRATION_METADATA_MISSING: {
    code: 'SD_ERR_MIGRATION_METADATA_MISSING',
    retriable: false,
    description:
      'The migrations metadata (MIGRATION_EVENTS, MIGRATION_SCHEMA_VERSIONS) does not exist on the server; `ksql migrate apply` creates it.',
  },
  DLT_UNKNOWN_TOPIC: {
    code: 'SD_ERR_DLT_UNKNOWN_TOPIC',
    retriable: false,
    description:
      'The topic named is neither a dead-letter topic of the catalog nor a product topic with one, or it does not exist on the cluster; `streamdesk dlt list` names them.',
  },
  DLT_REPLAY_REFUSED: {
    code: 'SD_ERR_DLT_REPLAY_REFUSED',
    retriable: false,
    description:
      'A replay sent nothing: a selected record has no original topic header, its original topic does not exist, or another replay of the same topic took over.',
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorKey = keyof typeof ERRORS;

export interface StreamdeskErrorOptions {
  readonly cause?: unknown;
  /** Sensitive context (never logged, never sent to a client). */
  readonly detail?: unknown;
}

export class StreamdeskError extends Error {
  readonly code: string;
  readonly retriable: boolean;
  readonly httpStatus: number | undefined;
  readonly detail: unknown;

  constructor(key: ErrorKey, message: string, options: StreamdeskErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    const spec: ErrorSpec = ERRORS[key];
    this.name = 'StreamdeskError';
    this.code = spec.code;
    this.retriable = spec.retriable;
    this.httpStatus = spec.httpStatus;
    this.detail = options.detail;
  }
}

export function isStreamdeskError(error: unknown): error is StreamdeskError {
  return error instanceof StreamdeskError;
}

/** A log-safe description of any thrown value: code and safe message only, never `detail`. */
export function safeErrorSummary(error: unknown): { code: string; message: string; retriable: boolean } {
  if (isStreamdeskError(error)) {
    return { code: error.code, message: error.message, retriable: error.retriable };
  }
  if (error instanceof Error) {
    return { code: 'SD_ERR_UNEXPECTED', message: error.name, retriable: false };
  }
  return { code: 'SD_ERR_UNEXPECTED', message: typeof error, retriable: false };
}
