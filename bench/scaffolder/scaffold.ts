/**
 * The scaffolder's figures, on a temporary copy of the monorepo holding the bank's estate (services/,
 * ~350 services) when it is there, else the small fixture; a real git repository, a real SQLite catalogue
 * and the real portal server on 127.0.0.1. Prints JSON.
 *   npx tsx bench/scaffolder/scaffold.ts [--runs 5]
 * Targets: scaffold (render + write + register) ≤ 2 s; dry-run ≤ 500 ms; visible in the catalogue and the
 * graph ≤ 5 s after create.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CatalogStore } from '@bank/catalog';
import { CatalogService } from '@bank/plugin-catalog';
import { MAIN_ROOT, makeFixtureRepo } from '../../plugins/scaffolder/src/testing.ts';
import { startServer } from '../../portal/server/server.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const runs = Math.max(1, Number(values.runs));
const TOKEN = 'bench-scaffolder';
process.env.PORTAL_API_TOKENS = TOKEN;

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return {
    p50: Math.round(s[Math.floor((s.length - 1) / 2)]),
    max: Math.round(s[s.length - 1]),
    runs: s.length,
    each: xs.map((x) => Math.round(x)),
  };
};

const estate = existsSync(path.join(MAIN_ROOT, 'services', 'org'));
const repo = makeFixtureRepo({ git: true, estate });
const store = await CatalogStore.open(`file:${path.join(repo.root, '.portal.db')}`);
const catalog = new CatalogService(store, [path.join(repo.root, 'services')]);
const ingest = await catalog.ingest();
const server = await startServer({ catalog, host: '127.0.0.1', port: 0, ui: false });
const base = server.url;

try {
  const view = catalog.loaded;
  // An owner (a squad) and two services to depend on, taken from whatever estate is there.
  const squad = view.all().find((e) => e.kind === 'Group' && (e.spec as { type?: string })?.type === 'squad');
  const deps = view
    .all()
    .filter((e) => e.kind === 'Component' && (e.spec as { type?: string })?.type === 'service')
    .slice(0, 2)
    .map((e) => e.metadata.name);
  if (!squad || deps.length < 2) throw new Error('the estate has no squad or too few services');
  const params = (name: string) => ({
    name,
    description: 'Made by the scaffolder bench',
    owner: squad.metadata.name,
    dependsOn: deps,
  });
  const post = (p: string, body: unknown, auth = false) =>
    fetch(`${base}/api/scaffolder${p}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${TOKEN}` } : {}) },
      body: JSON.stringify(body),
    });

  // Dry-run: the first (cold: schemas, template parse) and warm ones, over HTTP.
  const dry: number[] = [];
  let coldDryRun = 0;
  for (let i = 0; i <= runs; i++) {
    const t0 = performance.now();
    const res = await post('/dry-run', { template: 'typescript-service', values: params(`bench-dry-${i}`) });
    if (res.status !== 200) throw new Error(`dry-run: ${res.status} ${await res.text()}`);
    await res.json();
    if (i === 0) coldDryRun = performance.now() - t0;
    else dry.push(performance.now() - t0);
  }

  // Create: POST /tasks → completed (render + validate + write + git commit + register), and visibility.
  const scaffold: number[] = [];
  const engine: number[] = [];
  const visibleCatalogue: number[] = [];
  const visibleGraph: number[] = [];
  for (let i = 0; i < runs; i++) {
    const name = `bench-made-${i}`;
    const t0 = performance.now();
    const created = await post('/tasks', { template: 'typescript-service', values: params(name) }, true);
    if (created.status !== 201) throw new Error(`create: ${created.status} ${await created.text()}`);
    const { id } = (await created.json()) as { id: string };
    let inCatalogue = 0;
    let inGraph = 0;
    let done = 0;
    while ((!inCatalogue || !inGraph || !done) && performance.now() - t0 < 30_000) {
      const now = () => performance.now() - t0;
      if (!inCatalogue) {
        const r = await fetch(`${base}/api/catalog/entities/by-name/component/default/${name}`);
        if (r.status === 200) {
          const e = (await r.json()) as { relations: { type: string; targetRef: string }[] };
          if (e.relations.some((rel) => rel.type === 'dependsOn')) inCatalogue = now();
        } else await r.text();
      }
      if (!inGraph) {
        const r = await fetch(`${base}/api/graph/neighbourhood?ref=${name}&depth=1&direction=down`);
        const text = await r.text();
        if (r.status === 200 && text.includes(`component:default/${deps[0]}`)) inGraph = now();
      }
      if (!done) {
        const t = (await (await fetch(`${base}/api/scaffolder/tasks/${id}`)).json()) as {
          status: string;
          result?: { durationMs: number };
          error?: { message: string };
        };
        if (t.status === 'failed') throw new Error(`task failed: ${t.error?.message}`);
        if (t.status === 'completed') {
          done = now();
          engine.push(t.result?.durationMs ?? 0);
        }
      }
      if (!inCatalogue || !inGraph || !done) await new Promise((r) => setTimeout(r, 10));
    }
    scaffold.push(done);
    visibleCatalogue.push(inCatalogue);
    visibleGraph.push(inGraph);
  }

  const result = {
    bench: 'scaffolder',
    command: 'npx tsx bench/scaffolder/scaffold.ts',
    at: new Date().toISOString(),
    node: process.version,
    machine: { cpus: os.cpus().length, loadAverage1m: Number(os.loadavg()[0].toFixed(2)) },
    estate: {
      source: estate ? 'services/ (the generated estate)' : 'fixture',
      entities: catalog.loaded.size,
      ingestMs: ingest.durationMs,
    },
    template: 'typescript-service',
    dependsOn: deps,
    dryRunMs: {
      cold: Math.round(coldDryRun),
      ...stats(dry),
      note: 'POST /api/scaffolder/dry-run: files with contents, 7 manifests validated, catalogue diff',
    },
    scaffoldMs: {
      ...stats(scaffold),
      engine: stats(engine),
      note: 'POST /api/scaffolder/tasks until the task is completed: render, validate manifests, write, git commit on a branch, register',
    },
    visibleInCatalogueMs: {
      ...stats(visibleCatalogue),
      note: 'from POST /tasks until GET /api/catalog/entities/by-name shows it with relations',
    },
    visibleInGraphMs: {
      ...stats(visibleGraph),
      note: 'from POST /tasks until /api/graph/neighbourhood shows its dependency',
    },
    targets: { scaffoldMs: 2000, dryRunMs: 500, visibleMs: 5000 },
    pass: {
      scaffold: Math.max(...scaffold) <= 2000,
      dryRun: Math.max(...dry) <= 500,
      visible: Math.max(...visibleCatalogue, ...visibleGraph) <= 5000,
    },
    passAtP50: {
      scaffold: stats(scaffold).p50 <= 2000,
      dryRun: stats(dry).p50 <= 500,
      visible: Math.max(stats(visibleCatalogue).p50, stats(visibleGraph).p50) <= 5000,
    },
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} finally {
  await server.close();
  await store.close();
  repo.cleanup();
}
process.exit(0);
