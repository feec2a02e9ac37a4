/**
 * Scorecards benchmark. Prints JSON.
 *
 *   npx tsx bench/scorecards/score.ts [--services 35000] [--tree DIR]
 *
 * Writes the estate with the real generator (bench/estate, seed 42) into a temporary folder, or reads a
 * tree written before (`npm run estate -- --services 35000 --out DIR`), then scores it against the bank's
 * scorecards (scorecards/*.yaml). Targets (issue 17): the whole estate at 35,000 services ≤ 5 s; one
 * changed file re-scored ≤ 50 ms. The first scoring also reads and parses every k8s/ manifest (as a
 * portal start does once); it is reported apart from a full re-score over manifests already read.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { readCatalogTree } from '@bank/catalog';
import { buildGraphIndex } from '@bank/graph';
import { serveRouter } from '@bank/plugin-entity/testing';
import { createScorecardsRouter, ScorecardService } from '@bank/plugin-scorecards';
import { generateEstate } from '../estate/generate.ts';
import { writeEstate } from '../estate/write.ts';

const { values } = parseArgs({
  options: { services: { type: 'string', default: '35000' }, tree: { type: 'string' } },
});
const services = Number(values.services);
const repo = path.resolve(import.meta.dirname, '../..');
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const timed = <T>(fn: () => T): { ms: number; cpuMs: number; value: T } => {
  const c = cpuMs();
  const t = performance.now();
  const value = fn();
  return { ms: Math.round(performance.now() - t), cpuMs: Math.round(cpuMs() - c), value };
};

let tree = values.tree;
let scratch: string | undefined;
let generateMs = 0;
if (!tree) {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'scorecards-bench-'));
  const t = performance.now();
  writeEstate(generateEstate({ services, seed: 42 }), scratch);
  generateMs = Math.round(performance.now() - t);
  tree = scratch;
}
const t0 = performance.now();
const { entities, errors } = await readCatalogTree(tree);
const readTreeMs = Math.round(performance.now() - t0);
const index = buildGraphIndex(entities);

const svc = new ScorecardService({ dir: path.join(repo, 'scorecards'), repoRoot: tree });
const definitionErrors = svc.loadDefinitions();
const cold = timed(() => svc.scoreAll(entities, index));
const full = timed(() => svc.scoreAll(entities, index));

// One changed manifest: a Deployment's replicas edited on disk, re-scored through filesChanged.
const components = entities.filter((e) => e.kind === 'Component' && e.spec?.type === 'service');
const oneFile: number[] = [];
for (let i = 0; i < 25; i++) {
  const e = components[(i * 7919) % components.length];
  const file = path.join(tree, e.metadata.name, 'k8s', 'deployment.yaml');
  const text = readFileSync(file, 'utf8');
  writeFileSync(
    file,
    text.replace(/replicas: (\d+)/, (_m, n) => `replicas: ${Number(n) + 1}`),
  );
  const t = performance.now();
  const r = svc.filesChanged([file]);
  oneFile.push(performance.now() - t);
  if (r.rescored === 0) throw new Error(`${file} re-scored nothing`);
  writeFileSync(file, text);
}
// One changed descriptor, as an ingest reports it: the entity upserted (its callers and callees re-scored).
const oneDescriptor: number[] = [];
for (let i = 0; i < 25; i++) {
  const e = components[(i * 104729) % components.length];
  const ref = `component:default/${e.metadata.name}`;
  const t = performance.now();
  svc.catalogueChanged({ upserted: [ref], removed: [], relationsChanged: [] }, () => e, index);
  oneDescriptor.push(performance.now() - t);
}
function median(xs: number[]): number {
  return Math.round([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] * 10) / 10;
}
function max(xs: number[]): number {
  return Math.round(Math.max(...xs) * 10) / 10;
}
// The scorecards page's answers over real HTTP on 127.0.0.1 (no store: the trend is a separate indexed
// query): the rollup by collective and squad (/summary), the org view's maturity (/teams), one team.
const http = await serveRouter('/api/scorecards', createScorecardsRouter({ scorecards: svc }));
const page: Record<string, { medianMs: number; maxMs: number; bytes: number }> = {};
for (const route of ['/summary', '/teams', '/team?team=ledger']) {
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < 7; i++) {
    const t = performance.now();
    const res = await fetch(`${http.base}${route}`);
    const body = await res.arrayBuffer();
    times.push(performance.now() - t);
    if (res.status !== 200) throw new Error(`${route}: ${res.status}`);
    bytes = body.byteLength;
  }
  page[route] = { medianMs: median(times), maxMs: max(times), bytes };
}
await http.close();
const results = svc.allResults();
const atLeast: Record<string, number> = {};
for (const r of results) if (r.level) atLeast[r.level] = (atLeast[r.level] ?? 0) + 1;

process.stdout.write(
  `${JSON.stringify(
    {
      bench: 'scorecards',
      targets:
        'whole estate at 35,000 services ≤ 5 s; one changed file re-scored ≤ 50 ms; scorecards page ≤ 1 s',
      command: `npx tsx bench/scorecards/score.ts --services ${services}${values.tree ? ' --tree <dir>' : ''}`,
      node: process.version,
      when: new Date().toISOString(),
      loadAverage: Math.round(os.loadavg()[0] * 100) / 100,
      services,
      entities: entities.length,
      treeErrors: errors.length,
      definitionErrors: definitionErrors.length,
      scored: results.length,
      levels: atLeast,
      generateMs,
      readTreeMs,
      firstScoreWithManifestReadMs: cold.ms,
      firstScoreCpuMs: cold.cpuMs,
      fullRescoreMs: full.ms,
      fullRescoreCpuMs: full.cpuMs,
      oneManifestChangedMs: { median: median(oneFile), max: max(oneFile) },
      oneDescriptorChangedMs: { median: median(oneDescriptor), max: max(oneDescriptor) },
      scorecardsPageApi: page,
      meetsTargets: full.ms <= 5000 && median(oneFile) <= 50 && page['/summary'].medianMs <= 1000,
    },
    null,
    2,
  )}\n`,
);
if (scratch) rmSync(scratch, { recursive: true, force: true });
