/**
 * Avro serde for the registered contracts, in Confluent's wire format (magic byte 0, 4-byte schema
 * id, Avro body). Encoders look up the id of their subject's contract once (they never register:
 * `streamdesk schemas register` does). Decoders fetch the writer schema by id and resolve it to the
 * reader's contract, so a consumer on schema N reads records written with any compatible version.
 */
import avro from 'avsc';
import { StreamdeskError } from '../errors.ts';
import type { RegistryClient } from './client.ts';

export interface Contract {
  readonly SUBJECT: string;
  readonly SCHEMA: unknown;
}

export interface AvroEncoder<T> {
  readonly subject: string;
  /** The registered id of the contract (SD_ERR_REGISTRY_UNAVAILABLE when it cannot be found). */
  schemaId(): Promise<number>;
  encode(value: T): Promise<Buffer>;
}

export function createAvroEncoder<T>(registry: RegistryClient, contract: Contract): AvroEncoder<T> {
  const type = avro.Type.forSchema(contract.SCHEMA as avro.Schema);
  const text = JSON.stringify(contract.SCHEMA);
  let id: Promise<number> | undefined;
  const lookup = async (): Promise<number> => {
    let found: { id: number } | undefined;
    try {
      found = await registry.lookup(contract.SUBJECT, text);
    } catch (error) {
      throw new StreamdeskError('REGISTRY_UNAVAILABLE', 'the schema registry is unreachable', {
        cause: error,
      });
    }
    if (!found) {
      throw new StreamdeskError(
        'REGISTRY_UNAVAILABLE',
        `the contract is not registered under ${contract.SUBJECT} (run: streamdesk schemas register)`,
      );
    }
    return found.id;
  };
  const schemaId = (): Promise<number> => {
    id ??= lookup().catch((error: unknown) => {
      id = undefined; // look up again next time
      throw error;
    });
    return id;
  };
  return {
    subject: contract.SUBJECT,
    schemaId,
    async encode(value) {
      return frame(await schemaId(), type.toBuffer(value));
    },
  };
}

/** Confluent wire format around an Avro body. */
export function frame(schemaId: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(5 + body.length);
  out.writeUInt8(0, 0);
  out.writeInt32BE(schemaId, 1);
  body.copy(out, 5);
  return out;
}

export interface AvroDecoder<T> {
  /** Decode a framed record into the reader contract; throws SD_ERR_RECORD_UNDECODABLE. */
  decode(bytes: Buffer | null): Promise<T>;
}

export function createAvroDecoder<T>(registry: RegistryClient, contract: Contract): AvroDecoder<T> {
  const reader = avro.Type.forSchema(contract.SCHEMA as avro.Schema);
  const resolvers = new Map<number, Promise<avro.Resolver>>();
  const resolver = (id: number): Promise<avro.Resolver> => {
    let r = resolvers.get(id);
    if (!r) {
      r = registry.schemaById(id).then(
        (text) => reader.createResolver(avro.Type.forSchema(JSON.parse(text) as avro.Schema)),
        (error: unknown) => {
          resolvers.delete(id); // a registry outage is not a poison record: retry later
          throw error;
        },
      );
      resolvers.set(id, r);
    }
    return r;
  };
  return {
    async decode(bytes) {
      if (bytes === null || bytes.length < 5 || bytes.readUInt8(0) !== 0) {
        throw new StreamdeskError(
          'RECORD_UNDECODABLE',
          'not in the Confluent Avro wire format (magic byte 0 + schema id)',
        );
      }
      const id = bytes.readInt32BE(1);
      let resolve: avro.Resolver;
      try {
        resolve = await resolver(id);
      } catch (error) {
        if (error instanceof StreamdeskError && error.code === 'SD_ERR_REGISTRY_UNAVAILABLE') throw error;
        throw new StreamdeskError(
          'RECORD_UNDECODABLE',
          `schema ${id} is unknown or cannot be read as ${contract.SUBJECT}`,
          { cause: error },
        );
      }
      try {
        return reader.fromBuffer(bytes.subarray(5), resolve) as T;
      } catch (error) {
        throw new StreamdeskError('RECORD_UNDECODABLE', `the body does not decode with schema ${id}`, {
          cause: error,
        });
      }
    },
  };
}
