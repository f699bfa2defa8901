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
