import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openPortal, type Portal, shot, unavailable } from './harness.ts';

const why = unavailable();
if (why && process.env.CI === 'true') throw new Error(`Browser journeys cannot run in CI: ${why}`);

describe('scorecard journey in Chromium', { skip: why }, () => {
  let portal: Portal;
  before(async () => {
    portal = await openPortal();
  });
  after(async () => {
    await portal?.close();
  });

  it("leadership goes from the org view to a squad's failing checks, and on to the file that decides one", async () => {
    const { page, url } = portal;
    await page.goto(`${url}/org`);
    await page.getByTestId('org-view').waitFor();
    // Each team's maturity beside its load: Ledger's row in "Teams by load" shows its level spread.
    const ledgerRow = page.getByRole('row').filter({ has: page.getByTestId('squad-maturity-ledger') });
    const seen = page.getByTestId('squad-maturity-ledger').getByTestId('team-maturity-spread');
    await seen.waitFor();
    const spread = Object.fromEntries(
      [...((await seen.textContent()) ?? '').matchAll(/(\w+) (\d+)/g)].map((m) => [m[1], Number(m[2])]),
    );
    const engineers = Number((await ledgerRow.locator('td').nth(2).textContent()) ?? '');
    const services = Number((await ledgerRow.locator('td').nth(3).textContent()) ?? '');
    assert.ok(engineers > 0 && services > 0, `Ledger: ${engineers} engineers, ${services} services`);
    // The scorecard's scope (services, not libraries) decides which of them are scored.
    const scored = Object.values(spread).reduce((a, b) => a + b, 0);
    assert.ok(scored > 0 && scored <= services, `Ledger: ${scored} of ${services} scored`);
    assert.match(
      (await page.getByTestId('collective-maturity-core-banking').textContent()) ?? '',
      /^(bronze|silver|gold|below the lowest level) \d+% reach bronze \(/,
    );
    await shot(page, 'scorecards-0-org-maturity');
    await page.getByRole('button', { name: /^Core Banking/ }).click();
    await page.getByTestId('org-squad').filter({ hasText: 'Ledger' }).click();
    await page.getByTestId('squad-panel').waitFor();
    await page.getByTestId('squad-scorecards').click();
    await page.waitForURL(/\/scorecards\?team=group%3Adefault%2Fledger/);
    await page.getByTestId('team-scores').waitFor();
    // Worst first: services below bronze lead; ledger-entries (the estate gives it no liveness probe) is one.
    const levels = await page.locator('[data-testid^=team-service-] td:nth-child(3)').allTextContents();
    // The team page lists the same services the org view counted, level by level.
    const counted: Record<string, number> = {};
    for (const l of levels) counted[l === '–' ? 'none' : l] = (counted[l === '–' ? 'none' : l] ?? 0) + 1;
    assert.deepEqual(counted, spread);
    assert.ok(
      levels.indexOf('–') === 0 && levels.lastIndexOf('–') < levels.indexOf('bronze'),
      levels.join(' '),
    );
    const first = page.getByTestId('team-service-ledger-entries');
    const failing = (await first.locator('td').nth(3).textContent()) ?? '';
    assert.match(failing, /Readiness and liveness probes: service-ledger-entries has no livenessProbe/);
    await shot(page, 'scorecards-1-team');

    const service = ((await first.locator('a').textContent()) ?? '').trim();
    await first.locator('a').click();
    await page.waitForURL(new RegExp(`/entity/component/default/${service}`));
    const card = page.getByTestId('scorecard-card');
    await card.getByTestId('score-level').first().waitFor();
    const link = card.getByTestId('evidence-link').first();
    await link.waitFor();
    const href = (await link.getAttribute('href')) ?? '';
    // The file that decides it, in the repository, at its line: inside this service's folder.
    assert.match(
      href,
      new RegExp(
        `^https://git\\.bank\\.internal/bank/estate/blob/main/services/${service}/.+\\.yaml(#L\\d+)?$`,
      ),
    );
    assert.match((await link.textContent()) ?? '', new RegExp(`^services/${service}/.+\\.yaml`));
    await shot(page, 'scorecards-2-entity-card');
  });

  it('the scorecards page ranks collectives and squads worst first', async () => {
    const { page, url } = portal;
    // Once the estate is scored (the API answers), the page reads its rollups on the server: they are in the
    // HTML itself, drawn at first paint, without waiting for the scripts (a plain GET, no JavaScript).
    assert.equal((await fetch(`${url}/api/scorecards/summary?top=50`)).status, 200);
    const html = await (await fetch(`${url}/scorecards`)).text();
    assert.match(html, /data-testid="scorecards" data-ready="true"/);
    assert.match(html, /data-testid="rollup-production-readiness"/);
    assert.doesNotMatch(html, /rel="preload"[^>]*as="fetch"/, 'nothing left to fetch first');
    await page.goto(`${url}/scorecards`);
    await page.locator('[data-testid=scorecards][data-ready=true]').waitFor();
    const rollup = page.getByTestId('rollup-production-readiness');
    await rollup.waitFor();
    const rates = await rollup.locator('table').first().locator('tbody tr td:nth-child(3)').allTextContents();
    const numbers = rates.map((r) => Number.parseInt(r, 10));
    assert.ok(numbers.length >= 9, `${numbers.length} collectives`);
    assert.deepEqual(
      numbers,
      [...numbers].sort((a, b) => a - b),
      'worst first',
    );
    await shot(page, 'scorecards-3-page');
  });

  it('the page draws the worst squads and fetches every other one when asked', async () => {
    const { page, url } = portal;
    // The page shows the worst 50 of each list (350 services have ~40 squads, all shown); `?top=5` makes
    // the cut that 35,000 services' thousands of squads get.
    await page.goto(`${url}/scorecards?top=5`);
    await page.locator('[data-testid=scorecards][data-ready=true]').waitFor();
    const rollup = page.getByTestId('rollup-production-readiness');
    const squads = rollup.locator('table').nth(1).locator('tbody tr');
    assert.equal(await squads.count(), 5);
    const said = (await rollup.getByTestId('squads-cut').textContent()) ?? '';
    const total = Number(/^The worst 5 of (\d+) squads\. Show all \1$/.exec(said)?.[1]);
    assert.ok(total > 5, said);
    const worst = await squads.locator('td:first-child').allTextContents();
    await rollup.getByTestId('show-all-squads').click();
    await rollup.getByTestId('squads-cut').waitFor({ state: 'detached' });
    assert.equal(await squads.count(), total);
    assert.deepEqual((await squads.locator('td:first-child').allTextContents()).slice(0, 5), worst);
    const rates = (await squads.locator('td:nth-child(3)').allTextContents()).map((r) =>
      Number.parseInt(r, 10),
    );
    assert.deepEqual(
      rates,
      [...rates].sort((a, b) => a - b),
      'worst first',
    );
    // The collectives stay cut until asked for too.
    assert.equal(await rollup.locator('table').first().locator('tbody tr').count(), 5);
    assert.match(
      (await rollup.getByTestId('collectives-cut').textContent()) ?? '',
      /^The worst 5 of \d+ collectives/,
    );
    await shot(page, 'scorecards-4-all-squads');
  });
});
