import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openPortal, type Portal, shot, unavailable } from './harness.ts';

const why = unavailable();
if (why && process.env.CI === 'true') throw new Error(`Browser journeys cannot run in CI: ${why}`);

describe('portal journeys in Chromium', { skip: why }, () => {
  let portal: Portal;
  before(async () => {
    portal = await openPortal();
  });
  after(async () => {
    await portal?.close();
  });

  it('an engineer searches for ledger with the keyboard and opens its page', async () => {
    const { page, url } = portal;
    await page.goto(`${url}/`);
    await page.locator('.stat').first().waitFor();
    await page.keyboard.press('/');
    await page.keyboard.type('ledger');
    const first = page.getByRole('option').first();
    await first.waitFor();
    assert.match((await first.textContent()) ?? '', /^component\s*ledger/);
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/entity\/component\/default\/ledger$/);
    await page.getByTestId('entity-page').waitFor();
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Ledger');
    const overview = page.getByRole('region', { name: 'Overview' });
    assert.match((await overview.textContent()) ?? '', /On-call rota\s*core-banking-ledger/);
    // The team's Slack channel is a link into Slack.
    const slack = overview.getByTestId('slack-link');
    assert.equal(await slack.textContent(), '#squad-ledger');
    assert.equal(await slack.getAttribute('href'), 'https://slack.com/app_redirect?channel=squad-ledger');
    assert.match((await page.getByTestId('dependents').textContent()) ?? '', /transitively/);
    await page.getByRole('heading', { name: 'Kubernetes (desired state)' }).waitFor();
    await page.getByText('replicas').first().waitFor();
    await shot(page, 'journey-1-search-ledger');
  });

  it('an incident responder traces card-api → feed and sees every hop’s owner, then switches path', async () => {
    const { page, url } = portal;
    await page.goto(`${url}/paths?from=card-api&to=feed`);
    await page.getByTestId('hop').first().waitFor();
    const hops = page.getByTestId('hop');
    const n = await hops.count();
    assert.ok(n >= 2, `${n} hops`);
    const names = await page.locator('[data-testid=hop] .hop-name').allTextContents();
    assert.equal(names[0], 'card-api');
    assert.equal(names[names.length - 1], 'feed');
    for (const owner of await page.getByTestId('hop-owner').allTextContents()) {
      assert.ok(owner.trim() !== '' && owner.trim() !== 'none', `owner "${owner}"`);
    }
    const tabs = page.getByRole('tab');
    assert.ok((await tabs.count()) >= 2, 'several paths');
    await shot(page, 'journey-2-path-card-api-feed');
    await tabs.nth(1).click();
    await page.waitForURL(/path=2/);
    assert.equal(await tabs.nth(1).getAttribute('aria-selected'), 'true');
    assert.equal((await page.locator('[data-testid=hop] .hop-name').allTextContents())[0], 'card-api');
  });

  it('a team opens the graph focused on balance and double-clicks through to a neighbour', async () => {
    const { page, url } = portal;
    await page.goto(`${url}/graph?focus=balance`);
    await page.locator('[data-testid=graph-canvas][data-ready=true]').waitFor();
    assert.match(
      (await page.getByTestId('graph-status').textContent()) ?? '',
      /^\d+ services · \d+ calls shown/,
    );
    assert.ok(Number(await page.getByTestId('graph-canvas').getAttribute('data-nodes')) > 1);
    await shot(page, 'journey-3-graph-balance');
    // The overview: a collective's box opens its services and their neighbours.
    await page.getByRole('button', { name: /Clear focus/ }).click();
    await page.waitForURL((u) => !u.search.includes('focus='));
    await page
      .locator('[data-testid=graph-table] tr[data-node="g:group:default/core-banking"] button')
      .click();
    await page.getByRole('button', { name: 'Show its services and neighbours' }).click();
    await page.waitForURL(/team=group%3Adefault%2Fcore-banking/);
    await page.locator('[data-testid=graph-table] tr[data-node="n:component:default/ledger"]').waitFor();
  });

  it('leadership opens the org view and drills into a squad', async () => {
    const { page, url } = portal;
    await page.goto(`${url}/org`);
    await page.getByTestId('org-view').waitFor();
    await page.getByRole('heading', { name: 'Teams by load' }).waitFor();
    await page.getByRole('heading', { name: /Tier inversions/ }).waitFor();
    assert.match(
      (await page.getByTestId('tier-legend').first().textContent()) ?? '',
      /tier 1: money moves through it\s*tier 2\s*tier 3\s*tier 4 or none/,
    );
    await shot(page, 'journey-4a-org');
    await page.getByRole('button', { name: /^Core Banking/ }).click();
    await page.getByTestId('org-squad').filter({ hasText: 'Ledger' }).click();
    await page.waitForURL(/squad=ledger/);
    const panel = page.getByTestId('squad-panel');
    await panel.waitFor();
    await panel.getByRole('heading', { name: 'People' }).waitFor();
    await panel.locator('.list li a').first().waitFor();
    assert.match((await panel.textContent()) ?? '', /services per engineer/);
    await shot(page, 'journey-4b-org-squad');
    await panel.getByRole('link', { name: 'Open team page' }).click();
    await page.waitForURL(/\/entity\/group\/default\/ledger$/);
    await page.getByTestId('members').locator('li').first().waitFor();
    // A squad with 0 services says why, rather than leaving a bare 0.
    await page.goto(`${url}/org?collective=platform&squad=infrastructure`);
    const infra = page.getByTestId('squad-panel');
    await infra.getByRole('heading', { name: 'Services', exact: true }).waitFor();
    await infra.getByText(/^0 services: no Component names Infrastructure as its owner/).waitFor();
  });

  it('the catalogue filters by tier and collective, sorts, pages and keeps it all in the URL', async () => {
    const { page, url } = portal;
    // Backstage's paths, typed by habit, land on ours (with the query kept).
    await page.goto(`${url}/catalog?tier=1`);
    assert.equal(new URL(page.url()).pathname + new URL(page.url()).search, '/catalogue?tier=1');
    await page.goto(`${url}/catalog/default/component/ledger`);
    assert.equal(new URL(page.url()).pathname, '/entity/component/default/ledger');
    await page.goto(`${url}/catalogue`);
    await page.locator('[data-testid=catalogue][data-ready=true]').waitFor();
    await page.getByRole('group', { name: 'Tier' }).getByLabel('Tier 1').click();
    await page.waitForURL(/tier=1/);
    await page.locator('[data-testid=catalogue][data-ready=true]').waitFor();
    const tiers = await page.locator('tbody .tier').allTextContents();
    assert.ok(tiers.length > 0 && tiers.every((t) => t === 'T1'), tiers.join());
    await page.getByRole('button', { name: /^Owner/ }).click();
    await page.waitForURL(/sort=owner/);
    const shared = page.url();
    await page.goto(shared);
    await page.locator('[data-testid=catalogue][data-ready=true]').waitFor();
    assert.equal(await page.getByRole('group', { name: 'Tier' }).getByLabel('Tier 1').isChecked(), true);
    await shot(page, 'journey-5-catalogue');
    await page.evaluate(() => {
      document.documentElement.dataset.theme = 'dark';
    });
    await shot(page, 'journey-5-catalogue-dark');
  });
});
