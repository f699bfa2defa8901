/**
 * SLA targets per priority (pure): first response and resolution, in minutes. A breach is a target
 * whose due time passed before it was met; each breach raises exactly one alert.
 */
export const PRIORITIES = ['URGENT', 'HIGH', 'NORMAL', 'LOW'] as const;
export type Priority = (typeof PRIORITIES)[number];
export type SlaKind = 'FIRST_RESPONSE' | 'RESOLUTION';

export interface SlaTarget {
  readonly firstResponseMinutes: number;
  readonly resolutionMinutes: number;
}

/** Defaults in the range support teams commonly promise; configurable per deployment. */
export const DEFAULT_SLA: Readonly<Record<Priority, SlaTarget>> = {
  URGENT: { firstResponseMinutes: 15, resolutionMinutes: 4 * 60 },
  HIGH: { firstResponseMinutes: 60, resolutionMinutes: 8 * 60 },
  NORMAL: { firstResponseMinutes: 4 * 60, resolutionMinutes: 24 * 60 },
  LOW: { firstResponseMinutes: 8 * 60, resolutionMinutes: 72 * 60 },
};

export function priorityOf(value: string | null | undefined): Priority {
  return (PRIORITIES as readonly string[]).includes(value ?? '') ? (value as Priority) : 'NORMAL';
}

export function dueTimes(
  priority: Priority,
  createdAt: number,
  targets: Readonly<Record<Priority, SlaTarget>> = DEFAULT_SLA,
): Record<SlaKind, number> {
  const t = targets[priority];
  return {
    FIRST_RESPONSE: createdAt + t.firstResponseMinutes * 60_000,
    RESOLUTION: createdAt + t.resolutionMinutes * 60_000,
  };
}

/** The alert id of a breach: deterministic, so the same breach can never be alerted twice. */
export function breachAlertId(ticketId: string, kind: SlaKind): string {
  return `sla:${ticketId}:${kind.toLowerCase()}`;
}

/** Parse "URGENT=15m/4h,HIGH=1h/8h" overrides into targets (minutes). */
export function parseSlaTargets(spec: string): Record<Priority, SlaTarget> {
  const targets: Record<Priority, SlaTarget> = { ...DEFAULT_SLA };
  const minutes = (text: string): number => {
    const m = /^(\d+)(m|h|d)$/.exec(text.trim());
    if (!m?.[1] || !m[2]) throw new Error(`"${text}" is not a duration like 15m, 4h or 2d`);
    return Number(m[1]) * { m: 1, h: 60, d: 1440 }[m[2] as 'm' | 'h' | 'd'];
  };
  for (const part of spec
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [name, times] = part.split('=');
    const [first, resolution] = (times ?? '').split('/');
    if (!PRIORITIES.includes(name as Priority) || first === undefined || resolution === undefined) {
      throw new Error(`"${part}" must look like HIGH=1h/8h (priority=first response/resolution)`);
    }
    targets[name as Priority] = {
      firstResponseMinutes: minutes(first),
      resolutionMinutes: minutes(resolution),
    };
  }
  return targets;
}
