/**
 * bench ksql-stateless — records/s of a projection+filter CREATE STREAM AS SELECT run by the local
 * ksql engine on the real broker, beside a same-run hand-written kafkajs consume→transform→produce
 * loop doing the same work (JSON in, filter, UCASE + arithmetic, JSON out, acks=all, outputs acked
 * before offsets move). Both read the same pre-produced input from the beginning.
 * Figure: engine records/s; baseline: hand-written loop records/s, both at steady state (between 10%
 * and 100% of the output). Target ratio ≥ 0.80.
 */
import { randomUUID } from 'node:crypto';
import { Partitioners } from 'kafkajs';
import { pino } from 'pino';
import { createKafka } from '../src/kafka/client.ts';
import { createKsqlRuntime } from '../src/ksql/kafka/runtime.ts';
import { PROJECT_ROOT } from '../src/paths.ts';
import { createStack } from '../src/stack/stack.ts';
import { testConfig } from '../test/support/env.ts';
import type { BenchContext, BenchResult } from './run.ts';
import { createTopicsReady } from '../src/kafka/admin.ts';
import { produceRecords, progress, removeKsqlService } from './ksql-support.ts';

export async function run(ctx: BenchContext): Promise<BenchResult> {
  const records = ctx.number('records', 100_000);
  const partitions = ctx.number('partitions', 3);
  const config = testConfig;
  ctx.say('stack up');
  await createStack(config.stack, PROJECT_ROOT, () => undefined).up(['kafka', 'registry', 'postgres']);
  const kafka = createKafka({ brokers: config.kafka.brokers, clientId: 'bench-ksql' });
  const admin = kafka.admin();
  await admin.connect();
  const tag = Date.now().toString(36);
  const input = `bench.ksql.in.${tag}`;
  const engineOut = `bench.ksql.engine.${tag}`;
  const loopOut = `bench.ksql.loop.${tag}`;
  const serviceId = `bench_${tag}_${randomUUID().slice(0, 4)}_`;
  const loopGroup = `bench-loop-${tag}`;
  await createTopicsReady(
    admin,
    [input, engineOut, loopOut].map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })),
  );
  // Half the records pass the filter.
  const expected = Math.ceil(records / 2);
  try {
    ctx.say(`producing ${records} JSON records to ${input} (${partitions} partitions)`);
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await produceRecords(producer, input, records, (n) => ({
      key: `customer-${n % 1000}`,
      value: JSON.stringify({
        CHANNEL: n % 2 === 0 ? 'email' : 'spam',
        SUBJECT: `order ${n} has not arrived`,
        PRIORITY: n % 5,
      }),
    }));

    // Baseline: the hand-written loop.
    ctx.say('baseline: kafkajs consume → filter/project → produce');
    const loopProducer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await loopProducer.connect();
    const consumer = kafka.consumer({ groupId: loopGroup, maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic: input, fromBeginning: true });
    const loopStart = Date.now();
    await consumer.run({
      eachBatchAutoResolve: false,
      eachBatch: async (payload) => {
        const { batch } = payload;
        const out = [];
        for (const m of batch.messages) {
          const v = JSON.parse(m.value?.toString() ?? 'null') as {
            CHANNEL: string;
            SUBJECT: string;
            PRIORITY: number;
          } | null;
          if (v !== null && v.CHANNEL !== 'spam') {
            out.push({
              key: m.key,
              value: JSON.stringify({
                CHANNEL: v.CHANNEL.toUpperCase(),
                SUBJECT: v.SUBJECT.toUpperCase(),
                SCORE: v.PRIORITY * 10,
              }),
              timestamp: m.timestamp,
            });
          }
        }
        if (out.length > 0) await loopProducer.send({ topic: loopOut, acks: -1, messages: out });
        const last = batch.messages.at(-1);
        if (last) payload.resolveOffset(last.offset);
        await payload.heartbeat();
      },
    });
    const loop = await progress(admin, loopOut, expected, 300_000);
    await consumer.disconnect();
    await loopProducer.disconnect();
    const loopRate = ((0.9 * records) / (loop.t100 - loop.t10)) * 1000;

    // The engine, in this process, on the same broker.
    ctx.say('engine: CREATE STREAM … AS SELECT (projection + filter)');
    const runtime = createKsqlRuntime(
      {
        brokers: config.kafka.brokers,
        registryUrl: config.registry.url,
        serviceId,
        replicas: 1,
      },
      pino({ level: 'silent' }),
    );
    await runtime.start();
    await runtime.execute(
      `CREATE STREAM BENCH_IN (K STRING KEY, CHANNEL STRING, SUBJECT STRING, PRIORITY INT) WITH (KAFKA_TOPIC='${input}', VALUE_FORMAT='JSON');`,
    );
    const engineStart = Date.now();
    await runtime.execute(
      `CREATE STREAM BENCH_OUT WITH (KAFKA_TOPIC='${engineOut}') AS SELECT K, UCASE(CHANNEL) AS CHANNEL, UCASE(SUBJECT) AS SUBJECT, PRIORITY * 10 AS SCORE FROM BENCH_IN WHERE CHANNEL <> 'spam' EMIT CHANGES;`,
      { properties: { 'auto.offset.reset': 'earliest' } },
    );
    const engine = await progress(admin, engineOut, expected, 300_000);
    await runtime.stop();
    await producer.disconnect();
    const engineRate = ((0.9 * records) / (engine.t100 - engine.t10)) * 1000;
    const ratio = engineRate / loopRate;
    ctx.say(
      `engine CSAS: ${engineRate.toFixed(0)} records/s steady state (all ${records} in ${engine.t100 - engineStart} ms incl. query start)`,
    );
    ctx.say(
      `hand-written kafkajs loop: ${loopRate.toFixed(0)} records/s steady state (all ${records} in ${loop.t100 - loopStart} ms incl. group join)`,
    );
    ctx.say(`ratio: ${ratio.toFixed(2)} (target ≥ 0.80)`);
    return {
      name: 'ksql-stateless',
      unit: 'records/s',
      value: Math.round(engineRate),
      baseline: 'hand-written kafkajs consume→filter/project→produce loop, same input and broker',
      baseline_value: Math.round(loopRate),
      ratio: Number(ratio.toFixed(3)),
      records,
      partitions,
      engine_total_ms: engine.t100 - engineStart,
      baseline_total_ms: loop.t100 - loopStart,
    };
  } finally {
    await admin.deleteTopics({ topics: [input, engineOut, loopOut] }).catch(() => undefined);
    await admin.deleteGroups([loopGroup]).catch(() => undefined);
    await removeKsqlService(admin, serviceId).catch(() => undefined);
    await admin.disconnect();
  }
}
