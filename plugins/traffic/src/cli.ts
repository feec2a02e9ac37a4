import type { GraphIndex } from '@bank/graph';
import { toPortalError } from '@bank/plugin-graph';
import { didYouMean, EXIT, formatTable, InputError, NotFoundError, shortRef } from '@bank/plugin-kit';
import type { Command } from 'commander';
import { type DriftResult, type DriftStatus, drift } from './lib/drift.ts';
import type { ObservedEdge, TrafficService } from './lib/service.ts';

export interface TrafficCliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  setExitCode(code: number): void;
}

const processIo: TrafficCliIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  setExitCode: (code) => {
    process.exitCode = code;
  },
};

/** What the commands read: the graph with observed edges merged in, and the stored traffic. */
export type LoadTraffic = () => Promise<{ index: GraphIndex; traffic: TrafficService }>;

/**
 * `portal drift [--team] [--status] [--json]`: declared vs observed call edges, each with the caller's squad
 * (who should fix it) and since when; `portal traffic [--entity] [--json]`: observed edges with their health.
 */
export function registerTrafficCommands(
  program: Command,
  load: LoadTraffic,
  io: TrafficCliIo = processIo,
): void {
  const run =
    <A extends unknown[]>(action: (...args: A) => Promise<void>) =>
    async (...args: A): Promise<void> => {
      try {
        await action(...args);
        io.setExitCode(EXIT.ok);
      } catch (err) {
        const e = toPortalError(err) as Error;
        io.stderr(`portal: ${e.message}\n`);
        const suggestions =
          e instanceof NotFoundError ? (e.details?.suggestions as string[] | undefined) : undefined;
        const hint = didYouMean(e.message, suggestions);
        if (hint) io.stderr(`${hint}\n`);
        io.setExitCode(e instanceof InputError ? EXIT.usage : EXIT.error);
      }
    };

  program
    .command('drift')
    .description(
      'declared vs observed call edges: undeclared calls, declared edges never seen (possibly dead), with the caller’s squad',
    )
    .option('--team <squad>', 'only edges whose caller this squad owns')
    .option('--entity <ref>', 'only edges this service calls or is called by')
    .option('--status <list>', 'declared-only, observed-only, both (comma-separated) or all')
    .option('--json', 'the same JSON as GET /api/graph/drift')
    .action(
      run(async (opts: { team?: string; entity?: string; status?: string; json?: boolean }) => {
        const { index, traffic } = await load();
        const status =
          opts.status === 'all'
            ? (['declared-only', 'observed-only', 'both'] as DriftStatus[])
            : (opts.status?.split(',') as DriftStatus[] | undefined);
        const result = drift(index, traffic, { team: opts.team, entity: opts.entity, status });
        io.stdout(
          opts.json ? `${JSON.stringify(result, null, 2)}\n` : renderDrift(result, opts.status !== undefined),
        );
      }),
    );

  program
    .command('traffic')
    .description('observed call edges (from traces) with requests, error rate and latency per window')
    .option('--entity <ref>', 'only the callers and callees of this service')
    .option('--window <w>', '1m | 1h | 1d', '1h')
    .option('--json', 'the same JSON as GET /api/traffic/edges')
    .action(
      run(async (opts: { entity?: string; window: string; json?: boolean }) => {
        if (!['1m', '1h', '1d'].includes(opts.window))
          throw new InputError(`traffic: --window must be 1m, 1h or 1d (got ${opts.window})`);
        const { index, traffic } = await load();
        let ref: string | undefined;
        if (opts.entity) {
          const { resolveRef } = await import('@bank/graph');
          ref = resolveRef(index, opts.entity, { fn: 'traffic', field: 'entity' });
        }
        const edges = traffic.edges(ref ? (from, to) => from === ref || to === ref : undefined);
        edges.sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to));
        io.stdout(
          opts.json ? `${JSON.stringify({ edges }, null, 2)}\n` : renderEdges(edges, opts.window as '1h'),
        );
      }),
    );
}

function renderEdges(edges: ObservedEdge[], w: '1m' | '1h' | '1d'): string {
  if (edges.length === 0) return 'No observed calls yet: point OpenTelemetry exporters at POST /v1/traces.\n';
  const rows = edges.map((e) => {
    const h = e.health[w];
    return [
      shortRef(e.from),
      shortRef(e.to) + (e.unknown ? ' (unknown)' : e.virtual ? ' (virtual)' : ''),
      e.type,
      h.requests,
      `${(h.errorRate * 100).toFixed(1)}%`,
      h.p50Ms ?? '',
      h.p99Ms ?? '',
      e.lastSeen,
    ];
  });
  return `${formatTable(['caller', 'callee', 'type', `requests ${w}`, 'errors', 'p50 ms', 'p99 ms', 'last seen'], rows)}\n`;
}

function renderDrift(r: DriftResult, listAll: boolean): string {
  const lines: string[] = [];
  const s = r.summary;
  lines.push(
    `${s['observed-only']} undeclared call(s), ${s['declared-only']} declared edge(s) not seen, ${s.both} declared and seen; ${s.possiblyDead} possibly dead`,
  );
  lines.push(
    r.observingSince
      ? `Watching traces since ${r.observingSince} (retention ${r.retentionDays} days).`
      : 'No traces received yet: every declared edge is "not seen". Point OpenTelemetry exporters at POST /v1/traces.',
  );
  const undeclared = r.findings.filter((f) => f.status === 'observed-only');
  if (undeclared.length > 0) {
    lines.push('', 'Undeclared calls (add dependsOn/consumesApi to the caller, or stop the call):');
    lines.push(
      formatTable(
        ['caller', 'callee', 'owner (fixes it)', 'requests', 'since'],
        undeclared.map((f) => [
          shortRef(f.from),
          shortRef(f.to),
          shortRef(f.owner ?? 'no owner'),
          f.requests,
          f.since ?? '',
        ]),
      ),
    );
  }
  const dead = r.findings.filter((f) => f.possiblyDead);
  if (dead.length > 0) {
    lines.push(
      '',
      `Declared but idle for the whole retention window (possibly dead; never removed automatically):`,
    );
    lines.push(
      formatTable(
        ['caller', 'callee', 'owner', 'last seen'],
        dead.map((f) => [
          shortRef(f.from),
          shortRef(f.to),
          shortRef(f.owner ?? 'no owner'),
          f.lastSeen ?? 'never',
        ]),
      ),
    );
  }
  const notSeen = r.findings.filter((f) => f.status === 'declared-only' && !f.possiblyDead);
  if (notSeen.length > 0 && listAll) {
    lines.push('', 'Declared, not seen yet:');
    lines.push(
      formatTable(
        ['caller', 'callee', 'owner'],
        notSeen.map((f) => [shortRef(f.from), shortRef(f.to), shortRef(f.owner ?? 'no owner')]),
      ),
    );
  } else if (notSeen.length > 0) {
    const bySquad = new Map<string, number>();
    for (const f of notSeen)
      bySquad.set(f.owner ?? 'no owner', (bySquad.get(f.owner ?? 'no owner') ?? 0) + 1);
    const top = [...bySquad].sort((a, b) => b[1] - a[1]).slice(0, 10);
    lines.push(
      '',
      `Declared, not seen yet: ${notSeen.length} edge(s); most for ${top.map(([o, n]) => `${shortRef(o)} (${n})`).join(', ')}. --status declared-only lists them.`,
    );
  }
  const both = r.findings.filter((f) => f.status === 'both');
  if (both.length > 0) {
    lines.push('', 'Declared and seen:');
    lines.push(
      formatTable(
        ['caller', 'callee', 'owner', 'requests', 'last seen'],
        both.map((f) => [
          shortRef(f.from),
          shortRef(f.to),
          shortRef(f.owner ?? 'no owner'),
          f.requests,
          f.lastSeen ?? '',
        ]),
      ),
    );
  }
  return `${lines.join('\n')}\n`;
}
