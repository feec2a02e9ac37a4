import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { envExporter, resetEnvExporter } from '@bank/rpc';
import { type Chain, startChain, UNDECLARED } from '@bank/rpc/example/chain.ts';
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

  it('a failing edge is drawn in the error colour, with a legend, in the graph explorer and the path tracer', async () => {
    const { page, url } = portal;
    // Transactions fails 4 requests in 40, and the failure comes back up the chain: card-processing → cards
    // fails as often (what the API says, checked first).
    const observed = (await (await fetch(`${url}/api/traffic/edges?entity=cards`)).json()) as {
      edges: { from: string; to: string; health: { '1h': { errorRate: number } } }[];
    };
    const into = observed.edges.find(
      (e) => e.from === 'component:default/card-processing' && e.to === 'component:default/cards',
    );
    assert.ok(into && into.health['1h'].errorRate >= 0.05, JSON.stringify(into?.health));
    await page.goto(`${url}/graph?focus=cards`);
    const canvas = page.locator('[data-testid=graph-canvas][data-ready=true]');
    await canvas.waitFor({ timeout: 30_000 });
    // Health arrives after the graph is drawn.
    await page.locator('[data-testid=graph-canvas]:not([data-failing-edges="0"])').waitFor();
    const legend = (await page.getByTestId('error-rate-legend').textContent()) ?? '';
    assert.match(legend, /≥ 5% errors/);
    // What cytoscape draws: the edge's line colour, read from the canvas's own instance.
    const drawn = await page.evaluate(() => {
      type Edge = { id(): string; style(name: string): string; hasClass(c: string): boolean };
      const el = document.querySelector('[data-testid=graph-canvas]') as HTMLElement & {
        _cyreg: { cy: { getElementById(id: string): Edge & { length: number }; edges(): Edge[] } };
      };
      const cy = el._cyreg.cy;
      const failing = cy.getElementById('n:component:default/card-processing->n:component:default/cards');
      const probe = document.createElement('span');
      probe.style.color = 'var(--danger)';
      document.body.append(probe);
      const danger = getComputedStyle(probe).color;
      probe.remove();
      const other = cy.edges().filter((e) => !e.hasClass('errors-failing') && !e.hasClass('errors-degraded'));
      return {
        ids: cy
          .edges()
          .filter((e) => e.hasClass('errors-failing'))
          .map((e) => e.id()),
        found: failing.length,
        failing: failing.style('line-color'),
        others: other.map((e) => e.style('line-color')),
        danger,
      };
    });
    const rgb = (c: string) => c.replace(/\s+/g, '');
    assert.equal(drawn.found, 1, `card-processing → cards is drawn (failing: ${drawn.ids.join(' | ')})`);
    assert.equal(rgb(drawn.failing), rgb(drawn.danger), 'drawn in the error colour');
    assert.ok(drawn.others.length > 0);
    assert.ok(
      drawn.others.every((c) => rgb(c) !== rgb(drawn.danger)),
      'edges without errors keep their colour',
    );
    await shot(page, 'traffic-4-graph-error-colour');

    await page.goto(`${url}/paths?from=cards&to=transactions&via=observed`);
    const arrow = page.locator('[data-testid=hop-arrow][data-error-band]');
    await arrow.first().waitFor();
    assert.equal(await arrow.first().getAttribute('data-error-band'), 'failing');
    const line = await arrow
      .first()
      .locator('.line')
      .evaluate((el) => getComputedStyle(el).backgroundColor);
    assert.equal(rgb(line), rgb(drawn.danger));
    assert.match((await page.getByTestId('error-rate-legend').textContent()) ?? '', /errors/);
  });
});
