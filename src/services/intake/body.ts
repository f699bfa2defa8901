/**
 * Request bodies as the intake needs them: JSON kept raw (signatures are over the exact bytes),
 * urlencoded and multipart forms as text fields, with attachments reduced to metadata while they
 * stream past (size and SHA-256; the bytes are not kept).
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Busboy } from '@fastify/busboy';
import type { FastifyInstance } from 'fastify';
import type { Attachment } from '../../contracts/generated/ingestion-raw-messages-value.ts';
import { StreamdeskError } from '../../errors.ts';
import type { FormBody } from './channels/email-parse.ts';

export interface RawBody {
  readonly kind: 'raw';
  readonly raw: Buffer;
}
export interface FieldsBody extends FormBody {
  readonly kind: 'fields';
}
export type Body = RawBody | FieldsBody;

/** JSON.parse without echoing the input: V8's messages quote the body, which may hold personal data. */
export function parseJson(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    throw new StreamdeskError('INTAKE_MALFORMED_BODY', 'the body is not valid JSON');
  }
}

function parseMultipart(request: IncomingMessage, maxBytes: number): Promise<FieldsBody> {
  return new Promise((resolve, reject) => {
    const fields: Record<string, string> = {};
    const files: Attachment[] = [];
    let received = 0;
    let failed = false;
    const fail = (error: StreamdeskError): void => {
      if (failed) return;
      failed = true;
      request.unpipe();
      request.resume(); // drain, so the connection can answer
      reject(error);
    };
    let busboy;
    try {
      busboy = new Busboy({
        headers: request.headers as { 'content-type': string },
        limits: { fieldSize: maxBytes, fields: 1000, files: 100, parts: 1100 },
      });
    } catch {
      reject(new StreamdeskError('INTAKE_MALFORMED_BODY', 'the multipart body has no usable boundary'));
      return;
    }
    busboy.on('field', (name, value) => {
      fields[name] = value;
    });
    busboy.on('file', (_field, stream, filename, _encoding, mimeType) => {
      const hash = createHash('sha256');
      let size = 0;
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        hash.update(chunk);
      });
      stream.on('end', () => {
        files.push({
          filename: filename === '' ? null : filename,
          content_type: mimeType || 'application/octet-stream',
          size_bytes: size,
          provider_media_id: null,
          sha256: hash.digest('hex'),
        });
      });
    });
    busboy.on('partsLimit', () => fail(new StreamdeskError('INTAKE_PAYLOAD_TOO_LARGE', 'too many parts')));
    busboy.on('error', () =>
      fail(new StreamdeskError('INTAKE_MALFORMED_BODY', 'the multipart body does not parse')),
    );
    busboy.on('finish', () => {
      if (!failed) resolve({ kind: 'fields', fields, files });
    });
    request.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > maxBytes)
        fail(new StreamdeskError('INTAKE_PAYLOAD_TOO_LARGE', `the body is over ${maxBytes} bytes`));
    });
    request.on('error', () =>
      fail(new StreamdeskError('INTAKE_MALFORMED_BODY', 'the request body was cut off')),
    );
    request.pipe(busboy);
  });
}

/** Replace Fastify's parsers with the intake's. Route `bodyLimit` bounds JSON and urlencoded bodies. */
export function registerBodyParsers(
  app: FastifyInstance,
  maxMultipartBytes: (routeLimit: number | undefined) => number,
): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => {
    done(null, { kind: 'raw', raw: body as Buffer } satisfies RawBody);
  });
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => {
      const fields: Record<string, string> = {};
      for (const [k, v] of new URLSearchParams(body as string)) fields[k] = v;
      done(null, { kind: 'fields', fields, files: [] } satisfies FieldsBody);
    },
  );
  app.addContentTypeParser('multipart/form-data', (request, payload, done) => {
    parseMultipart(payload, maxMultipartBytes(request.routeOptions.bodyLimit)).then(
      (body) => done(null, body),
      (error: unknown) => done(error as Error, undefined),
    );
  });
}
