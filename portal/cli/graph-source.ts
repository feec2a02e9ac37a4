import type { GraphIndex } from '@bank/graph';
import type { Command } from 'commander';
import type { CliContext } from './commands.ts';

/** Where the graph commands get the graph from, and the on-call line under each hop of `portal path`. */
export function graphSource(_program: Command, ctx: CliContext) {
  let index: Promise<GraphIndex> | undefined;
  /** The graph with the observed edges merged in, so `--via observed` answers as the running portal does. */
  const load = () => {
    index ??= (async () => {
      const { buildGraphIndex } = await import('@bank/graph');
      const built = buildGraphIndex((await (await ctx.open()).view()).all());
      (await ctx.openTraffic()).syncGraph(built);
      return built;
    })();
    return index;
  };
  // Who to call now on each hop (PagerDuty with PAGERDUTY_TOKEN, else the estate's schedule file).
  const hopNotes = async (refs: string[]): Promise<ReadonlyMap<string, string>> => {
    const { DeploysService, onCallFromEnv, onCallLine } = await import('@bank/plugin-deploys');
    const catalog = await ctx.open();
    const onCall = onCallFromEnv(catalog.roots);
    if (!onCall) return new Map();
    const graph = await load();
    const svc = new DeploysService({ store: catalog.store, getIndex: () => graph, onCall });
    const all = await svc.onCallFor(refs.filter((r) => r.startsWith('component:')));
    return new Map(all.filter((o) => o.rota).map((o) => [o.service, onCallLine(o.onCall ?? undefined)]));
  };
  return { load, hopNotes };
}
