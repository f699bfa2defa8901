/**
 * Fault injection between a kafkajs client and the real broker: a TCP proxy on 127.0.0.1 that every
 * connection of the client goes through (via kafkajs' `socketFactory`), which can let one Produce
 * request reach the broker, swallow the broker's answer and cut the connection — the ambiguous
 * failure a broker crash causes (written, never acknowledged) — and then refuse new connections, as
 * a dead broker does, until healed. Only the client's own connections are affected.
 */
import net from 'node:net';
import type { ISocketFactory } from 'kafkajs';
import { freePort } from './env.ts';

const PRODUCE_API_KEY = 0;

export interface FaultProxy {
  readonly socketFactory: ISocketFactory;
  /**
   * The next Produce request goes through to the broker; its response is dropped, the connection cut,
   * and from then on connections are refused until `heal()`. Resolves when the response was dropped.
   */
  loseNextProduceResponse(): Promise<void>;
  /** Accept connections again. */
  heal(): void;
  close(): Promise<void>;
}

/** Splits a byte stream into Kafka frames (int32 size prefix), keeping any incomplete tail. */
function framer(onFrame: (frame: Buffer) => void): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0);
  return (chunk) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
      const size = 4 + pending.readInt32BE(0);
      onFrame(pending.subarray(0, size));
      pending = pending.subarray(size);
    }
  };
}

export async function createFaultProxy(broker: string): Promise<FaultProxy> {
  const [host, port] = [
    broker.slice(0, broker.lastIndexOf(':')),
    Number(broker.slice(broker.lastIndexOf(':') + 1)),
  ];
  const closedPort = await freePort(); // nothing listens there: connecting is refused
  let refusing = false;
  let armed: (() => void) | undefined;
  const sockets = new Set<net.Socket>();

  const server = net.createServer((client) => {
    const upstream = net.connect({ host, port });
    sockets.add(client).add(upstream);
    const cut = new Map<number, () => void>(); // correlation ids whose responses are dropped
    const destroy = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', destroy).on('close', destroy);
    upstream.on('error', destroy).on('close', destroy);
    client.on(
      'data',
      framer((frame) => {
        // Request header: size, api key (int16), api version (int16), correlation id (int32).
        if (armed && frame.readInt16BE(4) === PRODUCE_API_KEY) {
          cut.set(frame.readInt32BE(8), armed);
          armed = undefined;
        }
        upstream.write(frame);
      }),
    );
    upstream.on(
      'data',
      framer((frame) => {
        // Response header: size, correlation id (int32).
        const dropped = cut.get(frame.readInt32BE(4));
        if (dropped) {
          refusing = true;
          destroy();
          dropped();
          return;
        }
        client.write(frame);
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as net.AddressInfo;

  return {
    socketFactory: ({ onConnect }) => {
      const socket = net.connect(
        { host: '127.0.0.1', port: refusing ? closedPort : address.port },
        onConnect,
      );
      socket.setKeepAlive(true, 60_000);
      return socket;
    },
    loseNextProduceResponse: () =>
      new Promise<void>((resolve) => {
        armed = resolve;
      }),
    heal() {
      refusing = false;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
