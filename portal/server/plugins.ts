import { type CatalogService, createCatalogRouter, type GraphService } from '@bank/plugin-catalog';
import { createDeploysRouter, type DeploysService } from '@bank/plugin-deploys';
import { createEntityRouter } from '@bank/plugin-entity';
import { createExplorerRouter } from '@bank/plugin-explorer';
import { createGraphRouter } from '@bank/plugin-graph';
import { createScaffolderRouter, ScaffolderTaskStore } from '@bank/plugin-scaffolder';
import {
  createScorecardsRouter,
  persistScores,
  readDeployFacts,
  ScorecardService,
  ScorecardStore,
  watchScorecardInputs,
} from '@bank/plugin-scorecards';
import { createSearchRouter } from '@bank/plugin-search';
import {
  createDriftRouter,
  createOtlpRouter,
  createTrafficRouter,
  type EdgeState,
  TrafficService,
  trafficLimitsFromEnv,
} from '@bank/plugin-traffic';
import type { Hono, MiddlewareHandler } from 'hono';
import type { PortalAuth } from './auth.ts';
import { REPO_ROOT, scorecardsDir, templatesDir } from './runtime.ts';

/** What the portal hands every plugin. */
export interface PortalContext {
  catalog: CatalogService;
  graph: GraphService;
  auth: PortalAuth;
  deploys: DeploysService;
  /** Watch scorecard files and k8s/ manifests (serve and start do, unless --no-watch). */
  watchFiles?: boolean;
}

/** How long after listening the first scoring starts. */
const SCORING_AFTER_MS = 250;

/**
 * The plugin registry: each feature plugin's router mounted at /api/<id>. Removing a plugin's folder and
 * its line here removes the feature.
 */
export async function mountPlugins(
  app: Hono,
  ctx: PortalContext,
): Promise<{ afterListen(): void; close(): Promise<void> }> {
  const traffic = await openTraffic(ctx);
  const trafficDeps = {
    traffic,
    auth: ctx.auth,
    getIndex: () => ctx.graph.current,
    maxBodyBytes: numberFromEnv('TRAFFIC_MAX_BODY_BYTES'),
  };
  app.route('/v1/traces', createOtlpRouter(trafficDeps));
  app.route('/api/traffic', createTrafficRouter(trafficDeps));
  // The drift report lives with the traffic that makes it, served where the graph's reads are.
  app.route('/api/graph/drift', createDriftRouter(trafficDeps));
  app.route('/api/catalog', createCatalogRouter({ catalog: ctx.catalog, auth: ctx.auth }));
  app.route('/api/graph', createGraphRouter({ getIndex: () => ctx.graph.current }));
  app.route('/api/entity', createEntityRouter({ catalog: ctx.catalog, getIndex: () => ctx.graph.current }));
  app.route('/api/explorer', createExplorerRouter({ getIndex: () => ctx.graph.current }));
  // Task history in the store: tasks a process left running when it died are failed now, with the reason.
  const tasks = await ScaffolderTaskStore.open(ctx.catalog.store.driver);
  app.route('/api/scaffolder', createScaffolderRouter({ catalog: ctx.catalog, auth: ctx.auth, tasks }));
  app.route('/api/deploys', createDeploysRouter({ deploys: ctx.deploys, auth: ctx.auth }));
  const scorecards = openScorecards(ctx);
  // Scores and the catalogue table's levels are answered once the first scoring is done.
  const scored: MiddlewareHandler = async (_c, next) => {
    await scorecards.scored;
    await next();
  };
  app.use('/api/scorecards/*', scored);
  app.use('/api/search/*', scored);
  // The catalogue table's level column and filter read the scores kept in memory (no query per row).
  app.route(
    '/api/search',
    createSearchRouter({ catalog: ctx.catalog, deploys: ctx.deploys, levels: scorecards.service }),
  );
  app.route(
    '/api/scorecards',
    createScorecardsRouter({ scorecards: scorecards.service, store: scorecards.store }),
  );
  return {
    // A moment after listening, so the first reads are answered before the first scoring's own reads
    // (definitions, deploys, manifests) take the thread; scores are asked for after it anyway.
    afterListen: () => setTimeout(() => scorecards.start(), SCORING_AFTER_MS).unref(),
    close: async () => {
      await scorecards.close();
      await traffic.close();
      await tasks.close();
    },
  };
}

/**
 * Observed traffic, kept in the catalogue's store, its edges merged into the graph: after each accepted
 * batch, after the catalogue changes (names resolve anew) and into every index built afresh.
 */
async function openTraffic(ctx: PortalContext): Promise<TrafficService> {
  const traffic = await TrafficService.open({
    storeUrl: ctx.catalog.store.url,
    limits: trafficLimitsFromEnv(),
  });
  traffic.setCatalogue(ctx.catalog.loaded.all());
  // A graph not made yet is synced when it is (onRebuild below), not made here for it.
  const made = ctx.graph.peek();
  if (made) traffic.syncGraph(made);
  // Edges a batch changed wait for the next read of the graph (they are in the traffic API at once).
  const pending = new Set<EdgeState>();
  traffic.onEdges((edges) => {
    for (const e of edges) pending.add(e);
  });
  ctx.graph.onRead((index) => {
    if (pending.size === 0) return;
    const edges = [...pending];
    pending.clear();
    traffic.mergeIntoGraph(index, edges);
  });
  ctx.graph.onRebuild((index) => {
    traffic.setCatalogue(ctx.catalog.loaded.all());
    traffic.syncGraph(index);
  });
  ctx.catalog.on('change', (_result, view) => {
    traffic.setCatalogue(view.all());
    traffic.syncGraph(ctx.graph.current);
  });
  return traffic;
}

/**
 * Scorecards: scored once the server listens (a slice at a time, so it keeps answering meanwhile; their
 * routes wait for it), then re-scored incrementally on each catalogue change (and afresh with each rebuilt
 * graph); scorecard files and k8s/ manifests are watched, a changed file re-scoring what it touches.
 */
function openScorecards(ctx: PortalContext) {
  const service = new ScorecardService({
    dir: scorecardsDir(),
    repoRoot: REPO_ROOT,
    templatesDir: templatesDir(),
  });
  const store = new ScorecardStore(ctx.catalog.store.driver);
  const persisted = persistScores(service, store);
  const stopping = new AbortController();
  let stopWatching = async () => {};
  // What changes while the first scoring runs is applied after it, in order.
  let waiting: Array<() => void> | undefined = [];
  const afterScoring = (fn: () => void) => (waiting ? waiting.push(fn) : fn());
  const refreshDeploys = async () => service.setDeploys(await readDeployFacts(ctx.deploys));
  // A stored deploy re-scores the service it touches; dropping the demo history re-reads them all.
  ctx.deploys.onRecorded((r) =>
    afterScoring(() => {
      if (!r.droppedDemo) service.deployRecorded(r.deploy);
      else
        refreshDeploys()
          .then(() => service.scoreAll(ctx.catalog.loaded.all(), ctx.graph.current))
          .catch((err: Error) =>
            process.stderr.write(`scorecards: reading deploys failed: ${err.message}\n`),
          );
    }),
  );
  ctx.catalog.on('change', (change, view) =>
    afterScoring(() => service.catalogueChanged(change, (ref) => view.byRef.get(ref), ctx.graph.current)),
  );
  ctx.graph.onRebuild((index) => afterScoring(() => service.scoreAll(ctx.catalog.loaded.all(), index)));
  let begin = () => {};
  const scored = new Promise<void>((resolve) => {
    begin = resolve;
  }).then(async () => {
    for (const e of service.loadDefinitions())
      process.stderr.write(`scorecards: ${e.file}:${e.line}:${e.column} ${e.message}\n`);
    await refreshDeploys();
    // Scoring reads the relations graph: a saved index makes it now, in slices, rather than in one block of
    // seconds (at 35,000 services) on the first fact that walks it, with every request waiting.
    await ctx.graph.current.prepareRelations();
    await service.scoreAllInSlices(ctx.catalog.loaded.all(), ctx.graph.current, { signal: stopping.signal });
    const changes = waiting ?? [];
    waiting = undefined;
    for (const fn of changes) fn();
    if (ctx.watchFiles && !stopping.signal.aborted)
      stopWatching = watchScorecardInputs(service, [...ctx.catalog.roots]);
  });
  scored.catch((err: Error) => process.stderr.write(`scorecards: scoring failed: ${err.stack}\n`));
  return {
    service,
    store,
    /** Settles when the first scoring is done (rejects with why it failed). */
    scored,
    start: () => begin(),
    idle: () => persisted.idle(),
    close: async () => {
      stopping.abort();
      begin();
      await scored.catch(() => undefined);
      await stopWatching();
      await persisted.close();
    },
  };
}

function numberFromEnv(name: string): number | undefined {
  const v = process.env[name];
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
}
