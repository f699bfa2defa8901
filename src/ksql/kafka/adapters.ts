/**
 * The engine's ports over the real services: topics over kafkajs (admin + producer), the schema
 * registry over streamdesk's registry client, the processing log into a Kafka topic.
 */
import { deleteTopicsGone } from '../../kafka/admin.ts';
import type { Admin, IHeaders } from 'kafkajs';
import type { SendingProducer } from '../../kafka/renewing-producer.ts';
import type { RegistryClient } from '../../registry/client.ts';
import type { ProcessingLog, ProcessingLogEntry } from '../execution/processing-log.ts';
import type {
  ProducerRecord,
  RecordHeader,
  TopicIO,
  TopicRecord,
  TopicSpecIO,
} from '../execution/topic-io.ts';
import type { RegisteredSchema, SchemaRegistryPort, SubjectVersion } from '../serde/registry.ts';
import { createTopicsReady } from '../../kafka/admin.ts';

export function toKafkaHeaders(headers: readonly RecordHeader[]): IHeaders {
  const out: IHeaders = {};
  for (const h of headers) if (h.value !== null) out[h.key] = Buffer.from(h.value);
  return out;
}

const NO_HEADERS: readonly RecordHeader[] = Object.freeze([]);

export function fromKafkaHeaders(headers: IHeaders | undefined): readonly RecordHeader[] {
  if (headers === undefined) return NO_HEADERS;
  let any = false;
  for (const _ in headers) {
    any = true;
    break;
  }
  if (!any) return NO_HEADERS; // most records: no array, no Object.entries per record
  const out: RecordHeader[] = [];
  for (const [key, v] of Object.entries(headers)) {
    for (const value of Array.isArray(v) ? v : [v]) {
      out.push({
        key,
        value: value === undefined ? null : typeof value === 'string' ? Buffer.from(value) : value,
      });
    }
  }
  return out;
}

export interface KafkaTopicIOOptions {
  readonly admin: Admin;
  readonly producer: SendingProducer;
  /** Replication for topics the engine creates without a REPLICAS option. */
  readonly defaultReplicas: number;
}

export function createKafkaTopicIO(options: KafkaTopicIOOptions): TopicIO {
  const { admin, producer } = options;
  return {
    async createTopic(spec: TopicSpecIO) {
      const existing = new Set(await admin.listTopics());
      if (existing.has(spec.name)) return;
      await createTopicsReady(admin, [
        {
          topic: spec.name,
          numPartitions: spec.partitions,
          replicationFactor: spec.replicas > 0 ? spec.replicas : options.defaultReplicas,
        },
      ]);
    },
    async deleteTopic(name) {
      await deleteTopicsGone(admin, [name]);
    },
    async listTopics() {
      const names = (await admin.listTopics()).filter((t) => !t.startsWith('__'));
      if (names.length === 0) return [];
      const metadata = await admin.fetchTopicMetadata({ topics: names });
      return metadata.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.length,
        replicas: t.partitions[0]?.replicas.length ?? 0,
      }));
    },
    async produce(topic: string, record: ProducerRecord): Promise<TopicRecord> {
      const [meta] = await producer.send({
        topic,
        acks: -1,
        messages: [
          {
            key: record.key,
            value: record.value,
            timestamp: String(record.timestamp),
            headers: toKafkaHeaders(record.headers),
            ...(record.partition === undefined ? {} : { partition: record.partition }),
          },
        ],
      });
      return {
        topic,
        partition: meta?.partition ?? 0,
        offset: BigInt(meta?.baseOffset ?? '0'),
        key: record.key,
        value: record.value,
        timestamp: record.timestamp,
        headers: record.headers,
      };
    },
  };
}

/** The engine's SchemaRegistryPort over the Confluent-compatible REST client. */
export function createRegistryPort(client: RegistryClient): SchemaRegistryPort {
  const toVersion = (v: {
    id: number;
    version: number;
    schema: string;
    schemaType: RegisteredSchema['schemaType'];
    references: RegisteredSchema['references'];
  }): SubjectVersion => ({
    id: v.id,
    version: v.version,
    schema: {
      schemaType: v.schemaType,
      schema: v.schema,
      ...(v.references && v.references.length > 0 ? { references: v.references } : {}),
    },
  });
  return {
    register: (subject, schema) =>
      client.register(subject, schema.schema, schema.schemaType, schema.references ?? []),
    async getById(id) {
      const info = await client.schemaInfoById(id);
      return {
        schemaType: info.schemaType,
        schema: info.schema,
        ...(info.references.length > 0 ? { references: info.references } : {}),
      };
    },
    async latest(subject) {
      const v = await client.subjectVersion(subject, 'latest');
      return v === undefined ? undefined : toVersion(v);
    },
    async version(subject, version) {
      const v = await client.subjectVersion(subject, version);
      return v === undefined ? undefined : toVersion(v);
    },
    deleteSubject: (subject) => client.deleteSubject(subject),
  };
}

/**
 * ksqlDB's processing log: entries go to a JSON topic (`<service id>ksql_processing_log`), which the
 * server also exposes as the stream KSQL_PROCESSING_LOG. Entries carry no record contents.
 */
export function createKafkaProcessingLog(
  producer: SendingProducer,
  topic: string,
  onError: (error: unknown) => void,
): ProcessingLog & { recent(): readonly ProcessingLogEntry[] } {
  const recent: ProcessingLogEntry[] = [];
  return {
    record(entry) {
      recent.push(entry);
      if (recent.length > 1000) recent.shift();
      const value = {
        LOGGER: `processing.${entry.queryId}`,
        LEVEL: 'ERROR',
        TIME: Date.now(),
        MESSAGE: {
          TYPE: entry.kind,
          ERRORMESSAGE: entry.message,
          TOPIC: entry.topic ?? null,
          PARTITION: entry.partition ?? null,
          OFFSET: entry.offset === undefined ? null : Number(entry.offset),
        },
      };
      producer
        .send({ topic, messages: [{ key: entry.queryId, value: JSON.stringify(value) }] })
        .catch(onError);
    },
    recent: () => recent,
  };
}
