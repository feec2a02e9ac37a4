import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { envExporter, resetEnvExporter } from '@bank/rpc';
import { type Chain, startChain, UNDECLARED } from '../../services/lib/rpc/example/chain.ts';
import { openPortal, type Portal, shot, unavailable } from './harness.ts';

const why = unavailable();
if (why && process.env.CI === 'true') throw new Error(`Browser journeys cannot run in CI: ${why}`);

const TOKEN = 'e2e-traffic-token';

/**
 * Observed traffic where people look, in Chromium: the demo chain (real services on services/lib/rpc,
 * spans through the OpenTelemetry SDK) sends traffic to the portal; the entity page, the path tracer and the
 * graph explorer show it.
 */
describe('observed traffic journeys in Chromium', { skip: why }, () => {
  let portal: Portal;
  let chain: Chain;
  before(async () => {
    process.env.PORTAL_API_TOKENS = TOKEN;
    portal = await openPortal();
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = portal.url;
    process.env.OTEL_EXPORTER_OTLP_HEADERS = `Authorization=Bearer ${TOKEN}`;
    resetEnvExporter();
    chain = await startChain();
    for (let i = 0; i < 40; i++) assert.ok((await chain.request(String(i), i % 10 === 3)) > 0);
    await envExporter()?.flush();
  });
  after(async () => {
    await chain?.stop();
    await envExporter()?.shutdown();
    delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    delete process.env.OTEL_EXPORTER_OTLP_HEADERS;
    resetEnvExporter();
    await portal?.close();
  });

  it('the entity page lists real callers and callees with their health, and marks the undeclared call', async () => {
    const { page, url } = portal;
    await page.goto(`${url}/entity/component/default/${UNDECLARED.from}`);
    const card = page.getByTestId('traffic-card');
    await card.getByTestId('traffic-edge').first().waitFor();
    const callers = (await card.getByTestId('traffic-callers').textContent()) ?? '';
    const callees = (await card.getByTestId('traffic-callees').textContent()) ?? '';
    assert.match(callers, /card-processing/);
    assert.match(callees, /transactions/);
    assert.match(callees, /feed/);
    assert.match(callees, /40 req · 10% errors · p99 \d/, 'cards → transactions: 4 of 40 failed');
    const undeclared = card
      .getByTestId('traffic-callees')
      .locator('li', { has: page.getByTestId('undeclared') });
    assert.equal(await undeclared.count(), 1);
    assert.match((await undeclared.textContent()) ?? '', /feed/);
    await shot(page, 'traffic-1-entity-callers-callees');
  });

  it('the path tracer runs over observed edges only and shows each hop’s edge health', async () => {
    const { page, url } = portal;
    await page.goto(`${url}/paths?from=card-api&to=feed&via=observed`);
    await page.getByTestId('hop').first().waitFor();
    const hops = await page.locator('[data-testid=hop] .hop-name').allTextContents();
    // Over observed edges the shortest way is the undeclared shortcut cards → feed.
    assert.deepEqual(hops, ['card-api', 'card-processing', 'cards', 'feed']);
    await page.getByTestId('hop-edge-health').first().waitFor();
    const health = await page.getByTestId('hop-edge-health').allTextContents();
    assert.equal(health.length, 3);
    assert.ok(
      health.every((h) => /40 req · \d+% errors · p99 \d/.test(h)),
      health.join(' | '),
    );
    const sources = await page.getByTestId('hop-edge-source').allTextContents();
    assert.deepEqual(sources, ['declared+seen', 'declared+seen', 'seen only']);
    assert.equal(await page.locator('select[name=via]').inputValue(), 'observed');
    await shot(page, 'traffic-2-path-observed');

    // Declared only: the undeclared shortcut is gone and the path is longer.
    await page.locator('select[name=via]').selectOption('declared');
    await page.waitForURL(/via=declared/);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=hop]').length > 4, undefined, {
      timeout: 30_000,
    });
    const declaredSources = await page.getByTestId('hop-edge-source').allTextContents();
    assert.ok(!declaredSources.includes('seen only'));
  });

  it('impact can run over observed edges: feed’s blast radius by traffic is the chain that really calls it', async () => {
    const { page, url } = portal;
    await page.goto(`${url}/impact?ref=feed&via=observed`);
    await page.getByTestId('impact-summary').waitFor();
    assert.equal(await page.locator('select[name=via]').inputValue(), 'observed');
    const text = (await page.locator('main').textContent()) ?? '';
    for (const caller of ['cards', 'card-processing', 'card-api', 'feed-generator', 'transactions'])
      assert.ok(text.includes(caller), `${caller} is in feed's observed blast radius`);
    // By traffic, exactly the 8 services of the chain above feed reach it.
    const summary = (await page.getByTestId('impact-summary').textContent()) ?? '';
    assert.match(summary, /^\D*8\s*dependents/, summary);
  });

  it('the graph explorer draws observed-only and declared-only edges differently', async () => {
    const { page, url } = portal;
    await page.goto(`${url}/graph?focus=cards`);
    await page.locator('[data-testid=graph-canvas][data-ready=true]').waitFor({ timeout: 30_000 });
    const canvas = page.getByTestId('graph-canvas');
    assert.ok(Number(await canvas.getAttribute('data-observed-only-edges')) >= 1, 'cards → feed, dashed');
    assert.ok(Number(await canvas.getAttribute('data-declared-only-edges')) >= 1, 'declared, never seen');
    const legend = (await page.locator('.legend').first().textContent()) ?? '';
    assert.match(legend, /seen only/);
    await shot(page, 'traffic-3-graph');
  });
});
