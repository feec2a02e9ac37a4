import { forEachCall, type GraphIndex, nodeCard, resolveRef } from '@bank/graph';
import { InputError } from '@bank/plugin-kit';
import type { TrafficService } from './service.ts';
import { WINDOWS } from './traffic.ts';

export type DriftStatus = 'declared-only' | 'observed-only' | 'both';

export interface DriftFinding {
  from: string;
  to: string;
  status: DriftStatus;
  /** The caller's squad: who should fix the descriptor (or the call). */
  owner: string | null;
  /** observed-only: first seen; declared-only: since when the portal has watched without seeing it. */
  since: string | null;
  /** Declared, the caller sends spans, yet no call seen for the whole retention window. */
  possiblyDead: boolean;
  requests: number;
  lastSeen: string | null;
}

export interface DriftResult {
  /** When the portal began receiving traces (null: never). */
  observingSince: string | null;
  retentionDays: number;
  summary: Record<DriftStatus, number> & { possiblyDead: number };
  findings: DriftFinding[];
}

export interface DriftOptions {
  /** Only edges whose caller this squad owns (a group ref or short name). */
  team?: string;
  /** Only edges this service calls or is called by (a ref or short name): one entity's drift. */
  entity?: string;
  /** Which statuses to list (default: declared-only and observed-only). */
  status?: DriftStatus[];
}

/**
 * Declared vs observed call edges: every call edge of the graph is declared-only, observed-only or both
 * (the graph keeps each edge's sources). An undeclared call is a gap in the descriptors (or a call that
 * should not happen); a declared edge never seen may be dead, but only an instrumented caller, watched for
 * the whole retention window, makes that worth saying. Never auto-deleted: only flagged.
 */
export function drift(index: GraphIndex, traffic: TrafficService, opts: DriftOptions = {}): DriftResult {
  const now = traffic.now();
  const retentionMs = WINDOWS['1d'] * traffic.state.limits.keep['1d'];
  const observingSince = traffic.observingSinceMs;
  const watchedLongEnough = observingSince !== undefined && observingSince <= now - retentionMs;
  const instrumented = new Set<string>();
  for (const s of traffic.state.services.values()) instrumented.add(traffic.resolve.ref(s.name));
  const team = opts.team
    ? resolveRef(index, opts.team, { fn: 'drift', accept: (ref) => ref.startsWith('group:') })
    : undefined;
  const entity = opts.entity ? resolveRef(index, opts.entity, { fn: 'drift', field: 'entity' }) : undefined;
  const wanted = new Set<DriftStatus>(opts.status ?? ['declared-only', 'observed-only']);
  for (const s of wanted)
    if (!['declared-only', 'observed-only', 'both'].includes(s))
      throw new InputError(`drift: status "${s}" is not one of declared-only, observed-only, both`);

  const summary = { 'declared-only': 0, 'observed-only': 0, both: 0, possiblyDead: 0 };
  const findings: DriftFinding[] = [];
  forEachCall(index, (a, from, to) => {
    const declared = a.sources.includes('declared');
    const observed = a.sources.includes('observed');
    if (!declared && !observed) return;
    const status: DriftStatus = declared && observed ? 'both' : declared ? 'declared-only' : 'observed-only';
    const owner = nodeCard(index, from).owner;
    if (team && owner !== team) return;
    if (entity && from !== entity && to !== entity) return;
    const lastSeenMs = a.observed?.lastSeen ? Date.parse(a.observed.lastSeen) : undefined;
    const possiblyDead =
      declared &&
      watchedLongEnough &&
      instrumented.has(from) &&
      (lastSeenMs === undefined || lastSeenMs < now - retentionMs);
    summary[status]++;
    if (possiblyDead) summary.possiblyDead++;
    if (!wanted.has(status) && !possiblyDead) return;
    findings.push({
      from,
      to,
      status,
      owner,
      since:
        status === 'observed-only'
          ? (a.observed?.firstSeen ?? null)
          : status === 'declared-only' && observingSince !== undefined
            ? new Date(observingSince).toISOString()
            : (a.observed?.firstSeen ?? null),
      possiblyDead,
      requests: a.observed?.count ?? 0,
      lastSeen: a.observed?.lastSeen ?? null,
    });
  });
  const order: Record<DriftStatus, number> = { 'observed-only': 0, 'declared-only': 1, both: 2 };
  findings.sort(
    (x, y) =>
      order[x.status] - order[y.status] ||
      Number(y.possiblyDead) - Number(x.possiblyDead) ||
      (x.owner ?? '').localeCompare(y.owner ?? '') ||
      x.from.localeCompare(y.from) ||
      x.to.localeCompare(y.to),
  );
  return {
    observingSince: observingSince === undefined ? null : new Date(observingSince).toISOString(),
    retentionDays: traffic.state.limits.keep['1d'],
    summary,
    findings,
  };
}
