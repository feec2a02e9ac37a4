import type {
  CyclesResult,
  ImpactResult,
  NeighbourhoodResult,
  NodeCard,
  OwnershipResult,
  PathsResult,
} from '@bank/graph';
import { formatTable, shortRef } from '@bank/plugin-kit';

const team = (ref: string | null) => (ref ? shortRef(ref).replace(/^group:/, '') : '—');
const tier = (t: number | null) => (t === null ? 'tier ?' : `tier ${t}`);

function hopLine(i: number, hop: NodeCard, width: number, note?: string): string {
  const owner = hop.owner
    ? `${team(hop.owner)}${hop.collective ? ` (${team(hop.collective)})` : ''}`
    : 'no owner';
  const parts = [
    `${String(i + 1).padStart(2)}  ${shortRef(hop.ref).padEnd(width)}`,
    tier(hop.tier),
    `owner ${owner}`,
    `on-call ${hop.oncall ?? '—'}`,
  ];
  if (hop.missing) parts.push('(not in the catalogue)');
  // Where to go at 3 a.m.: the runbook and the channel, under the hop.
  const where = [hop.runbook ? `runbook ${hop.runbook}` : '', hop.slack ? `slack ${hop.slack}` : ''].filter(
    Boolean,
  );
  const under = [where.join('  '), note ?? ''].filter(Boolean).map((l) => `\n${' '.repeat(6)}${l}`);
  return `${parts.join('  ')}${under.join('')}`;
}

/** A path drawn hop by hop: name, tier, owner squad (collective), on-call; the edge kinds between hops. */
export function renderPaths(r: PathsResult, hopNotes?: ReadonlyMap<string, string>): string {
  const lines = [
    `${shortRef(r.from)} → ${shortRef(r.to)}: ${r.paths.length} path${r.paths.length === 1 ? '' : 's'} (k=${r.k}, maxHops=${r.maxHops}, via ${r.via})`,
  ];
  if (r.unreachable) {
    const u = r.unreachable;
    lines.push(`no path: ${u.message}`);
    lines.push(
      `  ${shortRef(r.from)} reaches ${u.fromReaches.count}${u.fromReaches.sample.length ? `: ${u.fromReaches.sample.map(shortRef).join(', ')}${u.fromReaches.count > u.fromReaches.sample.length ? ', …' : ''}` : ''}`,
    );
    lines.push(
      `  ${u.reachesTo.count} reach ${shortRef(r.to)}${u.reachesTo.sample.length ? `: ${u.reachesTo.sample.map(shortRef).join(', ')}${u.reachesTo.count > u.reachesTo.sample.length ? ', …' : ''}` : ''}`,
    );
  }
  r.paths.forEach((p, n) => {
    const width = Math.max(...p.hops.map((h) => shortRef(h.ref).length));
    lines.push('', `path ${n + 1} · ${p.length} hop${p.length === 1 ? '' : 's'}`);
    p.hops.forEach((hop, i) => {
      lines.push(hopLine(i, hop, width, hopNotes?.get(hop.ref)));
      const edge = p.edges[i];
      if (edge) {
        const how =
          [...edge.kinds, ...(edge.apis ?? []).map((a) => `via ${shortRef(a)}`)].join(', ') || 'observed';
        lines.push(`      ↓ ${how}${edge.sources.includes('observed') ? ' [observed]' : ''}`);
      }
    });
  });
  return `${lines.join('\n')}\n`;
}

/** How many rows the summary shows per table before "… and N more". */
const SUMMARY_ROWS = 10;

/**
 * The blast radius, summary first (what a responder needs at a glance: totals by tier, the collectives and
 * squads hit, the nearest tier-1 services); `all` adds every dependent, one line each.
 */
export function renderImpact(r: ImpactResult, opts: { all?: boolean } = {}): string {
  const tier1 = r.dependents.filter((d) => d.tier === 1).length;
  const lines = [
    `blast radius of ${shortRef(r.ref)}: ${r.total} dependent${r.total === 1 ? '' : 's'}, ${tier1} tier-1${r.depth ? ` (depth ≤ ${r.depth})` : ''}`,
  ];
  if (r.origins.length > 1 || r.origins[0] !== r.ref)
    lines.push(`starting from ${r.origins.map(shortRef).join(', ')}`);
  if (r.total === 0) return `${lines.join('\n')}\n`;
  const byTier = new Map<string, number>();
  for (const d of r.dependents)
    byTier.set(String(d.tier ?? '?'), (byTier.get(String(d.tier ?? '?')) ?? 0) + 1);
  lines.push(
    `by tier: ${[...byTier]
      .sort(([a], [b]) => (a === '?' ? 1 : b === '?' ? -1 : a.localeCompare(b)))
      .map(([t, n]) => `${t === '?' ? 'no tier' : `tier ${t}`} ${n}`)
      .join(', ')}`,
    `teams: ${r.byCollective.length} collective${r.byCollective.length === 1 ? '' : 's'}, ${r.bySquad.length} squad${r.bySquad.length === 1 ? '' : 's'}`,
  );
  const cut = <T>(rows: T[]) => (opts.all ? rows : rows.slice(0, SUMMARY_ROWS));
  const more = (n: number, what: string) =>
    !opts.all && n > SUMMARY_ROWS ? [`… and ${n - SUMMARY_ROWS} more ${what}`] : [];
  lines.push(
    '',
    formatTable(
      ['collective', 'services', 'tier-1'],
      cut(r.byCollective).map((s) => [team(s.ref), s.services, s.byTier['1'] ?? 0]),
    ),
    ...more(r.byCollective.length, 'collectives'),
    '',
    formatTable(
      ['squad', 'services', 'tier-1', 'nearest'],
      cut(r.bySquad).map((s) => [team(s.ref), s.services, s.byTier['1'] ?? 0, s.nearest]),
    ),
    ...more(r.bySquad.length, 'squads'),
    '',
  );
  const row = (d: ImpactResult['dependents'][number]) => [
    d.tier ?? '?',
    d.depth,
    shortRef(d.ref),
    team(d.owner),
    d.oncall ?? '—',
    shortRef(d.through),
  ];
  const header = ['tier', 'depth', 'service', 'owner', 'on-call', 'through'];
  if (opts.all) {
    lines.push(`every dependent (${r.total}), tier 1 first:`, formatTable(header, r.dependents.map(row)));
  } else {
    // Dependents are tier 1 first, then nearest first: the head of the list is what to call first.
    const shown = r.dependents.slice(0, SUMMARY_ROWS);
    lines.push(
      `${tier1 ? 'nearest tier-1 dependents' : 'nearest dependents'} (${shown.length} of ${r.total}):`,
      formatTable(header, shown.map(row)),
    );
    if (r.total > shown.length)
      lines.push('', `every dependent: portal impact ${shortRef(r.ref)} --all (${r.total} lines), or --json`);
  }
  return `${lines.join('\n')}\n`;
}

export function renderCycles(r: CyclesResult): string {
  if (r.cycles.length === 0 && r.selfLoops.length === 0) return `no call cycles (via ${r.via})\n`;
  const lines = [`${r.cycles.length} call cycle${r.cycles.length === 1 ? '' : 's'} (via ${r.via})`];
  r.cycles.forEach((c, i) => {
    lines.push(
      `${i + 1}. ${c.size} services: ${c.members.map((m) => `${shortRef(m.ref)} (${team(m.owner)})`).join(', ')}`,
    );
  });
  if (r.selfLoops.length > 0) lines.push(`calling themselves: ${r.selfLoops.map(shortRef).join(', ')}`);
  return `${lines.join('\n')}\n`;
}

export function renderOwnership(r: OwnershipResult): string {
  const tiers = (b: Record<string, number>) => ['1', '2', '3', '4'].map((t) => b[t] ?? 0).join('/');
  const lines = [
    formatTable(
      ['collective', 'squads', 'services', 'tiers 1/2/3/4', 'people'],
      r.collectives.map((c) => [team(c.ref), c.squads, c.services, tiers(c.byTier), c.members]),
    ),
    '',
    formatTable(
      ['squad', 'collective', 'services', 'tiers 1/2/3/4', 'people'],
      r.squads.map((s) => [team(s.ref), team(s.collective), s.services, tiers(s.byTier), s.members]),
    ),
    '',
    `orphans: ${r.orphans.length}`,
  ];
  for (const o of r.orphans)
    lines.push(`  ${shortRef(o.ref)}  ${tier(o.tier)}  ${o.reason}${o.owner ? ` (${team(o.owner)})` : ''}`);
  lines.push('', `tier inversions (tier 1 calling tier 3/4): ${r.tierInversions.length}`);
  for (const t of r.tierInversions)
    lines.push(`  ${shortRef(t.from)} (tier 1) → ${shortRef(t.to)} (tier ${t.toTier}, ${team(t.toOwner)})`);
  lines.push('', 'squad coupling (call edges between squads, top 20):');
  for (const c of r.coupling.slice(0, 20))
    lines.push(`  ${String(c.calls).padStart(4)}  ${team(c.from)} → ${team(c.to)}`);
  return `${lines.join('\n')}\n`;
}

export function renderNeighbourhood(r: NeighbourhoodResult): string {
  const lines = [
    `around ${shortRef(r.ref)} (${r.graph}, depth ${r.depth}, ${r.direction}): ${r.nodes.length} nodes, ${r.edges.length} edges` +
      (r.hiddenNodes || r.hiddenEdges ? `; ${r.hiddenNodes} nodes and ${r.hiddenEdges} edges hidden` : ''),
  ];
  for (const n of r.nodes)
    lines.push(`  ${'  '.repeat(n.distance)}${shortRef(n.ref)}  ${tier(n.tier)}  ${team(n.owner)}`);
  return `${lines.join('\n')}\n`;
}
