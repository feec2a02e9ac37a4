/**
 * Screenshots of the graph explorer at an estate size, to look at (not to diff), and the time from
 * `page.goto` to each view drawn.
 *
 *   npx tsx bench/ui/screenshots.ts --estate DIR --out DIR [--label 3500]
 *
 * DIR is an estate written by `npm run estate -- --services N --seed 42 --out DIR`. Ingests it into a fresh
 * SQLite file, serves API + UI (the built portal: `npm run build -w @bank/portal` first), opens Chromium at
 * 1440×900 and writes `<label>-<view>.png` under --out: the overview, a squad (Ledger), a collective
 * (Core Banking), and focus views. Prints JSON on stdout: per view the ms to draw, the nodes drawn, the size its
 * 12 px labels are drawn at as it opens (`labelPx`), what it opened on (`framed`: all fitted, or its core when
 * fitted labels would be under 9 px) and the in-view notice.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CatalogStore } from '@bank/catalog';
import { CatalogService } from '@bank/plugin-catalog';
import { chromium } from 'playwright-core';
import { startServer } from '../../portal/server/server.ts';

const { values } = parseArgs({
  options: {
    estate: { type: 'string' },
    out: { type: 'string', default: path.join(os.tmpdir(), 'graph-shots') },
    label: { type: 'string', default: 'estate' },
  },
});
if (!values.estate) throw new Error('--estate DIR is required (an estate written by npm run estate)');
console.log = (...args: unknown[]) => console.error(...args);
const log = (m: string) => process.stderr.write(`${m}\n`);

const VIEWS: Record<string, string> = {
  overview: '/graph',
  'team-ledger': '/graph?team=group%3Adefault%2Fledger',
  'team-core-banking': '/graph?team=group%3Adefault%2Fcore-banking',
  'focus-ledger-1': '/graph?focus=ledger',
  'focus-card-api-2': '/graph?focus=card-api&depth=2',
};

const out = path.resolve(values.out);
mkdirSync(out, { recursive: true });
const dir = mkdtempSync(path.join(os.tmpdir(), 'graph-shots-'));
try {
  let t = performance.now();
  const store = await CatalogStore.open(`file:${path.join(dir, 'portal.db')}`);
  const catalog = new CatalogService(store, [path.resolve(values.estate)]);
  await catalog.ingest();
  log(`ingested ${catalog.loaded.size} entities in ${Math.round(performance.now() - t)} ms`);
  const server = await startServer({ catalog, port: 0, ui: true });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  const results: Record<string, unknown> = {};
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    for (const [name, url] of Object.entries(VIEWS)) {
      t = performance.now();
      await page.goto(`${server.url}${url}`);
      await page.locator('[data-testid=graph-canvas][data-ready=true]').waitFor({ timeout: 120_000 });
      const ms = Math.round(performance.now() - t);
      const file = path.join(out, `${values.label}-${name}.png`);
      await page.screenshot({ path: file });
      const nodes = Number(await page.getByTestId('graph-canvas').getAttribute('data-nodes'));
      const status = await page.getByTestId('graph-status').textContent();
      // How large the 12 px labels are drawn as it opens, and what it opened on (all fitted, or its core).
      const labelPx = Number(
        await page.evaluate(
          `(document.querySelector('[data-testid=graph-canvas]').cy.zoom() * 12).toFixed(1)`,
        ),
      );
      const framed = await page.getByTestId('graph-canvas').getAttribute('data-framed');
      const inView = (await page.getByTestId('graph-in-view').count())
        ? await page.getByTestId('graph-in-view').textContent()
        : 'all';
      results[name] = { ms, nodes, labelPx, framed, inView, status, file };
      log(`${name}: ${ms} ms, ${nodes} nodes, labels ${labelPx}px, opened on ${framed} → ${file}`);
    }
  } finally {
    await browser.close();
    await server.close();
  }
  process.stdout.write(`${JSON.stringify({ estate: values.estate, results }, null, 2)}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
