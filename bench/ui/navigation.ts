/**
 * Navigation-to-interactive in headless Chromium against the built portal, and the `next build` time.
 *
 *   npx tsx bench/ui/navigation.ts [--services 350,3500,10000] [--runs 5] [--skip-build]
 *
 * Sizes are in services; each service brings about 3.6 entities (APIs, resources, systems, people), so
 * 350 services are ~1,260 entities and 10,000 services ~36,000: the catalogue's 35,000-entity figure.
 * For each estate size: generate it (bench/estate, seed 42) into a temp folder, ingest it into a fresh
 * SQLite file, serve API + UI on 127.0.0.1, then time from `page.goto` to the view's ready signal:
 *   catalogue: the table rendered with the first page and facet counts ([data-testid=catalogue][data-ready=true])
 *   graph:     the explorer's default view laid out (cytoscape layoutstop → [data-ready=true])
 *   paths:     /paths?from=card-api&to=feed with its hop cards drawn
 * Each is measured `runs` times in a fresh browser context (no HTTP cache); the JSON reports the first
 * (cold server caches) and the median. Prints JSON on stdout; progress goes to stderr.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CatalogStore } from '@bank/catalog';
import { CatalogService } from '@bank/plugin-catalog';
import { launchChromium } from '../../portal/e2e/browser.ts';
import { startServer } from '../../portal/server/server.ts';
import { generateEstate } from '../estate/generate.ts';
import { writeEstate } from '../estate/write.ts';

const REPO = path.resolve(import.meta.dirname, '..', '..');

/** Targets from issue 4, in milliseconds: catalogue by entities, graph by services, paths at any size. */
const TARGETS = {
  catalogue: (entities: number) => (entities <= 1500 ? 1000 : 2000),
  graph: (services: number) => (services <= 350 ? 1500 : services <= 3500 ? 4000 : null),
  paths: () => 1000,
  buildMs: 120_000,
};

const VIEWS = {
  catalogue: { url: '/catalogue', ready: '[data-testid=catalogue][data-ready=true]' },
  graph: { url: '/graph', ready: '[data-testid=graph-canvas][data-ready=true]' },
  paths: { url: '/paths?from=card-api&to=feed', ready: '[data-testid=hop]' },
} as const;
type View = keyof typeof VIEWS;

const log = (m: string) => process.stderr.write(`${m}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function build(skip: boolean): { ms: number | null; target: number; ok: boolean | null } {
  if (skip) return { ms: null, target: TARGETS.buildMs, ok: null };
  log('next build …');
  const started = performance.now();
  const r = spawnSync('npm', ['run', 'build', '-w', '@bank/portal'], {
    cwd: REPO,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' },
  });
  if (r.status !== 0) throw new Error(`next build failed (exit ${r.status})`);
  const ms = Math.round(performance.now() - started);
  return { ms, target: TARGETS.buildMs, ok: ms <= TARGETS.buildMs };
}

async function measureSize(services: number, runs: number) {
  const dir = mkdtempSync(path.join(os.tmpdir(), `bench-ui-${services}-`));
  try {
    log(`${services} services: generating …`);
    const root = path.join(dir, 'estate');
    writeEstate(generateEstate({ services, seed: 42 }), root);
    log(`${services} services: ingesting …`);
    const started = performance.now();
    const store = await CatalogStore.open(`file:${path.join(dir, 'portal.db')}`);
    const catalog = new CatalogService(store, [root]);
    await catalog.ingest();
    const ingestMs = Math.round(performance.now() - started);
    const server = await startServer({ catalog, port: 0, ui: true });
    const browser = await launchChromium();
    const views: View[] = ['catalogue', 'paths'];
    if (services <= 3500) views.push('graph');
    const entities = catalog.loaded.size;
    const result: Record<string, unknown> = { services, entities, ingestMs };
    try {
      for (const view of views) {
        const times: number[] = [];
        for (let i = 0; i < runs; i++) {
          const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
          const page = await context.newPage();
          const t0 = performance.now();
          await page.goto(`${server.url}${VIEWS[view].url}`);
          await page.locator(VIEWS[view].ready).first().waitFor({ timeout: 60_000 });
          times.push(Math.round(performance.now() - t0));
          await context.close();
        }
        const target =
          view === 'catalogue'
            ? TARGETS.catalogue(entities)
            : view === 'graph'
              ? TARGETS.graph(services)
              : TARGETS.paths();
        result[view] = {
          firstMs: times[0],
          medianMs: median(times),
          runs: times,
          targetMs: target,
          ok: target === null ? null : median(times) <= target,
        };
        log(`${services} services: ${view} ${JSON.stringify(times)}`);
      }
    } finally {
      await browser.close();
      await server.close();
    }
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  // Next logs to stdout ("✓ Running next.config.ts …"); stdout is for the JSON alone.
  console.log = (...args: unknown[]) => console.error(...args);
  const { values } = parseArgs({
    options: {
      services: { type: 'string', default: '350,3500,10000' },
      runs: { type: 'string', default: '5' },
      'skip-build': { type: 'boolean', default: false },
    },
  });
  const sizes = values.services.split(',').map((s) => Number(s.trim()));
  if (sizes.some((n) => !Number.isInteger(n) || n < 1))
    throw new Error('--services takes positive integers, e.g. 350,3500');
  const runs = Number(values.runs);
  const buildResult = build(values['skip-build']);
  const results = [];
  for (const n of sizes) results.push(await measureSize(n, runs));
  const out = {
    bench: 'ui-navigation',
    at: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      loadavg: os.loadavg().map((l) => Math.round(l * 100) / 100),
      node: process.version,
    },
    command: `npx tsx bench/ui/navigation.ts --services ${values.services} --runs ${runs}${values['skip-build'] ? ' --skip-build' : ''}`,
    nextBuild: buildResult,
    sizes: results,
  };
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
}

await main();
process.exit(0);
