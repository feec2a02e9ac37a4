import type { CatalogService, CatalogView } from '@bank/plugin-catalog';
import type { TrafficService } from '@bank/plugin-traffic';
import type { Command } from 'commander';

/** What the commands share, each part opened on first use. */
export interface CliContext {
  /** The database the command works on: `--db`, else DATABASE_URL, else data/portal.db. */
  dbUrl: () => Promise<string>;
  /** The store, migrated, with its ingester (what writes need). */
  open: () => Promise<CatalogService>;
  /** The catalogue view alone: from the snapshot beside the store when it is current. */
  openView: () => Promise<CatalogView>;
  /** Observed traffic from the store; undefined when the store holds none. */
  openTraffic: () => Promise<TrafficService | undefined>;
}

/**
 * The plugins that add commands, each imported only when one of its commands runs: `portal path` loads the
 * graph plugin, not the scaffolder, Prisma or the HTTP server. Which plugin registers which command is
 * listed at build time (portal/bin/build.mjs writes commands.json from {@link commandManifest}).
 */
export const REGISTRARS: Record<string, (program: Command, ctx: CliContext) => Promise<void>> = {
  catalog: async (program, ctx) => {
    const { registerCatalogCommands } = await import('@bank/plugin-catalog/cli');
    // `get` asks the graph who calls whom: the index saved beside the store, without observed traffic.
    registerCatalogCommands(program, ctx.open, ctx.openView, async () =>
      (await import('./graph-source.ts')).savedOrBuilt(ctx),
    );
  },
  graph: async (program, ctx) => {
    const [{ registerGraphCommands }, { graphSource }] = await Promise.all([
      import('@bank/plugin-graph/cli'),
      import('./graph-source.ts'),
    ]);
    const source = graphSource(program, ctx);
    registerGraphCommands(program, source.load, undefined, { hopNotes: source.hopNotes, ask: source.ask });
  },
  traffic: async (program, ctx) => {
    const [{ registerTrafficCommands }, { graphSource }] = await Promise.all([
      import('@bank/plugin-traffic/cli'),
      import('./graph-source.ts'),
    ]);
    const source = graphSource(program, ctx);
    registerTrafficCommands(program, async () => {
      const index = await source.load();
      // The traffic commands read the store's traffic even when it holds none (and say so).
      const { TrafficService } = await import('@bank/plugin-traffic/service');
      let traffic = await ctx.openTraffic();
      if (!traffic) {
        traffic = await TrafficService.open({ storeUrl: (await ctx.open()).store.url, expireEveryMs: 0 });
        traffic.setCatalogue((await ctx.openView()).all());
      }
      return { index, traffic };
    });
  },
  scaffolder: async (program, { open }) => {
    (await import('@bank/plugin-scaffolder/cli')).registerScaffolderCommands(program, open);
  },
  deploys: async (program, { open }) => {
    (await import('@bank/plugin-deploys/cli')).registerDeploysCommands(program, async () => {
      const [{ buildGraphIndex }, { DeploysService }] = await Promise.all([
        import('@bank/graph'),
        import('@bank/plugin-deploys'),
      ]);
      const catalog = await open();
      const index = buildGraphIndex((await catalog.view()).all());
      return new DeploysService({ store: catalog.store, getIndex: () => index }).init();
    });
  },
  scorecards: async (program, ctx) => {
    const [{ registerScorecardsCommands }, { graphSource }] = await Promise.all([
      import('@bank/plugin-scorecards/cli'),
      import('./graph-source.ts'),
    ]);
    const source = graphSource(program, ctx);
    registerScorecardsCommands(program, async () => {
      const [
        { ScorecardService, readDeployFacts },
        { DeploysService },
        { REPO_ROOT, scorecardsDir, templatesDir },
      ] = await Promise.all([
        import('@bank/plugin-scorecards'),
        import('@bank/plugin-deploys'),
        import('../server/runtime.ts'),
      ]);
      const catalog = await ctx.open();
      const index = await source.load();
      const scorecards = new ScorecardService({
        dir: scorecardsDir(),
        repoRoot: REPO_ROOT,
        templatesDir: templatesDir(),
      });
      scorecards.loadDefinitions();
      const deploys = await new DeploysService({ store: catalog.store, getIndex: () => index }).init();
      scorecards.setDeploys(await readDeployFacts(deploys));
      scorecards.scoreAll((await catalog.view()).all(), index);
      return scorecards;
    });
  },
  portal: async (program, { open }) => {
    await (await import('./portal-commands.ts')).registerPortalCommands(program, open);
  },
};

/** One top-level command: its help line and the plugins that add to it (`graph` has several). */
export interface CommandEntry {
  name: string;
  aliases: string[];
  description: string;
  /** How `portal --help` lists it: name, `[options]`, arguments. */
  term: string;
  registrars: string[];
}

/** Every plugin registered on a program of its own, to see which commands it adds. */
export async function commandManifest(fresh: () => Command, ctx: CliContext): Promise<CommandEntry[]> {
  const byName = new Map<string, CommandEntry>();
  for (const [key, register] of Object.entries(REGISTRARS)) {
    const program = fresh();
    await register(program, ctx);
    for (const c of program.commands) {
      const entry = byName.get(c.name()) ?? {
        name: c.name(),
        aliases: c.aliases(),
        description: c.description(),
        term: program.createHelp().subcommandTerm(c),
        registrars: [],
      };
      entry.registrars.push(key);
      byName.set(c.name(), entry);
    }
  }
  return [...byName.values()];
}
