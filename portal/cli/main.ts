import type { CatalogService } from '@bank/plugin-catalog';
import { registerCatalogCommands } from '@bank/plugin-catalog';
import { registerDeploysCommands } from '@bank/plugin-deploys';
import { registerGraphCommands } from '@bank/plugin-graph';
import { EXIT, UsageError } from '@bank/plugin-kit';
import { registerScaffolderCommands } from '@bank/plugin-scaffolder';
import { registerScorecardsCommands } from '@bank/plugin-scorecards';
import { registerTrafficCommands, type TrafficService } from '@bank/plugin-traffic';
import { Command, CommanderError } from 'commander';
import { databaseUrl, openCatalog, REPO_ROOT, scorecardsDir } from '../server/runtime.ts';
import { registerPortalCommands } from './portal-commands.ts';

const program = new Command('portal')
  .description("The bank's developer portal: service catalogue, dependency graph, call paths and scaffolder")
  .option(
    '--db <url>',
    'database: file:path.db (SQLite, default data/portal.db) or postgres://…; or set DATABASE_URL',
  )
  .showHelpAfterError('(run portal --help for usage)')
  .exitOverride();

let catalog: Promise<CatalogService> | undefined;
const open = () => {
  catalog ??= openCatalog(databaseUrl(program.opts<{ db?: string }>().db));
  return catalog;
};

let traffic: Promise<TrafficService> | undefined;
/** Observed traffic as stored by a running portal (read only: no expiry timer, nothing written). */
const openTraffic = () => {
  traffic ??= (async () => {
    const { TrafficService } = await import('@bank/plugin-traffic');
    const catalog = await open();
    const service = await TrafficService.open({ storeUrl: catalog.store.url, expireEveryMs: 0 });
    service.setCatalogue((await catalog.view()).all());
    return service;
  })();
  return traffic;
};
/** The graph with the observed edges merged in, so `--via observed` answers as the running portal does. */
const loadGraph = async () => {
  const { buildGraphIndex } = await import('@bank/graph');
  const index = buildGraphIndex((await (await open()).view()).all());
  (await openTraffic()).syncGraph(index);
  return index;
};

registerCatalogCommands(program, open);
registerGraphCommands(program, loadGraph, undefined, {
  // Who to call now on each hop (PagerDuty with PAGERDUTY_TOKEN, else the estate's schedule file).
  hopNotes: async (refs) => {
    const { DeploysService, onCallFromEnv, onCallLine } = await import('@bank/plugin-deploys');
    const catalog = await open();
    const onCall = onCallFromEnv(catalog.roots);
    if (!onCall) return new Map();
    const index = await loadGraph();
    const svc = new DeploysService({ store: catalog.store, getIndex: () => index, onCall });
    const all = await svc.onCallFor(refs.filter((r) => r.startsWith('component:')));
    return new Map(all.filter((o) => o.rota).map((o) => [o.service, onCallLine(o.onCall ?? undefined)]));
  },
});
registerTrafficCommands(program, async () => ({ index: await loadGraph(), traffic: await openTraffic() }));
registerScaffolderCommands(program, open);
registerDeploysCommands(program, async () => {
  const [{ buildGraphIndex }, { DeploysService }] = await Promise.all([
    import('@bank/graph'),
    import('@bank/plugin-deploys'),
  ]);
  const catalog = await open();
  const index = buildGraphIndex((await catalog.view()).all());
  return new DeploysService({ store: catalog.store, getIndex: () => index }).init();
});
registerScorecardsCommands(program, async () => {
  const [{ ScorecardService, readDeployFacts }, { DeploysService }] = await Promise.all([
    import('@bank/plugin-scorecards'),
    import('@bank/plugin-deploys'),
  ]);
  const catalog = await open();
  const index = await loadGraph();
  const scorecards = new ScorecardService({ dir: scorecardsDir(), repoRoot: REPO_ROOT });
  scorecards.loadDefinitions();
  const deploys = await new DeploysService({ store: catalog.store, getIndex: () => index }).init();
  scorecards.setDeploys(await readDeployFacts(deploys));
  scorecards.scoreAll((await catalog.view()).all(), index);
  return scorecards;
});
await registerPortalCommands(program, open);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  } else {
    const e = err as Error & { suggestions?: string[] };
    process.stderr.write(`portal: ${e.message}\n`);
    if (process.env.PORTAL_DEBUG) process.stderr.write(`${e.stack}\n`);
    process.exitCode = err instanceof UsageError ? EXIT.usage : EXIT.error;
  }
}
if (
  process.exitCode ||
  !program.commands.some((c) => c.name() === program.args[0] && ['serve', 'start'].includes(c.name()))
) {
  const service = catalog ? await catalog.catch(() => undefined) : undefined;
  await service?.store.close();
  // pg pools and file watchers must not keep a finished command alive.
  process.exit(process.exitCode ?? 0);
}
