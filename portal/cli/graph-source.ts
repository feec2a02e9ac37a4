import type { GraphIndex } from '@bank/graph';
import type { ServiceOnCall } from '@bank/plugin-deploys/lib/oncall.ts';
import type { Command } from 'commander';
import type { CliContext } from './commands.ts';

/**
 * Where the graph commands get their answers: a running portal on the same database when one answers at
 * once (`portal path|impact`; see remote.ts), else the graph built here from the catalogue snapshot (or
 * the store, when the snapshot is stale), with the observed edges merged in.
 */
export function graphSource(_program: Command, ctx: CliContext) {
  let index: Promise<GraphIndex> | undefined;
  /** The graph with the observed edges merged in, so `--via observed` answers as the running portal does. */
  const load = () => {
    index ??= (async () => {
      const { buildGraphIndex } = await import('@bank/graph/graph-index.ts');
      const built = buildGraphIndex((await ctx.openView()).all());
      (await ctx.openTraffic())?.syncGraph(built);
      return built;
    })();
    return index;
  };

  let portal: Promise<string | undefined> | undefined;
  const reachable = () => {
    portal ??= (async () => {
      const { reachablePortal } = await import('./remote.ts');
      return reachablePortal(await ctx.dbUrl());
    })();
    return portal;
  };
  /** The running portal's answer, or undefined when none is reachable. */
  const ask = async (route: 'paths' | 'impact', params: Record<string, string | undefined>) => {
    const base = await reachable();
    if (!base) return undefined;
    const { askPortal } = await import('./remote.ts');
    return askPortal(base, `/api/graph/${route}`, params);
  };

  // Who to call now on each hop (PagerDuty with PAGERDUTY_TOKEN, else the estate's schedule file): from the
  // portal that answered the path, or from the graph here; no store either way.
  const hopNotes = async (refs: string[]): Promise<ReadonlyMap<string, string>> => {
    const services = refs.filter((r) => r.startsWith('component:'));
    const { onCallFromEnv, onCallLine, onCallOfServices } = await import(
      '@bank/plugin-deploys/lib/oncall.ts'
    );
    const base = await reachable();
    let all: ServiceOnCall[];
    if (base) {
      const { askPortal } = await import('./remote.ts');
      all = [];
      try {
        for (let i = 0; i < services.length; i += 100) {
          const body = (await askPortal(base, '/api/deploys/oncall', {
            service: services.slice(i, i + 100).join(','),
          })) as { oncall: ServiceOnCall[] };
          all.push(...body.oncall);
        }
      } catch {
        return new Map(); // the paths themselves were answered: print them without the on-call lines
      }
    } else {
      const { defaultRoots } = await import('../server/locations.ts');
      const directory = onCallFromEnv(defaultRoots());
      if (!directory) return new Map();
      all = await onCallOfServices(await load(), services, directory, Date.now());
    }
    return new Map(all.filter((o) => o.rota).map((o) => [o.service, onCallLine(o.onCall ?? undefined)]));
  };
  return { load, ask, hopNotes };
}
