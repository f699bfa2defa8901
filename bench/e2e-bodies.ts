// Request bodies for the end-to-end benchmark: signed single-message WhatsApp webhooks from 500
// customers, each text carrying the time its request was due, so the ticket row tells its latency.
import { signedWhatsAppText } from '../test/support/payloads.ts';

export const E2E_MARK = 'e2e-bench';
let n = 0;
export function next(scheduledAtEpochMs: number): { body: string; headers: Record<string, string> } {
  n++;
  const { body, headers } = signedWhatsAppText(
    `1555020${String(n % 500).padStart(4, '0')}`,
    `${E2E_MARK} ${Math.round(scheduledAtEpochMs)} where is order ${n}?`,
  );
  return { body, headers };
}
