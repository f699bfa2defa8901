// Request bodies for the intake benchmark: a realistic single-message WhatsApp webhook, signed,
// unique per request (fresh wamid), shaped like Meta's documentation.
import { signedWhatsAppText } from '../test/support/payloads.ts';

let n = 0;
export function next(): { body: string; headers: Record<string, string> } {
  n++;
  const { body, headers } = signedWhatsAppText(
    `15550${String(n % 100_000).padStart(6, '0')}`,
    `Hello, I need help with order ${n}`,
  );
  return { body, headers };
}
