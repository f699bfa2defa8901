/**
 * The engine's view of a schema registry (Confluent API semantics): schema ids are global, a schema
 * registered twice gets the same id, subjects are `<topic>-key` / `<topic>-value`. The in-memory
 * implementation serves tests and QTT; an adapter over the real registry client comes with the Kafka
 * wiring.
 */

export type SchemaType = 'AVRO' | 'JSON' | 'PROTOBUF';

export interface SchemaReference {
  readonly name: string;
  readonly subject: string;
  readonly version: number;
}

export interface RegisteredSchema {
  readonly schemaType: SchemaType;
  /** The schema text (Avro/JSON schema as JSON text, protobuf as .proto text). */
  readonly schema: string;
  readonly references?: readonly SchemaReference[];
}

export interface SubjectVersion {
  readonly id: number;
  readonly version: number;
  readonly schema: RegisteredSchema;
}

export interface SchemaRegistryPort {
  /** Registers (or finds) a schema under a subject; returns its global id. */
  register(subject: string, schema: RegisteredSchema): Promise<number>;
  getById(id: number): Promise<RegisteredSchema>;
  /** The latest version of a subject, or undefined when the subject does not exist. */
  latest(subject: string): Promise<SubjectVersion | undefined>;
  /** A specific version of a subject (for schema references). */
  version?(subject: string, version: number): Promise<SubjectVersion | undefined>;
  /** Deletes a subject (DROP ... DELETE TOPIC also removes the topic's subjects). */
  deleteSubject?(subject: string): Promise<void>;
}

export function keySubject(topic: string): string {
  return `${topic}-key`;
}

export function valueSubject(topic: string): string {
  return `${topic}-value`;
}

export class SchemaNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SchemaNotFoundError';
  }
}

function canonical(schema: RegisteredSchema): string {
  let text = schema.schema;
  if (schema.schemaType !== 'PROTOBUF') {
    try {
      text = JSON.stringify(JSON.parse(text));
    } catch {
      // keep as is
    }
  }
  return `${schema.schemaType}:${text}:${JSON.stringify(schema.references ?? [])}`;
}

/** In-memory registry (ids from 1, same schema → same id), like Confluent's mock client. */
export class InMemorySchemaRegistry implements SchemaRegistryPort {
  private readonly byId = new Map<number, RegisteredSchema>();
  private readonly idByCanonical = new Map<string, number>();
  private readonly subjects = new Map<string, SubjectVersion[]>();
  private nextId = 1;

  /** Registers under an explicit id (QTT `valueSchemaId`); synchronous for test setup. */
  registerSync(subject: string, schema: RegisteredSchema, id?: number): number {
    const key = canonical(schema);
    let schemaId = id ?? this.idByCanonical.get(key);
    if (schemaId === undefined) {
      while (this.byId.has(this.nextId)) this.nextId++;
      schemaId = this.nextId++;
    }
    if (!this.byId.has(schemaId)) this.byId.set(schemaId, schema);
    if (!this.idByCanonical.has(key)) this.idByCanonical.set(key, schemaId);
    const versions = this.subjects.get(subject) ?? [];
    const existing = versions.find((v) => v.id === schemaId);
    if (existing === undefined) {
      versions.push({ id: schemaId, version: versions.length + 1, schema });
      this.subjects.set(subject, versions);
    }
    return schemaId;
  }

  register(subject: string, schema: RegisteredSchema): Promise<number> {
    return Promise.resolve(this.registerSync(subject, schema));
  }

  getById(id: number): Promise<RegisteredSchema> {
    const s = this.byId.get(id);
    if (s === undefined) return Promise.reject(new SchemaNotFoundError(`Schema ${id} not found`));
    return Promise.resolve(s);
  }

  latestSync(subject: string): SubjectVersion | undefined {
    const versions = this.subjects.get(subject);
    return versions === undefined ? undefined : versions[versions.length - 1];
  }

  latest(subject: string): Promise<SubjectVersion | undefined> {
    return Promise.resolve(this.latestSync(subject));
  }

  version(subject: string, version: number): Promise<SubjectVersion | undefined> {
    const versions = this.subjects.get(subject);
    return Promise.resolve(versions?.find((v) => v.version === version));
  }

  subjectNames(): string[] {
    return [...this.subjects.keys()].sort();
  }

  deleteSubject(subject: string): Promise<void> {
    this.subjects.delete(subject);
    return Promise.resolve();
  }
}
