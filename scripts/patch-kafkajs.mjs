// Patches kafkajs 2.2.4 (unmaintained since 2023). First, a bug that matters on Node 24:
// RequestQueue.scheduleCheckPendingRequests() computes `throttledUntil - Date.now()` with
// throttledUntil = -1 when the broker never throttled, so after every response it schedules a
// timer with a hugely negative delay. Node 24 prints TimeoutNegativeWarning for it and runs it after
// 1 ms, and the callback schedules the next one: a 1 ms busy loop per broker connection, forever.
// (tulios/kafkajs#1704, #1751; the fix below is the one proposed in PR #1768's review.)
// Without throttling and with nothing pending there is nothing to check: requests waiting on
// in-flight capacity are re-checked when an in-flight request completes.
// Idempotent; fails loudly if kafkajs changed, so a version bump cannot silently drop the fix.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** Apply one textual patch to a kafkajs source file; idempotent; fails loudly if the code changed. */
function patch(relative, marker, before, after, what) {
  let file;
  try {
    file = require.resolve(`kafkajs/${relative}`);
  } catch {
    return; // kafkajs not installed (e.g. a production install without it): nothing to patch
  }
  const source = readFileSync(file, 'utf8');
  if (source.includes(marker)) return;
  if (!source.includes(before)) {
    console.error(
      `patch-kafkajs: ${file} does not contain the expected code; review the patch for this kafkajs version`,
    );
    process.exit(1);
  }
  writeFileSync(file, source.replace(before, after));
  console.log(`patch-kafkajs: applied ${what}`);
}

patch(
  'src/network/requestQueue/index.js',
  '// streamdesk patch: no busy loop',
  `      if (this.pending.length > 0) {
        scheduleAt = scheduleAt > 0 ? scheduleAt : CHECK_PENDING_REQUESTS_INTERVAL
      }
      this.throttleCheckTimeoutId = setTimeout(`,
  `      if (this.pending.length > 0) {
        scheduleAt = scheduleAt > 0 ? scheduleAt : CHECK_PENDING_REQUESTS_INTERVAL
      } else if (scheduleAt <= 0) {
        return // streamdesk patch: no busy loop
      }
      this.throttleCheckTimeoutId = setTimeout(`,
  'the RequestQueue busy-loop fix (kafkajs#1704)',
);

// groupMessagesPerPartition copies the partition's array for every message ([...current, message]):
// quadratic in the messages of one send. With a few thousand messages per send it dominated the CPU
// profile of the ksql engine (31%). Grouping with push is linear and gives the same result.
patch(
  'src/producer/groupMessagesPerPartition.js',
  '// streamdesk patch: linear grouping',
  `  return messages.reduce((result, message) => {
    const partition = partitioner({ topic, partitionMetadata, message })
    const current = result[partition] || []
    return Object.assign(result, { [partition]: [...current, message] })
  }, {})`,
  `  // streamdesk patch: linear grouping
  const result = {}
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message })
    ;(result[partition] || (result[partition] = [])).push(message)
  }
  return result`,
  'linear message grouping per partition',
);

// A topic a client once used and that is deleted afterwards stays in the cluster's targetTopics, so
// every later metadata refresh of that client fails with UNKNOWN_TOPIC_OR_PARTITION (kafkajs#1622,
// #651). The ksql runtime's producer writes state-store changelogs that TERMINATE deletes: from then
// on it could not send anything (it retries forever), and a query started afterwards never wrote a
// record. Admin clients that polled such a topic broke the same way. Now a refresh that fails so asks
// the broker about each target topic, one at a time (a listing of every topic fails too while any
// topic is being created or deleted), forgets those it does not have, and tries once more. Topics
// being added by the call that refreshes are left out, so a topic that does not exist still fails
// to be added as before. (Not only topics the last metadata knew: a topic added while its leader was
// still being elected stays in targetTopics without ever being known, and may be deleted later.)
patch(
  'src/cluster/index.js',
  '// streamdesk patch: forget deleted topics',
  `    this[PRIVATE.REFRESH_METADATA] = sharedPromiseTo(async () => {
      return await this.brokerPool.refreshMetadata(Array.from(this.targetTopics))
    })

    this[PRIVATE.REFRESH_METADATA_IF_NECESSARY] = sharedPromiseTo(async () => {
      return await this.brokerPool.refreshMetadataIfNecessary(Array.from(this.targetTopics))
    })`,
  `    // streamdesk patch: forget deleted topics
    const forgetDeletedTopics = async refresh => {
      try {
        return await refresh()
      } catch (e) {
        if (e.type !== 'UNKNOWN_TOPIC_OR_PARTITION') throw e
        const adding = this.topicsBeingAdded || new Set()
        const candidates = Array.from(this.targetTopics).filter(topic => !adding.has(topic))
        let deleted
        try {
          const broker = await this.brokerPool.findConnectedBroker()
          const gone = await Promise.all(
            candidates.map(topic =>
              broker.metadata([topic]).then(
                () => false,
                error => error.type === 'UNKNOWN_TOPIC_OR_PARTITION'
              )
            )
          )
          deleted = candidates.filter((_, i) => gone[i])
        } catch (_) {
          throw e
        }
        if (deleted.length === 0) throw e
        deleted.forEach(topic => this.targetTopics.delete(topic))
        this.logger.warn('Forgetting deleted topics', { topics: deleted })
        return await refresh()
      }
    }

    this[PRIVATE.REFRESH_METADATA] = sharedPromiseTo(async () => {
      return await forgetDeletedTopics(() =>
        this.brokerPool.refreshMetadata(Array.from(this.targetTopics))
      )
    })

    this[PRIVATE.REFRESH_METADATA_IF_NECESSARY] = sharedPromiseTo(async () => {
      return await forgetDeletedTopics(() =>
        this.brokerPool.refreshMetadataIfNecessary(Array.from(this.targetTopics))
      )
    })`,
  'forgetting deleted topics on metadata refresh (kafkajs#1622)',
);

patch(
  'src/cluster/index.js',
  '// streamdesk patch: topics being added',
  `      if (hasChanged) {
        try {
          await this.refreshMetadata()
        } catch (e) {
          if (
            e.type === 'INVALID_TOPIC_EXCEPTION' ||
            e.type === 'UNKNOWN_TOPIC_OR_PARTITION' ||
            e.type === 'TOPIC_AUTHORIZATION_FAILED'
          ) {
            this.targetTopics = previousTopics
          }

          throw e
        }
      }`,
  `      if (hasChanged) {
        // streamdesk patch: topics being added
        this.topicsBeingAdded = new Set(topics)
        try {
          await this.refreshMetadata()
        } catch (e) {
          if (
            e.type === 'INVALID_TOPIC_EXCEPTION' ||
            e.type === 'UNKNOWN_TOPIC_OR_PARTITION' ||
            e.type === 'TOPIC_AUTHORIZATION_FAILED'
          ) {
            this.targetTopics = previousTopics
          }

          throw e
        } finally {
          this.topicsBeingAdded = undefined
        }
      }`,
  'keeping topics being added out of that (kafkajs#1622)',
);
