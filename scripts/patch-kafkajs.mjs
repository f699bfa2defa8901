// Patches kafkajs 2.2.4 (unmaintained since 2023) for a bug that matters on Node 24:
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
let file;
try {
  file = require.resolve('kafkajs/src/network/requestQueue/index.js');
} catch {
  process.exit(0); // kafkajs not installed (e.g. a production install without it): nothing to patch
}
const marker = '// streamdesk patch: no busy loop';
const before = `      if (this.pending.length > 0) {
        scheduleAt = scheduleAt > 0 ? scheduleAt : CHECK_PENDING_REQUESTS_INTERVAL
      }
      this.throttleCheckTimeoutId = setTimeout(`;
const after = `      if (this.pending.length > 0) {
        scheduleAt = scheduleAt > 0 ? scheduleAt : CHECK_PENDING_REQUESTS_INTERVAL
      } else if (scheduleAt <= 0) {
        return ${marker}
      }
      this.throttleCheckTimeoutId = setTimeout(`;
const source = readFileSync(file, 'utf8');
if (source.includes(marker)) process.exit(0);
if (!source.includes(before)) {
  console.error(
    `patch-kafkajs: ${file} does not contain the expected code; review the patch for this kafkajs version`,
  );
  process.exit(1);
}
writeFileSync(file, source.replace(before, after));
console.log('patch-kafkajs: applied the RequestQueue busy-loop fix (kafkajs#1704)');
