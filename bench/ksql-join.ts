/**
 * bench ksql-join — records/s of a stream-table LEFT JOIN run by the local ksql engine on the real
 * broker, beside the same-run stateless CSAS (ksql-stateless' projection + filter) over the same
 * stream. The stream (JSON, keyed by contact) and the contacts table (JSON, one row per contact) are
 * co-partitioned: same partition count, same key, the Java-compatible partitioner.
 *
 * Both queries apply the same filter and projection; the join query also looks every message's
 * contact up and adds two of its columns. The join query starts with the whole table behind it: the
 * query runner holds the stream until the table topic reached the end it had at start, so every
 * message finds its contact (checked after the run: no output may lack the contact's name).
 *
 * Figure (`value`): messages per second of the join query end to end, from its CREATE ... AS SELECT
 * to its last output: start-up (group join, changelog topic creation), the table load and every store
 * write to the compacted changelog topic (produced with the outputs, acks=all) are in it, not only
 * the lookups. Baseline: the stateless query measured the same way. The steady-state rates (10% →
 * 100% of the outputs, when the table is long loaded) are reported beside them. Target: ratio ≥ 0.5
 * (ksqlDB's capacity guide prices a join at about twice a filter).
 *
 * As in ksql-stateless, V8 favours whatever runs second (kafkajs and the engine's shared code are
 * optimized by then): both queries first run once over a smaller warm-up stream (`--warmup`, not
 * measured), then each is measured twice in the order join, stateless, stateless, join, and the
 * figures are the means. Every run is a new query: the join loads the whole table each time.
 */
import { randomUUID } from 'node:crypto';
import { Partitioners, type Admin } from 'kafkajs';
import { pino } from 'pino';
import { createTopicsReady } from '../src/kafka/admin.ts';
import { createKafka } from '../src/kafka/client.ts';
import { createKsqlRuntime, type KsqlRuntime } from '../src/ksql/kafka/runtime.ts';
import { PROJECT_ROOT } from '../src/paths.ts';
import { createStack } from '../src/stack/stack.ts';
import { testConfig } from '../test/support/env.ts';
import { cleanUp, perSecond, produceRecords, progress, topicTotal, type Progress } from './ksql-support.ts';
import type { BenchContext, BenchResult } from './run.ts';

const TIMEOUT_MS = 120_000;

/** The query that writes to a sink topic. */
function queryId(runtime: KsqlRuntime, sinkTopic: string): string {
  const q = runtime.engine.queries().find((x) => x.processor.sinkTopic === sinkTopic);
  if (q === undefined) throw new Error(`no query writes ${sinkTopic}`);
  return q.plan.queryId;
}

/**
 * The join query's output progress, and when its table was loaded: when the store's changelog topic
 * held a record for every table row (the rows are processed, and their store writes produced, before
 * any stream record).
 */
async function joinProgress(
  admin: Admin,
  probe: Admin,
  changelogPrefix: string,
  tableRows: number,
  output: string,
  expected: number,
): Promise<Progress & { tableLoaded: number | undefined; changelog: string | undefined }> {
  const started = Date.now();
  let changelog: string | undefined;
  let tableLoaded: number | undefined;
  let first: number | undefined;
  let t10: number | undefined;
  while (Date.now() - started < TIMEOUT_MS) {
    if (tableLoaded === undefined) {
      // The changelog topic is created when the query starts.
      changelog ??= (await probe.listTopics()).find((t) => t.startsWith(changelogPrefix));
      if (changelog !== undefined && (await topicTotal(probe, changelog)) >= tableRows)
        tableLoaded = Date.now();
    }
    const n = await topicTotal(admin, output);
    const now = Date.now();
    if (first === undefined && n > 0) first = now;
    if (t10 === undefined && n >= expected / 10) t10 = now;
    if (n >= expected) return { first: first ?? now, t10: t10 ?? now, t100: now, tableLoaded, changelog };
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${output} did not reach ${expected} records in ${TIMEOUT_MS} ms`);
}

type JoinRun = Progress & { start: number; tableLoaded: number | undefined; changelogRecords: number };
type StatelessRun = Progress & { start: number };

export async function run(ctx: BenchContext): Promise<BenchResult> {
  const records = ctx.number('records', 100_000);
  const contacts = ctx.number('contacts', 10_000);
  const warmup = ctx.number('warmup', 30_000);
  const partitions = ctx.number('partitions', 3);
  const config = testConfig;
  ctx.say('stack up');
  await createStack(config.stack, PROJECT_ROOT, () => undefined).up(['kafka', 'registry', 'postgres']);
  const kafka = createKafka({ brokers: config.kafka.brokers, clientId: 'bench-ksql-join' });
  const admin = kafka.admin();
  await admin.connect();
  const tag = Date.now().toString(36);
  const messagesTopic = `bench.join.messages.${tag}`;
  const warmTopic = `bench.join.warm.${tag}`;
  const contactsTopic = `bench.join.contacts.${tag}`;
  const serviceId = `bench_join_${tag}_${randomUUID().slice(0, 4)}_`;
  const outputs: string[] = [];
  const output = (what: string): string => {
    const topic = `bench.join.${what}.${tag}`;
    outputs.push(topic);
    return topic;
  };
  const runs = ['warm.enriched', 'warm.plain', 'enriched.1', 'plain.1', 'plain.2', 'enriched.2'].map(output);
  const topics = [messagesTopic, warmTopic, contactsTopic, ...outputs];
  await createTopicsReady(
    admin,
    topics.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })),
  );
  let runtime: KsqlRuntime | undefined;
  try {
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    ctx.say(
      `producing ${contacts} contacts to ${contactsTopic}, ${records} messages to ${messagesTopic}, ${warmup} to warm up`,
    );
    await produceRecords(producer, contactsTopic, contacts, (i) => ({
      key: `contact-${i}`,
      value: JSON.stringify({
        NAME: `Contact ${i}`,
        TIER: i % 10 === 0 ? 'gold' : 'standard',
        REGION: ['eu', 'us', 'apac'][i % 3],
      }),
    }));
    const message = (n: number) => ({
      key: `contact-${n % contacts}`,
      value: JSON.stringify({
        CHANNEL: n % 2 === 0 ? 'email' : 'spam',
        SUBJECT: `order ${n} has not arrived`,
        PRIORITY: n % 5,
      }),
    });
    await produceRecords(producer, messagesTopic, records, message);
    await produceRecords(producer, warmTopic, warmup, message);
    await producer.disconnect();

    const ksql = createKsqlRuntime(
      { brokers: config.kafka.brokers, registryUrl: config.registry.url, serviceId, replicas: 1 },
      pino({ level: 'silent' }),
    );
    runtime = ksql;
    await ksql.start();
    await ksql.execute(`
      CREATE STREAM MESSAGES (K STRING KEY, CHANNEL STRING, SUBJECT STRING, PRIORITY INT)
        WITH (KAFKA_TOPIC='${messagesTopic}', VALUE_FORMAT='JSON');
      CREATE STREAM WARM (K STRING KEY, CHANNEL STRING, SUBJECT STRING, PRIORITY INT)
        WITH (KAFKA_TOPIC='${warmTopic}', VALUE_FORMAT='JSON');
      CREATE TABLE CONTACTS (K STRING PRIMARY KEY, NAME STRING, TIER STRING, REGION STRING)
        WITH (KAFKA_TOPIC='${contactsTopic}', VALUE_FORMAT='JSON');`);
    const earliest = { properties: { 'auto.offset.reset': 'earliest' } };
    let sinks = 0;
    /** Runs a CSAS until `expected` outputs, then terminates it (its consumer would keep polling). */
    const csas = async <T>(select: string, sink: string, measure: () => Promise<T>): Promise<T> => {
      await ksql.execute(
        `CREATE STREAM SINK_${++sinks} WITH (KAFKA_TOPIC='${sink}') AS ${select} EMIT CHANGES;`,
        earliest,
      );
      const result = await measure();
      await ksql.execute(`TERMINATE ${queryId(ksql, sink)};`);
      return result;
    };
    // Half the messages pass the filter, in both queries.
    const joinQuery = async (stream: string, sink: string, count: number): Promise<JoinRun> => {
      const start = Date.now();
      return csas(
        `SELECT M.K AS K, UCASE(M.CHANNEL) AS CHANNEL, UCASE(M.SUBJECT) AS SUBJECT, M.PRIORITY * 10 AS SCORE, C.NAME AS NAME, C.TIER AS TIER FROM ${stream} M LEFT JOIN CONTACTS C ON M.K = C.K WHERE M.CHANNEL <> 'spam'`,
        sink,
        async () => {
          const prefix = `_confluent-ksql-${serviceId}query_${queryId(ksql, sink)}-`;
          // The changelog is deleted when the query is terminated: it is watched with an admin client
          // of its own, so the one that watches everything else never holds a deleted topic.
          const probe = kafka.admin();
          await probe.connect();
          try {
            const done = await joinProgress(admin, probe, prefix, contacts, sink, Math.ceil(count / 2));
            const changelogRecords =
              done.changelog === undefined ? 0 : await topicTotal(probe, done.changelog);
            return { ...done, start, changelogRecords };
          } finally {
            await probe.disconnect();
          }
        },
      );
    };
    const statelessQuery = async (stream: string, sink: string, count: number): Promise<StatelessRun> => {
      const start = Date.now();
      return csas(
        `SELECT K, UCASE(CHANNEL) AS CHANNEL, UCASE(SUBJECT) AS SUBJECT, PRIORITY * 10 AS SCORE FROM ${stream} WHERE CHANNEL <> 'spam'`,
        sink,
        async () => ({ ...(await progress(admin, sink, Math.ceil(count / 2), TIMEOUT_MS)), start }),
      );
    };
    const [warmJoinOut, warmPlainOut, joinOut1, plainOut1, plainOut2, joinOut2] = runs as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];

    ctx.say('warm-up: both queries once over the warm-up messages (not measured)');
    await joinQuery('WARM', warmJoinOut, warmup);
    await statelessQuery('WARM', warmPlainOut, warmup);
    ctx.say('measured: join, stateless, stateless, join');
    const join1 = await joinQuery('MESSAGES', joinOut1, records);
    const plain1 = await statelessQuery('MESSAGES', plainOut1, records);
    const plain2 = await statelessQuery('MESSAGES', plainOut2, records);
    const join2 = await joinQuery('MESSAGES', joinOut2, records);

    ctx.say('checking that every join output found its contact');
    const expected = Math.ceil(records / 2);
    for (const [i, topic] of [joinOut1, joinOut2].entries()) {
      const unjoined = await countUnjoined(kafka, admin, topic, expected, `bench-join-check-${i}-${tag}`);
      if (unjoined !== 0) {
        throw new Error(
          `${unjoined} of ${expected} join outputs lack the contact's name: the table was not loaded first`,
        );
      }
    }

    // End to end, from the CREATE ... AS SELECT to the last output: start-up, the table load and its
    // changelog writes included.
    const endToEnd = (r: { start: number; t100: number }): number => perSecond(records, r.start, r.t100);
    const steady = (r: Progress): number => perSecond(0.9 * records, r.t10, r.t100);
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    const joinRates = [join1, join2].map(endToEnd);
    const statelessRates = [plain1, plain2].map(endToEnd);
    const joinRate = mean(joinRates);
    const statelessRate = mean(statelessRates);
    const joinSteady = mean([join1, join2].map(steady));
    const statelessSteady = mean([plain1, plain2].map(steady));
    const ratio = joinRate / statelessRate;
    const loaded = [join1, join2].map((r) =>
      r.tableLoaded === undefined ? undefined : r.tableLoaded - r.start,
    );
    const totals = (rs: { start: number; t100: number }[]): number[] => rs.map((r) => r.t100 - r.start);
    const list = (xs: (number | undefined)[]): string => xs.map((x) => x?.toFixed(0) ?? '?').join(', ');
    ctx.say(
      `join CSAS: ${joinRate.toFixed(0)} messages/s end to end (runs ${list(joinRates)}: all ${records} in ${list(totals([join1, join2]))} ms from the statement; table of ${contacts} rows loaded and ${join1.changelogRecords} changelog records written after ${list(loaded)} ms); steady state ${joinSteady.toFixed(0)}/s`,
    );
    ctx.say(
      `stateless CSAS: ${statelessRate.toFixed(0)} messages/s end to end (runs ${list(statelessRates)}: all ${records} in ${list(totals([plain1, plain2]))} ms from the statement); steady state ${statelessSteady.toFixed(0)}/s`,
    );
    ctx.say(
      `ratio: ${ratio.toFixed(2)} (target ≥ 0.5); steady-state ratio ${(joinSteady / statelessSteady).toFixed(2)}`,
    );
    return {
      name: 'ksql-join',
      unit: 'records/s',
      value: Math.round(joinRate),
      baseline: 'stateless CSAS (projection + filter) over the same stream, same run and broker',
      baseline_value: Math.round(statelessRate),
      ratio: Number(ratio.toFixed(3)),
      value_runs: joinRates.map(Math.round),
      baseline_runs: statelessRates.map(Math.round),
      steady_state_value: Math.round(joinSteady),
      steady_state_baseline_value: Math.round(statelessSteady),
      steady_state_ratio: Number((joinSteady / statelessSteady).toFixed(3)),
      table_loaded_ms: loaded,
      changelog_records: join1.changelogRecords,
      records,
      contacts,
      warmup,
      partitions,
      join_total_ms: totals([join1, join2]),
      baseline_total_ms: totals([plain1, plain2]),
    };
  } finally {
    await runtime?.stop().catch(() => undefined);
    await cleanUp(kafka, topics, serviceId);
    await admin.disconnect().catch(() => undefined);
  }
}

/** Reads the join's outputs back and counts those without the contact's name. */
async function countUnjoined(
  kafka: ReturnType<typeof createKafka>,
  admin: Admin,
  topic: string,
  expected: number,
  groupId: string,
): Promise<number> {
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
  let seen = 0;
  let unjoined = 0;
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`read ${seen} of ${expected} join outputs in ${TIMEOUT_MS} ms`));
      }, TIMEOUT_MS);
      consumer
        .run({
          eachBatch: ({ batch }) => {
            for (const m of batch.messages) {
              const v = JSON.parse(m.value?.toString() ?? 'null') as { NAME?: unknown } | null;
              if (typeof v?.NAME !== 'string') unjoined++;
              seen++;
            }
            if (seen >= expected) {
              clearTimeout(timer);
              resolve();
            }
            return Promise.resolve();
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await admin.deleteGroups([groupId]).catch(() => undefined);
  }
  return unjoined;
}
