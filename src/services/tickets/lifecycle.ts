/**
 * The ticket lifecycle as an explicit table of allowed transitions (CONVENTIONS item 10), pure.
 *
 *   NEW ──▶ OPEN ◀──▶ PENDING          OPEN/PENDING ──▶ SOLVED ──▶ CLOSED
 *    │        ▲                          SOLVED ──▶ OPEN (reopen: the customer wrote again, or an agent)
 *    └────────┴──▶ PENDING, SOLVED      CLOSED is final: a new message opens a new ticket.
 */
export const TICKET_STATUSES = ['NEW', 'OPEN', 'PENDING', 'SOLVED', 'CLOSED'] as const;
export type TicketStatus = (typeof TICKET_STATUSES)[number];

export const TRANSITIONS: Readonly<Record<TicketStatus, readonly TicketStatus[]>> = {
  NEW: ['OPEN', 'PENDING', 'SOLVED'],
  OPEN: ['PENDING', 'SOLVED'],
  PENDING: ['OPEN', 'SOLVED'],
  SOLVED: ['OPEN', 'CLOSED'],
  CLOSED: [],
};

export function isTicketStatus(value: unknown): value is TicketStatus {
  return typeof value === 'string' && (TICKET_STATUSES as readonly string[]).includes(value);
}

export function canTransition(from: TicketStatus, to: TicketStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/**
 * What a new customer message does to the status of the ticket it lands on: a waiting (PENDING) or
 * SOLVED ticket comes back to OPEN; NEW and OPEN stay as they are. CLOSED tickets never get messages.
 */
export function statusAfterCustomerMessage(current: TicketStatus): TicketStatus {
  return current === 'PENDING' || current === 'SOLVED' ? 'OPEN' : current;
}

/** A ticket that can still receive messages (CLOSED ones cannot). */
export function acceptsMessages(status: TicketStatus): boolean {
  return status !== 'CLOSED';
}
