/**
 * How every streamdesk HTTP service answers an error: the catalogue's status and a body with the
 * stable code and the safe message (never the error's detail, never the request's content).
 */
import type { FastifyReply } from 'fastify';
import { isStreamdeskError, StreamdeskError } from '../errors.ts';

export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string };
}

export function errorBody(error: StreamdeskError): ErrorBody {
  return { error: { code: error.code, message: error.message } };
}

/** Send a StreamdeskError (503s carry Retry-After); anything else is a 500 without details. */
export function sendError(reply: FastifyReply, error: unknown, status?: number): FastifyReply {
  if (!isStreamdeskError(error)) {
    return reply
      .code(500)
      .send({ error: { code: 'SD_ERR_UNEXPECTED', message: 'internal error' } } satisfies ErrorBody);
  }
  const code = status ?? error.httpStatus ?? 500;
  if (code === 503) void reply.header('retry-after', '5');
  return reply.code(code).send(errorBody(error));
}
