import type { GraphIndex } from '@bank/graph';
import type { ServiceOnCall } from '@bank/plugin-deploys/oncall';
import type { Command } from 'commander';
import type { CliContext } from './commands.ts';

/**
 * Where the graph commands get their answers: a running portal on the same database when one answers at
 * once (`portal path|impact`; see remote.ts), else the graph index saved beside the store when it is of
 * the store's generation, else the graph built here from the catalogue snapshot (or the store, when the
 * snapshot is stale) and saved for the next command; with the observed edges merged in.
 */
export function graphSource(_program: Command, ctx: CliContext) {
  let index: Promise<GraphIndex> | undefined;
  /** The graph with the observed edges merged in, so `--via observed` answers as the running portal does. */
  const load = () => {
    index ??= (async () => {
      const loaded = await savedOrBuilt(ctx);
      (await ctx.openTraffic())?.syncGraph(loaded);
      return loaded;
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
    const { onCallFromEnv, onCallLine, onCallOfServices } = await import('@bank/plugin-deploys/oncall');
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

/**
 * The graph index of the store's catalogue: the one saved beside the store when it is of the store's
 * generation, else built from the catalogue and saved for the next command.
 */
export async function savedOrBuilt(ctx: CliContext): Promise<GraphIndex> {
  const url = await ctx.dbUrl();
  const [{ graphIndexFileFor }, { storeFacts }, saved] = await Promise.all([
    import('../server/locations.ts'),
    import('./local-view.ts'),
    import('@bank/graph/saved-index'),
  ]);
  const file = graphIndexFileFor(url);
  // The generation is read before the catalogue: a graph built from a newer catalogue than the generation
  // it is saved under is only rebuilt needlessly, never served as current when it is not.
  const generation = (await storeFacts(url))?.generation;
  const found = saved.readGraphIndexFile(file);
  if (saved.isSavedIndex(found)) {
    if (generation !== undefined && found.generation === generation) return found.index;
  } else if (found.kind !== 'missing') {
    process.stderr.write(`portal: the saved graph index ${file} ${found.message}; building it again\n`);
  }
  const { buildGraphIndex } = await import('@bank/graph/graph-index');
  const built = buildGraphIndex((await ctx.openView()).all());
  if (generation !== undefined) {
    try {
      saved.writeGraphIndexFile(file, built, generation);
    } catch (err) {
      process.stderr.write(
        `warning: the saved graph index ${file} was not written: ${(err as Error).message}\n`,
      );
    }
  }
  return built;
}
