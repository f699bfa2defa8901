/**
 * A small client for the Confluent Schema Registry REST API (what Apicurio serves under
 * /apis/ccompat/v7), for the administrative calls the JS serde clients do not cover well: listing
 * versions, per-subject compatibility, compatibility checks. Works unchanged against Confluent.
 */
import { StreamdeskError } from '../errors.ts';

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

export interface RegistryClient {
  readonly url: string;
  /** Registered versions of a subject, oldest first; [] when the subject does not exist. */
  versions(subject: string): Promise<number[]>;
  schema(subject: string, version: number): Promise<{ id: number; schema: string }>;
  /** Register (or find) a schema; returns its global id. */
  register(
    subject: string,
    schema: string,
    schemaType?: SchemaTypeName,
    references?: readonly SchemaRef[],
  ): Promise<number>;
  /** A version ('latest' or a number) of a subject with its type; undefined when absent. */
  subjectVersion(subject: string, version: number | 'latest'): Promise<SubjectSchema | undefined>;
  /** The schema (text, type, references) registered under a global id. */
  schemaInfoById(
    id: number,
  ): Promise<{ schema: string; schemaType: SchemaTypeName; references: SchemaRef[] }>;
  /** Delete a subject (soft, then hard, as Confluent requires); no error when it does not exist. */
  deleteSubject(subject: string): Promise<void>;
  /** The version and id under which `schema` is registered in `subject`, or undefined. */
  lookup(subject: string, schema: string): Promise<{ id: number; version: number } | undefined>;
  /** The subject's own compatibility level, or undefined when it follows the global one. */
  subjectCompatibility(subject: string): Promise<string | undefined>;
  setSubjectCompatibility(subject: string, level: string): Promise<void>;
  /** The registry's verdict for `schema` against the latest version under the subject's level. */
  isCompatible(subject: string, schema: string): Promise<boolean>;
  subjects(): Promise<string[]>;
  /** The schema text registered under a global id. */
  schemaById(id: number): Promise<string>;
}

export type SchemaTypeName = 'AVRO' | 'JSON' | 'PROTOBUF';

export interface SchemaRef {
  readonly name: string;
  readonly subject: string;
  readonly version: number;
}

export interface SubjectSchema {
  readonly id: number;
  readonly version: number;
  readonly schema: string;
  readonly schemaType: SchemaTypeName;
  readonly references: SchemaRef[];
}

function schemaTypeOf(value: unknown): SchemaTypeName {
  return value === 'JSON' || value === 'PROTOBUF' ? value : 'AVRO';
}

interface Answer {
  readonly status: number;
  readonly body: unknown;
}

export function createRegistryClient(url: string, timeoutMs = 10_000): RegistryClient {
  const base = url.replace(/\/+$/, '');
  const call = async (method: string, path: string, body?: unknown): Promise<Answer> => {
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, {
        method,
        headers: { accept: CONTENT_TYPE, ...(body === undefined ? {} : { 'content-type': CONTENT_TYPE }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw new StreamdeskError(
        'REGISTRY_UNAVAILABLE',
        `schema registry at ${base} did not answer (${(error as Error).message})`,
        {
          cause: error,
        },
      );
    }
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      // keep the text
    }
    return { status: response.status, body: parsed };
  };
  const unexpected = (what: string, answer: Answer): StreamdeskError => {
    const message = (answer.body as { message?: unknown } | undefined)?.message;
    return new StreamdeskError(
      'REGISTRY_UNAVAILABLE',
      `schema registry: ${what} answered ${answer.status}${typeof message === 'string' ? `: ${message}` : ''}`,
    );
  };
  const subjectPath = (subject: string): string => `/subjects/${encodeURIComponent(subject)}`;

  return {
    url: base,
    async versions(subject) {
      const answer = await call('GET', `${subjectPath(subject)}/versions`);
      if (answer.status === 404) return [];
      if (answer.status !== 200 || !Array.isArray(answer.body))
        throw unexpected(`listing versions of ${subject}`, answer);
      return (answer.body as number[]).slice().sort((a, b) => a - b);
    },
    async schema(subject, version) {
      const answer = await call('GET', `${subjectPath(subject)}/versions/${version}`);
      const body = answer.body as { id?: unknown; schema?: unknown } | undefined;
      if (answer.status !== 200 || typeof body?.schema !== 'string' || typeof body.id !== 'number') {
        throw unexpected(`reading ${subject} version ${version}`, answer);
      }
      return { id: body.id, schema: body.schema };
    },
    async register(subject, schema, schemaType = 'AVRO', references = []) {
      const answer = await call('POST', `${subjectPath(subject)}/versions`, {
        schema,
        schemaType,
        ...(references.length > 0 ? { references } : {}),
      });
      const id = (answer.body as { id?: unknown } | undefined)?.id;
      if (answer.status === 409) {
        throw new StreamdeskError(
          'SCHEMA_INCOMPATIBLE',
          `schema registry refused ${subject}: incompatible with its registered versions`,
        );
      }
      if (answer.status !== 200 || typeof id !== 'number') throw unexpected(`registering ${subject}`, answer);
      return id;
    },
    async lookup(subject, schema) {
      const answer = await call('POST', subjectPath(subject), { schema, schemaType: 'AVRO' });
      if (answer.status === 404) return undefined;
      const body = answer.body as { id?: unknown; version?: unknown } | undefined;
      if (answer.status !== 200 || typeof body?.id !== 'number' || typeof body.version !== 'number') {
        throw unexpected(`looking up a schema in ${subject}`, answer);
      }
      return { id: body.id, version: body.version };
    },
    async subjectCompatibility(subject) {
      const answer = await call('GET', `/config/${encodeURIComponent(subject)}`);
      if (answer.status === 404) return undefined;
      const level = (answer.body as { compatibilityLevel?: unknown } | undefined)?.compatibilityLevel;
      if (answer.status !== 200 || typeof level !== 'string')
        throw unexpected(`reading the config of ${subject}`, answer);
      return level;
    },
    async setSubjectCompatibility(subject, level) {
      const answer = await call('PUT', `/config/${encodeURIComponent(subject)}`, { compatibility: level });
      if (answer.status !== 200) throw unexpected(`setting the compatibility of ${subject}`, answer);
    },
    async isCompatible(subject, schema) {
      const answer = await call('POST', `/compatibility${subjectPath(subject)}/versions/latest`, {
        schema,
        schemaType: 'AVRO',
      });
      const verdict = (answer.body as { is_compatible?: unknown } | undefined)?.is_compatible;
      if (answer.status !== 200 || typeof verdict !== 'boolean')
        throw unexpected(`checking ${subject}`, answer);
      return verdict;
    },
    async subjectVersion(subject, version) {
      const answer = await call('GET', `${subjectPath(subject)}/versions/${version}`);
      if (answer.status === 404) return undefined;
      const body = answer.body as
        | { id?: unknown; version?: unknown; schema?: unknown; schemaType?: unknown; references?: unknown }
        | undefined;
      if (answer.status !== 200 || typeof body?.schema !== 'string' || typeof body.id !== 'number') {
        throw unexpected(`reading ${subject} version ${version}`, answer);
      }
      return {
        id: body.id,
        version: typeof body.version === 'number' ? body.version : 0,
        schema: body.schema,
        schemaType: schemaTypeOf(body.schemaType),
        references: Array.isArray(body.references) ? (body.references as SchemaRef[]) : [],
      };
    },
    async schemaInfoById(id) {
      const answer = await call('GET', `/schemas/ids/${id}`);
      if (answer.status === 404)
        throw new StreamdeskError('RECORD_UNDECODABLE', `the registry has no schema with id ${id}`);
      const body = answer.body as
        { schema?: unknown; schemaType?: unknown; references?: unknown } | undefined;
      if (answer.status !== 200 || typeof body?.schema !== 'string')
        throw unexpected(`reading schema ${id}`, answer);
      return {
        schema: body.schema,
        schemaType: schemaTypeOf(body.schemaType),
        references: Array.isArray(body.references) ? (body.references as SchemaRef[]) : [],
      };
    },
    async deleteSubject(subject) {
      for (const permanent of [false, true]) {
        const answer = await call('DELETE', `${subjectPath(subject)}${permanent ? '?permanent=true' : ''}`);
        if (answer.status === 404) return;
        if (answer.status !== 200) throw unexpected(`deleting ${subject}`, answer);
      }
    },
    async schemaById(id) {
      const answer = await call('GET', `/schemas/ids/${id}`);
      if (answer.status === 404)
        throw new StreamdeskError('RECORD_UNDECODABLE', `the registry has no schema with id ${id}`);
      const schema = (answer.body as { schema?: unknown } | undefined)?.schema;
      if (answer.status !== 200 || typeof schema !== 'string')
        throw unexpected(`reading schema ${id}`, answer);
      return schema;
    },
    async subjects() {
      const answer = await call('GET', '/subjects');
      if (answer.status !== 200 || !Array.isArray(answer.body)) throw unexpected('listing subjects', answer);
      return answer.body as string[];
    },
  };
}
