/**
 * Smoke tests proving kafkajs 2.2.4 works with the pinned Kafka broker (4.x removed old protocol
 * versions, KIP-896): group consumption with committed offsets, the idempotent producer,
 * transactions with sendOffsets (commit and abort, read_committed), admin topics/configs and ACLs.
 */
import type { Admin } from 'kafkajs';
import {
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  ConfigResourceTypes,
  ResourcePatternTypes,
} from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testKafka, uniqueName } from '../../support/env.ts';
import {
  consumeUntil,
  createTestTopic,
  deleteTestTopics,
  groupConsumer,
  trackTopic,
} from '../../support/kafka.ts';
import { createTopicsReady } from '../../../src/kafka/admin.ts';

const kafka = testKafka('smoke-kafka');
let admin: Admin;

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
});

afterAll(async () => {
  await deleteTestTopics(admin);
  await admin.disconnect();
});

describe('kafkajs against the local broker', () => {
  it('produces and consumes in a consumer group, and commits offsets', async () => {
    const topic = await createTestTopic(admin, 'group', 3);
    const groupId = uniqueName('group');
    const producer = kafka.producer();
    await producer.connect();
    const values = Array.from({ length: 30 }, (_, i) => `m${i}`);
    await producer.send({
      topic,
      acks: -1,
      messages: values.map((v, i) => ({ key: `k${i % 5}`, value: v })),
    });
    await producer.disconnect();

    // At least once: a rebalance right after the join (the topic is new) may deliver records again
    // (CI saw it once); every record arrives, and the committed offsets end at the last one.
    const received = await consumeUntil(groupConsumer(kafka, groupId), topic, values.length, {
      identity: (r) => r.message.value?.toString() ?? '',
    });
    expect([...new Set(received.map((r) => r.message.value?.toString()))].sort()).toEqual([...values].sort());
    // Records with the same key land on one partition (the Java-compatible default partitioner).
    const partitionsOfK0 = new Set(
      received.filter((r) => r.message.key?.toString() === 'k0').map((r) => r.partition),
    );
    expect(partitionsOfK0.size).toBe(1);

    const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
    const committed = offsets[0]?.partitions.reduce((sum, p) => sum + Number(p.offset), 0);
    expect(committed).toBe(values.length);
  });

  it('an idempotent producer writes each record once', async () => {
    const topic = await createTestTopic(admin, 'idempotent');
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    for (let batch = 0; batch < 5; batch++) {
      await producer.send({
        topic,
        acks: -1,
        messages: Array.from({ length: 20 }, (_, i) => ({ key: 'same', value: `b${batch}-${i}` })),
      });
    }
    await producer.disconnect();
    const received = await consumeUntil(groupConsumer(kafka, uniqueName('idem')), topic, 100, {
      settleMs: 500,
    });
    const values = received.map((r) => r.message.value?.toString());
    expect(values).toHaveLength(100);
    expect(new Set(values).size).toBe(100);
    // In order, per key.
    expect(values[0]).toBe('b0-0');
    expect(values[99]).toBe('b4-19');
  });

  it('commits a transaction with sendOffsets and hides an aborted one from read_committed consumers', async () => {
    const input = await createTestTopic(admin, 'tx-in');
    const output = await createTestTopic(admin, 'tx-out');
    const groupId = uniqueName('tx-group');

    const plain = kafka.producer();
    await plain.connect();
    await plain.send({ topic: input, messages: [{ value: 'in-0' }, { value: 'in-1' }] });
    await plain.disconnect();

    const producer = kafka.producer({
      transactionalId: uniqueName('tx'),
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();

    const committedTx = await producer.transaction();
    await committedTx.send({ topic: output, messages: [{ value: 'committed-a' }, { value: 'committed-b' }] });
    // Consume→produce→commit: the input offset commits atomically with the output records.
    await committedTx.sendOffsets({
      consumerGroupId: groupId,
      topics: [{ topic: input, partitions: [{ partition: 0, offset: '2' }] }],
    });
    await committedTx.commit();

    const abortedTx = await producer.transaction();
    await abortedTx.send({ topic: output, messages: [{ value: 'aborted-c' }] });
    await abortedTx.abort();

    const lastTx = await producer.transaction();
    await lastTx.send({ topic: output, messages: [{ value: 'committed-d' }] });
    await lastTx.commit();
    await producer.disconnect();

    const committedView = await consumeUntil(groupConsumer(kafka, uniqueName('rc')), output, 3, {
      settleMs: 500,
    });
    expect(committedView.map((r) => r.message.value?.toString())).toEqual([
      'committed-a',
      'committed-b',
      'committed-d',
    ]);

    // A read_uncommitted consumer does see the aborted record: the test above is not vacuous.
    const uncommittedView = await consumeUntil(groupConsumer(kafka, uniqueName('ru'), true), output, 4, {
      settleMs: 500,
    });
    expect(uncommittedView.map((r) => r.message.value?.toString())).toContain('aborted-c');

    const offsets = await admin.fetchOffsets({ groupId, topics: [input] });
    expect(offsets[0]?.partitions[0]?.offset).toBe('2');
  });

  it('creates topics and describes their configs', async () => {
    const topic = trackTopic(uniqueName('admin'));
    await createTopicsReady(admin, [
      {
        topic,
        numPartitions: 2,
        replicationFactor: 1,
        configEntries: [
          { name: 'cleanup.policy', value: 'compact' },
          { name: 'retention.ms', value: '86400000' },
        ],
      },
    ]);
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(metadata.topics[0]?.partitions).toHaveLength(2);
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [
        { type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['cleanup.policy', 'retention.ms'] },
      ],
    });
    const entries = Object.fromEntries(
      (described.resources[0]?.configEntries ?? []).map((e) => [e.configName, e.configValue]),
    );
    expect(entries).toEqual({ 'cleanup.policy': 'compact', 'retention.ms': '86400000' });
    await admin.deleteTopics({ topics: [topic] });
  });

  it('creates, describes and deletes ACLs (the broker runs StandardAuthorizer)', async () => {
    const topic = uniqueName('acl');
    const principal = `User:${uniqueName('svc')}`;
    const acl = {
      resourceType: AclResourceTypes.TOPIC,
      resourceName: topic,
      resourcePatternType: ResourcePatternTypes.LITERAL,
      principal,
      host: '*',
      operation: AclOperationTypes.READ,
      permissionType: AclPermissionTypes.ALLOW,
    };
    await admin.createAcls({ acl: [acl] });
    // ACL creation is applied through the KRaft metadata log; poll until it is visible.
    let found = 0;
    for (let i = 0; i < 50 && found === 0; i++) {
      const described = await admin.describeAcls({
        resourceType: AclResourceTypes.TOPIC,
        resourceName: topic,
        resourcePatternType: ResourcePatternTypes.LITERAL,
        principal,
        host: '*',
        operation: AclOperationTypes.ANY,
        permissionType: AclPermissionTypes.ANY,
      });
      found = described.resources.flatMap((r) => r.acls).filter((a) => a.principal === principal).length;
      if (found === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(found).toBe(1);
    const deleted = await admin.deleteAcls({ filters: [acl] });
    expect(deleted.filterResponses[0]?.matchingAcls).toHaveLength(1);
  });
});
