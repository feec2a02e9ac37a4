/**
 * The plugin mounted in a minimal Backstage app (dev/App.tsx: createApp, FlatRoutes, the catalogue's
 * CatalogEntityPage and EntityLayout) bundled by esbuild, in Chromium, against a real `portal serve`: what
 * a Backstage user sees on the path tracer page, on the entity overview's card and on the entity tab.
 * The entity comes from the portal's catalogue through Backstage's catalog client; the plugin's answers
 * through discoveryApi ('portal' → the app's /api/proxy/portal) and fetchApi.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, SHOTS, shot, unavailable } from '../../../portal/e2e/browser.ts';
import { type RunningPortal, startEstatePortal } from '../src/testing/portal.ts';
import { type AppShell, startAppShell } from './shell.ts';

const why = unavailable();
if (why && process.env.CI === 'true') throw new Error(`Browser journeys cannot run in CI: ${why}`);

/** The cells of each row with this test id, as text. */
const rows = (page: Page, testId: string) =>
  page
    .getByTestId(testId)
    .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));

describe('the plugin in a Backstage app shell, in Chromium', { skip: why }, () => {
  let portal: RunningPortal;
  let shell: AppShell;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  /** Paths the app asked its backend for (through discovery), in order. */
  const asked: string[] = [];

  before(async () => {
    portal = await startEstatePortal();
    shell = await startAppShell({ portalUrl: portal.url });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    page.setDefaultTimeout(30_000);
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('request', (req) => {
      const url = new URL(req.url());
      if (url.pathname.startsWith('/api/')) asked.push(`${req.method()} ${url.pathname}`);
    });
    mkdirSync(SHOTS, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await shell?.close();
    await portal?.close();
  });

  it('path tracer page: a linked trace shows card-api → feed hop by hop, with owners and the deploy on it', async () => {
    await page.goto(`${shell.url}/portal/paths?from=card-api&to=feed`);
    await page.getByText('Path 1: card-api → cards → feed (2 hops)').waitFor();
    const hops = await rows(page, 'portal-hop');
    assert.deepEqual(
      hops.map((cells) => cells[1]),
      ['card-api', 'cards', 'feed'],
    );
    assert.match(hops[0].join(' '), /accounts/);
    assert.match(hops[0].join(' '), /dependsOn \(declared\)/);
    assert.match(hops[1].join(' '), /ledger/);
    await page.getByTestId('portal-deploy').first().waitFor();
    const deploys = await rows(page, 'portal-deploy');
    assert.equal(deploys.length, 1);
    assert.match(deploys[0].join(' '), /card-api.*prod.*4\.2\.0/);
    // Asked through the 'portal' discovery entry, i.e. the app's proxy path, not the portal directly.
    assert.ok(asked.includes('GET /api/proxy/portal/graph/paths'), asked.join('\n'));
    await shot(page, 'backstage-app-path-tracer');
  });

  it('path tracer page: typing two services and pressing Trace shows their path and links it', async () => {
    await page.goto(`${shell.url}/portal/paths`);
    await page.getByLabel('From', { exact: true }).fill('reports');
    await page.getByLabel('To', { exact: true }).fill('cards');
    await page.getByRole('button', { name: 'Trace' }).click();
    await page.getByText('Path 1: reports → web → card-api → cards (3 hops)').waitFor();
    assert.match(page.url(), /\/portal\/paths\?from=reports&to=cards$/);
  });

  it('entity overview: the catalogue entity card-api with the plugin’s card (blast radius, drift, deploys)', async () => {
    await page.goto(`${shell.url}/catalog/default/component/card-api`);
    const headline = page.getByTestId('portal-impact-headline');
    await headline.waitFor();
    assert.equal(
      await headline.textContent(),
      '3 services depend on card-api, 2 of them tier 1, across 2 squads.',
    );
    const squads = (await rows(page, 'portal-rollup')).map((cells) => cells[0]).sort();
    assert.deepEqual(squads, ['accounts', 'ledger']);
    await page.getByTestId('portal-drift-summary').waitFor();
    assert.equal(
      await page.getByTestId('portal-drift-summary').textContent(),
      'Drift: 1 undeclared call, 3 declared calls never seen.',
    );
    assert.equal(
      await page.getByTestId('portal-deploys-summary').textContent(),
      'Deploys in the last 7 days: 1.',
    );
    // The entity page is the catalogue's: its header names the entity read from the portal's catalog API.
    await page.getByRole('heading', { name: 'card-api' }).first().waitFor();
    assert.ok(
      asked.includes('GET /api/catalog/entities/by-name/component/default/card-api'),
      asked.join('\n'),
    );
    await shot(page, 'backstage-app-entity-overview');
  });

  it('entity tab: the blast radius in full, drift rows, deploys in the blast radius, and a path traced from it', async () => {
    await page.getByRole('tab', { name: 'Paths & blast radius' }).click();
    await page.waitForURL(/\/catalog\/default\/component\/card-api\/portal$/);
    await page.getByTestId('portal-dependent').first().waitFor();
    assert.deepEqual(await rows(page, 'portal-dependent'), [
      ['mobile-app', 'accounts', 'tier 1', '1', 'card-api'],
      ['web', 'ledger', 'tier 1', '1', 'card-api'],
      ['reports', 'ledger', 'tier 3', '2', 'web'],
    ]);
    await page.getByTestId('portal-drift-row').first().waitFor();
    const drift = (await rows(page, 'portal-drift-row')).map((cells) => cells.slice(0, 3).join(' '));
    assert.equal(drift[0], 'card-api fraud seen, not declared');
    assert.deepEqual(drift.slice(1).sort(), [
      'card-api cards declared, never seen',
      'mobile-app card-api declared, never seen',
      'web card-api declared, never seen',
    ]);
    await page.getByTestId('portal-deploy').nth(1).waitFor();
    const deploys = (await rows(page, 'portal-deploy')).map((cells) => cells.join(' '));
    assert.equal(deploys.length, 2);
    assert.ok(
      deploys.some((d) => /web.*prod.*9\.0\.1/.test(d)),
      deploys.join('\n'),
    );
    assert.ok(
      deploys.some((d) => /card-api.*prod.*4\.2\.0/.test(d)),
      deploys.join('\n'),
    );
    // From is the entity; the user types where to.
    assert.equal(await page.getByLabel('From', { exact: true }).inputValue(), 'component:default/card-api');
    await page.getByLabel('To', { exact: true }).fill('feed');
    await page.getByRole('button', { name: 'Trace' }).click();
    await page.getByText('Path 1: card-api → cards → feed (2 hops)').waitFor();
    await shot(page, 'backstage-app-entity-tab');
    assert.deepEqual(pageErrors, []);
  });
});
