/**
 * Power of two choices (P2C): pick two distinct random endpoints, prefer the better status
 * (Open over Busy), then the lower load; on a tie take the second. Load is least-loaded (requests in
 * flight) or peak-EWMA (an RTT estimate that jumps to peaks and decays over `decayTimeMs`, times
 * in-flight + 1).
 */
import type { Status } from './accrual.ts';

export type BalancerKind = 'p2c' | 'ewma';

export interface Node {
  readonly status: Status;
  load(): number;
}

/** Peak-EWMA cost of one endpoint. */
export class PeakEwma {
  private cost = 0;
  private stamp: number;
  /** Unknown hosts with requests in flight are this expensive, so they are tried but not piled on. */
  static readonly PENALTY = Number.MAX_SAFE_INTEGER / 65536;

  constructor(
    private readonly decayMs = 10_000,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.stamp = this.now();
  }

  /** Records a round-trip time in ms. */
  observe(rttMs: number): void {
    const t = this.now();
    const w = Math.exp(-Math.max(0, t - this.stamp) / this.decayMs);
    this.stamp = t;
    this.cost = rttMs > this.cost ? rttMs : this.cost * w + rttMs * (1 - w);
  }

  load(pending: number): number {
    this.observe(0);
    if (this.cost === 0 && pending > 0) return PeakEwma.PENALTY + pending;
    return this.cost * (pending + 1);
  }
}

/** Maximum re-picks when the chosen endpoint is Busy (Finagle's maxEffort). */
export const MAX_EFFORT = 5;

/**
 * Picks one of `nodes` (skipping `exclude` when others are left), or undefined if there are none.
 * Returns a Busy node only when every candidate is Busy; callers treat that as an open circuit.
 */
export function pickP2C<N extends Node>(
  nodes: readonly N[],
  exclude?: readonly N[],
  random: () => number = Math.random,
): N | undefined {
  let candidates = nodes;
  if (exclude && exclude.length > 0) {
    const rest = nodes.filter((n) => !exclude.includes(n));
    if (rest.length > 0) candidates = rest;
  }
  const n = candidates.length;
  if (n === 0) return undefined;
  if (n === 1) return candidates[0];
  for (let effort = 0; effort < MAX_EFFORT; effort++) {
    const a = Math.floor(random() * n);
    let b = Math.floor(random() * (n - 1));
    if (b >= a) b++;
    const na = candidates[a];
    const nb = candidates[b];
    const sa = na.status;
    const sb = nb.status;
    let pick: N;
    if (sa !== sb) pick = sa === 'open' ? na : nb;
    else pick = na.load() < nb.load() ? na : nb;
    if (pick.status === 'open') return pick;
  }
  // Every pick was Busy: fall back to the least-loaded Open node, if there is one.
  let best: N | undefined;
  for (const c of candidates) if (c.status === 'open' && (!best || c.load() < best.load())) best = c;
  return best ?? candidates[0];
}
