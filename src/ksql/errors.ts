/**
 * Errors of the ksql engine. ksqlDB answers statement errors with numeric codes (HTTP status × 100 + n,
 * `ksqldb-rest-model/.../rest/Errors.java`); the REST layer will map these straight to its answers.
 * The message follows ksqlDB's wording where the QTT cases check it (they match by substring).
 *
 * `kind` says which ksqlDB exception the error stands for, so the QTT runner can compare it with an
 * expected exception type, and so an unsupported feature is never mistaken for a rejected statement.
 */

export const KSQL_ERROR_CODES = {
  BAD_STATEMENT: 40001,
  QUERY_ENDPOINT: 40002,
  NOT_FOUND: 40400,
  SERVER_ERROR: 50000,
} as const;

export type KsqlErrorKind =
  /** The text does not parse (ksqlDB ParseFailedException). */
  | 'parse'
  /** The statement parses but is invalid (KsqlStatementException / KsqlException). */
  | 'statement'
  /** The statement is valid ksqlDB but this engine does not implement it yet. */
  | 'unsupported'
  /** A record could not be processed (serialization, evaluation). */
  | 'runtime';

export interface KsqlErrorOptions {
  readonly cause?: unknown;
  /** 1-based position of the offending token, when known. */
  readonly line?: number;
  readonly column?: number;
  readonly errorCode?: number;
}

export class KsqlError extends Error {
  readonly kind: KsqlErrorKind;
  readonly errorCode: number;
  readonly line: number | undefined;
  readonly column: number | undefined;

  constructor(kind: KsqlErrorKind, message: string, options: KsqlErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KsqlError';
    this.kind = kind;
    this.errorCode =
      options.errorCode ??
      (kind === 'runtime' ? KSQL_ERROR_CODES.SERVER_ERROR : KSQL_ERROR_CODES.BAD_STATEMENT);
    this.line = options.line;
    this.column = options.column;
  }
}

/** A statement ksqlDB would reject: the message is what the user sees. */
export function statementError(message: string, options?: KsqlErrorOptions): KsqlError {
  return new KsqlError('statement', message, options);
}

/** A feature this engine does not implement (yet): never reported as a rejected statement. */
export function unsupported(feature: string): KsqlError {
  return new KsqlError('unsupported', `Not supported by the local ksql engine yet: ${feature}`);
}

export function isKsqlError(error: unknown): error is KsqlError {
  return error instanceof KsqlError;
}
