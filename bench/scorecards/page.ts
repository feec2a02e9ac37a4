/**
 * The scorecards page (`/scorecards`) in a real browser, over a filled store. Issue 17: ≤ 1 s at 35,000 services.
 *
 *   npx tsx bench/scorecards/page.ts [--root DIR] [--db FILE] [--services 350] [--runs 5] [--skip-build]
 *                                    [--profile FILE.cpuprofile]
 *
 * --root and --db: an estate already ingested (e.g. bench/.cache/e35000/estate and its portal.db). The
 * store is COPIED to a temporary folder first (with its -wal/-shm, and the catalogue snapshot and saved
 * graph index beside it when there are some), so the original is never written. --root alone: ingested
 * into a fresh SQLite file. Neither: the estate is generated (bench/estate, seed 42, --services) and
 * ingested.
 *
 * Builds the UI (`npm run build -w @bank/portal`, unless --skip-build), serves API + UI on 127.0.0.1
 * (startServer, as bench/ui/navigation.ts does), waits for the scorecards' first scoring (the API's
 * /api/scorecards/* wait for it; at 35,000 services it reads every k8s/ manifest, minutes), then per run,
 * in a fresh browser context (no HTTP cache) of Debian's Chromium:
 *   page:       navigation to /scorecards → [data-testid=scorecards][data-ready=true] in the DOM (the rollups
 *               drawn; the load event, when every script has run, is reported beside it: loadEventEnd)
 *   drill-down: a click on the first (worst) squad → its failing checks drawn ([data-testid=team-scores])
 *   show all:   the page loaded again, then "Show all" squads → every squad drawn (when the list is cut)
 * and, from the page's own Performance timings, where the page's time went: the document, the summary
 * answer's request (start, end, bytes on the wire and decoded) and what came after it (JSON parse and
 * React render, until data-ready). Also the summary answers over HTTP from Node (bytes, time): the page's
 * (the worst teams) and the whole one ("show all"); and the number of table rows drawn. --profile writes a Chromium CPU profile of one more page load.
 *
 * Prints JSON on stdout (medians, min, max, each run); progress goes to stderr.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../../portal/e2e/browser.ts';
import { SCORECARDS_SUMMARY_API_URL } from '../../portal/lib/api-urls.ts';
import { openCatalog } from '../../portal/server/runtime.ts';
import { startServer } from '../../portal/server/server.ts';
import { generateEstate } from '../estate/generate.ts';
import { writeEstate } from '../estate/write.ts';

const REPO = path.resolve(import.meta.dirname, '..', '..');
const TARGET_MS = 1000;
const READY = '[data-testid=scorecards][data-ready=true]';
const SUMMARY = '/api/scorecards/summary';

const log = (m: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${m}\n`);
const loadavg = () => os.loadavg().map((l) => Math.round(l * 100) / 100);
const round = (n: number) => Math.round(n);
function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return { median: round(m), min: round(s[0]), max: round(s[s.length - 1]) };
}

function build(skip: boolean): number | null {
  if (skip) return null;
  log('next build …');
  const t = performance.now();
  const r = spawnSync('npm', ['run', 'build', '-w', '@bank/portal'], {
    cwd: REPO,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' },
  });
  if (r.status !== 0) throw new Error(`next build failed (exit ${r.status})`);
  return round(performance.now() - t);
}

/** The store to serve, in `work`: a copy of --db (never the original), or a fresh one ingested from root. */
async function prepareStore(work: string, root: string, db: string | undefined) {
  const file = path.join(work, 'portal.db');
  if (db) {
    const src = path.resolve(db.replace(/^file:/, ''));
    if (!existsSync(src)) throw new Error(`--db ${db}: no such file`);
    log(`copying ${src} (and its -wal/-shm, snapshot, graph index) to ${work} …`);
    copyFileSync(src, file);
    for (const suffix of ['-wal', '-shm'])
      if (existsSync(src + suffix)) copyFileSync(src + suffix, file + suffix);
    const base = src.replace(/\.db$/, '');
    for (const suffix of ['.graph.snapshot', '.graph.index'])
      if (existsSync(base + suffix)) copyFileSync(base + suffix, path.join(work, `portal${suffix}`));
  }
  const t = performance.now();
  const catalog = await openCatalog(`file:${file}`, [root]);
  if (!db) {
    log(`ingesting ${root} …`);
    await catalog.ingest();
  }
  return { catalog, openMs: round(performance.now() - t) };
}

interface PageRun {
  readyMs: number;
  rows: number;
  /** From the page's Performance timings, ms since navigation start. */
  timings: {
    documentResponseEnd: number;
    /** The last of the page's scripts received. */
    scriptsLoaded: number;
    domContentLoaded: number;
    /** The load event's end: every script loaded and run (what page.goto waits for by default). */
    loadEventEnd: number;
    /** First contentful paint. */
    firstContentfulPaint: number | null;
    summaryStart: number | null;
    summaryResponseEnd: number | null;
    summaryTransferBytes: number | null;
    summaryDecodedBytes: number | null;
    /** When data-ready turned true (a MutationObserver in the page). */
    ready: number | null;
    /** ready − summaryResponseEnd: reading the answer, JSON parse, React render and commit. */
    afterSummary: number | null;
  };
  drillDownMs: number | null;
  drillDownTeam: string | null;
  drillDownRows: number | null;
  showAllMs: number | null;
  showAllRows: number | null;
}

async function pageRun(browser: Browser, url: string): Promise<PageRun> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  try {
    // When the ready signal appears, in the page's own clock (no polling from outside). A string, not a
    // function: tsx would wrap a function's inner names in a helper the page does not have.
    await context.addInitScript(`{
      const seen = () => {
        if (window.__readyAt !== undefined) return true;
        if (!document.querySelector(${JSON.stringify(READY)})) return false;
        window.__readyAt = performance.now();
        return true;
      };
      const obs = new MutationObserver(() => { if (seen()) obs.disconnect(); });
      obs.observe(document, { subtree: true, childList: true, attributes: true });
    }`);
    const page = await context.newPage();
    const t0 = performance.now();
    // From the navigation until the rows are drawn (the ready signal in the DOM): not until the load event,
    // since the rows come in the HTML itself when the page read them on the server.
    await page.goto(`${url}/scorecards`, { waitUntil: 'commit' });
    await page.locator(READY).waitFor({ timeout: 120_000 });
    const readyMs = round(performance.now() - t0);
    await page.waitForLoadState('load');
    const rows = await page.locator('[data-testid=scorecards] tbody tr').count();
    const timings = await page.evaluate((summary) => {
      const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
      const res = (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).find((e) =>
        new URL(e.name).pathname.startsWith(summary),
      );
      const ready = (window as unknown as { __readyAt?: number }).__readyAt ?? null;
      const scripts = (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).filter(
        (e) => e.initiatorType === 'script',
      );
      return {
        documentResponseEnd: Math.round(nav.responseEnd),
        scriptsLoaded: Math.round(Math.max(0, ...scripts.map((e) => e.responseEnd))),
        domContentLoaded: Math.round(nav.domContentLoadedEventEnd),
        loadEventEnd: Math.round(nav.loadEventEnd),
        firstContentfulPaint: (() => {
          const fcp = performance.getEntriesByName('first-contentful-paint')[0];
          return fcp ? Math.round(fcp.startTime) : null;
        })(),
        summaryStart: res ? Math.round(res.startTime) : null,
        summaryResponseEnd: res ? Math.round(res.responseEnd) : null,
        summaryTransferBytes: res ? res.transferSize : null,
        summaryDecodedBytes: res ? res.decodedBodySize : null,
        ready: ready === null ? null : Math.round(ready),
        afterSummary: ready !== null && res ? Math.round(ready - res.responseEnd) : null,
      };
    }, SUMMARY);
    // What a leader does next: open the worst squad's failing checks (client-side navigation).
    let drillDownMs: number | null = null;
    let drillDownTeam: string | null = null;
    let drillDownRows: number | null = null;
    const link = page.locator('[data-testid=scorecards] a[href^="/scorecards?team="]').first();
    if ((await link.count()) > 0) {
      drillDownTeam = (await link.textContent())?.trim() ?? null;
      const t1 = performance.now();
      await link.click();
      await page.getByTestId('team-scores').waitFor({ timeout: 60_000 });
      drillDownMs = round(performance.now() - t1);
      drillDownRows = await page.locator('[data-testid^=team-service-]').count();
    }
    // Every squad, asked for ("Show all"): the page loaded again (cached scripts), then the click.
    let showAllMs: number | null = null;
    let showAllRows: number | null = null;
    await page.goto(`${url}/scorecards`);
    await page.locator(READY).waitFor({ timeout: 120_000 });
    const cut = page.getByTestId('squads-cut').first();
    if ((await cut.count()) > 0) {
      const t2 = performance.now();
      await page.getByTestId('show-all-squads').first().click();
      await cut.waitFor({ state: 'detached', timeout: 120_000 });
      showAllMs = round(performance.now() - t2);
      showAllRows = await page.locator('[data-testid=scorecards] tbody tr').count();
    }
    return { readyMs, rows, timings, drillDownMs, drillDownTeam, drillDownRows, showAllMs, showAllRows };
  } finally {
    await context.close();
  }
}

/** One more page load under Chromium's CPU profiler; the profile is written to `file` (open it in DevTools). */
async function profileRun(browser: Browser, url: string, file: string) {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  try {
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
    await cdp.send('Profiler.start');
    await page.goto(`${url}/scorecards`);
    await page.locator(READY).waitFor({ timeout: 120_000 });
    const { profile } = await cdp.send('Profiler.stop');
    writeFileSync(file, JSON.stringify(profile));
    // Self time by function, the largest first: enough to say where the time went.
    const self = new Map<string, number>();
    const dt = profile.timeDeltas ?? [];
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    (profile.samples ?? []).forEach((id, i) => {
      const n = byId.get(id);
      if (!n) return;
      const f = n.callFrame;
      const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}:${f.lineNumber + 1}`;
      self.set(key, (self.get(key) ?? 0) + (dt[i] ?? 0) / 1000);
    });
    return [...self]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 15)
      .map(([fn, ms]) => ({ fn, selfMs: round(ms) }));
  } finally {
    await context.close();
  }
}

async function main() {
  // Next logs to stdout ("✓ Running next.config.ts …"); stdout is for the JSON alone.
  console.log = (...args: unknown[]) => console.error(...args);
  const { values } = parseArgs({
    options: {
      root: { type: 'string' },
      db: { type: 'string' },
      services: { type: 'string', default: '350' },
      runs: { type: 'string', default: '5' },
      'skip-build': { type: 'boolean', default: false },
      profile: { type: 'string' },
    },
  });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs takes a positive integer');
  if (values.db && !values.root)
    throw new Error('--db needs --root (the estate that store was ingested from)');
  const loadBefore = loadavg();
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO }).toString().trim();
  const dirty = execFileSync('git', ['status', '--porcelain'], { cwd: REPO }).toString().trim() !== '';
  const buildMs = build(values['skip-build']);
  const work = mkdtempSync(path.join(os.tmpdir(), 'bench-scorecards-page-'));
  let root = values.root ? path.resolve(values.root) : '';
  let generatedServices: number | null = null;
  try {
    if (!root) {
      generatedServices = Number(values.services);
      log(`generating ${generatedServices} services …`);
      root = path.join(work, 'estate');
      writeEstate(generateEstate({ services: generatedServices, seed: 42 }), root);
    }
    const { catalog, openMs } = await prepareStore(work, root, values.db);
    const components = catalog.loaded.all().filter((e) => e.kind === 'Component').length;
    log(`${catalog.loaded.size} entities, ${components} components; serving …`);
    const started = performance.now();
    const server = await startServer({ catalog, port: 0, ui: true });
    let browser: Browser | undefined;
    try {
      log(`${server.url}: waiting for the first scoring (minutes at 35,000 services) …`);
      const first = await fetch(`${server.url}${SUMMARY}`);
      if (first.status !== 200) throw new Error(`${SUMMARY}: HTTP ${first.status}`);
      const firstBody = (await first.json()) as { rollups: { services: number; squads: unknown[] }[] };
      const firstScoringMs = round(performance.now() - started);
      log(`scored in ${firstScoringMs} ms`);
      // The answers over HTTP from Node (asking for gzip, as the browser does): the page's first one (the
      // worst teams of each list) and the whole one, which "Show all" asks for.
      const summaryApi: Record<
        string,
        { bytes: number; encoding: string | null; ms: ReturnType<typeof stats> }
      > = {};
      for (const route of [SCORECARDS_SUMMARY_API_URL, SUMMARY]) {
        const times: number[] = [];
        let bytes = 0;
        let encoding: string | null = null;
        for (let i = 0; i < Math.max(5, runs); i++) {
          const t = performance.now();
          const res = await fetch(`${server.url}${route}`, { headers: { 'accept-encoding': 'gzip' } });
          const body = await res.arrayBuffer();
          times.push(performance.now() - t);
          if (res.status !== 200) throw new Error(`${route}: HTTP ${res.status}`);
          bytes = body.byteLength;
          encoding = res.headers.get('content-encoding');
        }
        summaryApi[route] = { bytes, encoding, ms: stats(times) };
      }
      browser = await launchChromium();
      const chromium = browser.version();
      const results: PageRun[] = [];
      for (let i = 0; i < runs; i++) {
        const r = await pageRun(browser, server.url);
        log(
          `run ${i + 1}: ready ${r.readyMs} ms, ${r.rows} rows, drill-down ${r.drillDownMs} ms, show all ${r.showAllMs} ms (${r.showAllRows} rows); ${JSON.stringify(r.timings)}`,
        );
        results.push(r);
      }
      const profile = values.profile ? await profileRun(browser, server.url, values.profile) : undefined;
      const pick = (f: (r: PageRun) => number | null) => {
        const xs = results.map(f).filter((x): x is number => x !== null);
        return xs.length ? stats(xs) : null;
      };
      const page = pick((r) => r.readyMs);
      const out = {
        bench: 'scorecards-page',
        target: `/scorecards drawn ≤ ${TARGET_MS} ms at 35,000 services (issue 17)`,
        command: [
          'npx tsx bench/scorecards/page.ts',
          values.root ? `--root ${values.root}` : `--services ${values.services}`,
          values.db ? `--db ${values.db}` : '',
          `--runs ${runs}`,
          values['skip-build'] ? '--skip-build' : '',
          values.profile ? `--profile ${values.profile}` : '',
        ]
          .filter(Boolean)
          .join(' '),
        at: new Date().toISOString(),
        commit: dirty ? `${commit} (with uncommitted changes)` : commit,
        node: process.version,
        chromium,
        cpus: os.cpus().length,
        loadAverageBefore: loadBefore,
        loadAverageAfter: loadavg(),
        estate: {
          generatedServices,
          entities: catalog.loaded.size,
          components,
          scored: firstBody.rollups.map((r) => r.services),
          squads: firstBody.rollups.map((r) => r.squads.length),
        },
        nextBuildMs: buildMs,
        openStoreMs: openMs,
        firstScoringMs,
        summaryApi,
        pageReadyMs: page,
        meetsTarget: page ? page.median <= TARGET_MS : false,
        rowsDrawn: results[0]?.rows ?? null,
        inPage: {
          documentResponseEnd: pick((r) => r.timings.documentResponseEnd),
          scriptsLoaded: pick((r) => r.timings.scriptsLoaded),
          domContentLoaded: pick((r) => r.timings.domContentLoaded),
          loadEventEnd: pick((r) => r.timings.loadEventEnd),
          firstContentfulPaint: pick((r) => r.timings.firstContentfulPaint),
          summaryStart: pick((r) => r.timings.summaryStart),
          summaryResponseEnd: pick((r) => r.timings.summaryResponseEnd),
          summaryTransferBytes: results[0]?.timings.summaryTransferBytes ?? null,
          summaryDecodedBytes: results[0]?.timings.summaryDecodedBytes ?? null,
          ready: pick((r) => r.timings.ready),
          afterSummary: pick((r) => r.timings.afterSummary),
        },
        drillDown: {
          what: "a click on the first (worst) squad's link → its failing checks drawn",
          team: results[0]?.drillDownTeam ?? null,
          rows: results[0]?.drillDownRows ?? null,
          ms: pick((r) => r.drillDownMs),
        },
        showAllSquads: {
          what: '"Show all" squads clicked → every squad drawn (the page loaded again first)',
          rows: results[0]?.showAllRows ?? null,
          ms: pick((r) => r.showAllMs),
        },
        profileTopSelf: profile,
        runs: results,
      };
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    } finally {
      await browser?.close();
      await server.close();
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
process.exit(0);
