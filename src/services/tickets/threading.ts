/**
 * Which ticket a message belongs to (pure). Email replies follow their thread key (root Message-ID);
 * WhatsApp messages join the contact's latest ticket if it saw a message within the window; a web
 * form opens a new ticket unless it references one (thread key `ticket:<id>`). A CLOSED ticket never
 * takes a message: the message opens a new ticket.
 */
import { acceptsMessages, type TicketStatus } from './lifecycle.ts';

export interface ThreadCandidate {
  readonly ticketId: string;
  readonly status: TicketStatus;
  readonly lastMessageAt: number;
}

export type ThreadDecision =
  { readonly action: 'append'; readonly ticketId: string } | { readonly action: 'create' };

export interface ThreadInput {
  readonly channel: string;
  readonly threadKey: string | null;
  readonly receivedAt: number;
  /** The ticket the thread key names directly (`ticket:<id>`), if any. */
  readonly referenced: ThreadCandidate | undefined;
  /** The most recent ticket with the same thread key, if any. */
  readonly latestInThread: ThreadCandidate | undefined;
  readonly whatsappWindowMs: number;
}

export function referencedTicketId(threadKey: string | null): string | undefined {
  return threadKey?.startsWith('ticket:') === true ? threadKey.slice('ticket:'.length) : undefined;
}

export function decideThread(input: ThreadInput): ThreadDecision {
  if (input.referenced && acceptsMessages(input.referenced.status))
    return { action: 'append', ticketId: input.referenced.ticketId };
  const latest = input.latestInThread;
  if (!latest || !acceptsMessages(latest.status)) return { action: 'create' };
  switch (input.channel) {
    case 'EMAIL':
      return { action: 'append', ticketId: latest.ticketId };
    case 'WHATSAPP':
      return input.receivedAt - latest.lastMessageAt <= input.whatsappWindowMs
        ? { action: 'append', ticketId: latest.ticketId }
        : { action: 'create' };
    default:
      // Web forms (and channels added later) open a new ticket unless they reference one.
      return { action: 'create' };
  }
}
