import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readDemoHistory } from '@bank/plugin-deploys';
import { openPortal, type Portal, REPO, shot, unavailable } from './harness.ts';

const why = unavailable();
if (why && process.env.CI === 'true') throw new Error(`Browser journeys cannot run in CI: ${why}`);

const TOKEN = 'e2e-deployer-token';

describe('deploy journeys in Chromium', { skip: why }, () => {
  let portal: Portal;
  before(async () => {
    process.env.PORTAL_API_TOKENS = TOKEN;
    portal = await openPortal();
    // What `npm start` does on an empty store: the estate's generated history, marked as demo.
    const loaded = await portal.server.context.deploys.loadDemo(readDemoHistory(path.join(REPO, 'services')));
    assert.ok(loaded > 500, `${loaded} demo deploys loaded`);
  });
  after(async () => {
    await portal?.close();
  });

  it('an incident responder sees which hop of card-api → feed changed, who deployed it and when, and opens the timeline', async () => {
    const { page, url } = portal;
    await page.goto(`${url}/paths?from=card-api&to=feed&since=2h`);
    await page.getByTestId('hop').first().waitFor();
    const changed = page.locator('[data-testid=hop][data-changed=true]');
    await changed.first().waitFor();
    const names = await changed.locator('.hop-name').allTextContents();
    assert.ok(names.includes('card-api'), `changed hops: ${names.join(', ')}`);
    // Who and when, per environment, on the changed hop itself.
    const cardApi = page.locator('[data-testid=hop][data-changed=true]', {
      has: page.locator('.hop-name', { hasText: /^card-api$/ }),
    });
    const prod = (await cardApi.getByTestId('hop-deploy-prod').textContent()) ?? '';
    assert.match(prod, /v\d+\.\d+\.\d+\s*succeeded\s*\d+m ago by [a-z-]+/);
    // Who to call now on the hop (services/oncall.json): a person, the next hand-over, page and Slack links.
    const oncall = cardApi.getByTestId('oncall-now');
    await oncall.locator('strong').waitFor();
    assert.match(
      (await oncall.textContent()) ?? '',
      /^[A-Z][a-z]+ [A-Z][A-Za-z']+ until \d\d-\d\d \d\d:\d\d UTC, then [A-Z]/,
    );
    assert.equal(
      await oncall.getByRole('link', { name: '#squad-card-processing' }).getAttribute('href'),
      'https://slack.com/app_redirect?channel=squad-card-processing',
    );
    assert.match((await oncall.getByRole('link', { name: 'page' }).getAttribute('href')) ?? '', /^mailto:/);
    // A hop that did not change in the window is not flagged.
    const all = await page.locator('[data-testid=hop] .hop-name').allTextContents();
    assert.ok(all.length > names.length, 'some hops are unchanged');
    await page.getByTestId('demo-notice').first().waitFor();
    await shot(page, 'deploys-1-path-changed-hops');

    await cardApi.getByTestId('hop-changed').click();
    await page.waitForURL(/\/changes\?from=card-api&to=feed&since=2h/);
    await page.locator('[data-testid=changes][data-ready=true]').waitFor();
    assert.match(
      (await page.getByTestId('changes').locator('h2').textContent()) ?? '',
      /services on the path card-api → feed changed since/,
    );
    const rows = page.getByTestId('timeline').getByTestId('deploy-row');
    assert.ok((await rows.count()) >= 2);
    const text = (await page.getByTestId('timeline').textContent()) ?? '';
    assert.match(text, /card-api/);
    assert.match(text, /failed/, 'the failed deploy on the path is in the timeline');
    await shot(page, 'deploys-2-change-timeline');

    // The blast radius of feed: its callers deployed in the last 24 h are marked, with who and when.
    await page.goto(`${url}/impact?ref=feed`);
    await page.getByTestId('impact-changes-link').waitFor();
    const row = page.locator('tr', { has: page.locator('a', { hasText: /^card-api$/ }) });
    assert.match(
      (await row.getByTestId('impact-changed').textContent()) ?? '',
      /changed\s*prod v\d+\.\d+\.\d+\s*succeeded\s*\d+m ago by [a-z-]+/,
    );
  });

  it('a real deploy event replaces the demo history and shows on the entity page at once', async () => {
    const { page, url } = portal;
    const started = new Date(Date.now() - 120_000).toISOString();
    const res = await fetch(`${url}/api/deploys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        id: 'gha-9001',
        service: 'card-api',
        environment: 'prod',
        version: 'v9.9.9',
        image: 'registry.bank.internal/card-api:v9.9.9',
        commit: 'abcdef123456',
        actor: 'jane.doe',
        status: 'succeeded',
        startedAt: started,
        finishedAt: new Date().toISOString(),
      }),
    });
    assert.equal(res.status, 201);
    const body = (await res.json()) as { droppedDemo?: number };
    assert.ok((body.droppedDemo ?? 0) > 500, 'the demo history was dropped');
    await page.goto(`${url}/entity/component/default/card-api`);
    const card = page.getByTestId('deploys-card');
    await card
      .getByTestId('env-prod')
      .getByText(/running v9\.9\.9 since .* by jane\.doe/)
      .waitFor();
    assert.match((await card.getByTestId('env-staging').textContent()) ?? '', /not deployed yet/);
    assert.equal(await page.getByTestId('demo-notice').count(), 0);
    // Desired (the repo's k8s/) vs deployed vs live: the deploy shipped an image the manifests do not name.
    const prodCompare = card.getByTestId('compare-prod');
    await prodCompare.getByTestId('mismatch').waitFor();
    const compared = (await prodCompare.textContent()) ?? '';
    assert.match(
      compared,
      /3 replicas \(\.\/k8s\/deployment\.yaml\)registry\.bank\.internal\/card-api:v1\.2\.8/,
    );
    assert.match(compared, /v9\.9\.9 \d+[sm] ago by jane\.doe/);
    assert.match(compared, /no cluster watched/);
    assert.match(
      compared,
      /the last successful deploy \(v9\.9\.9\) shipped registry\.bank\.internal\/card-api:v9\.9\.9; the manifests in \.\/k8s say registry\.bank\.internal\/card-api:v1\.2\.8/,
    );
    assert.match(
      (await card.getByTestId('compare-staging').textContent()) ?? '',
      /no successful deploy.*no mismatch/,
    );
    await shot(page, 'deploys-3-entity-card');
  });

  it('the catalogue shows what is deployed and filters to the services changed in the last 24 h', async () => {
    const { page, url } = portal;
    await page.goto(`${url}/catalogue?q=card`);
    await page.locator('[data-testid=catalogue][data-ready=true]').waitFor();
    const row = (name: string) =>
      page.locator('tbody tr', {
        has: page.locator('td:first-child a', { hasText: new RegExp(`^${name}$`) }),
      });
    const cardApi = row('card-api').getByTestId('row-deployed');
    assert.match((await cardApi.textContent()) ?? '', /^v9\.9\.9 prod\s*changed \d+m ago$/);
    const before = await page.locator('tbody tr').count();
    assert.ok(before > 1, `${before} rows match "card"`);
    await page.getByTestId('changed-filter').getByLabel('Changed in the last 24 h').click();
    await page.waitForURL(/changed=24h/);
    await page.locator('[data-testid=catalogue][data-ready=true]').waitFor();
    await page.getByText('1 entities').waitFor();
    assert.deepEqual(await page.locator('tbody td:first-child a').allTextContents(), ['card-api']);
    await shot(page, 'deploys-4-catalogue-changed');
    // The real event went to prod: nothing changed in staging.
    await page.getByLabel('Changed in environment').selectOption('staging');
    await page.waitForURL(/changedEnv=staging/);
    await page.getByText('Nothing matches these filters.').waitFor();
  });

  it('the version skew view lists a service whose prod is old and two releases behind staging', async () => {
    const { page, url } = portal;
    const daysAgo = (d: number) => new Date(Date.now() - d * 86_400_000).toISOString();
    for (const [id, environment, version, days] of [
      ['skew-1', 'prod', 'v3.0.0', 40],
      ['skew-2', 'staging', 'v3.1.0', 20],
      ['skew-3', 'staging', 'v3.2.0', 10],
    ] as const) {
      const res = await fetch(`${url}/api/deploys`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          id,
          service: 'ledger',
          environment,
          version,
          actor: 'jane.doe',
          status: 'succeeded',
          startedAt: daysAgo(days),
          finishedAt: daysAgo(days),
        }),
      });
      assert.equal(res.status, 201);
    }
    await page.goto(`${url}/changes`);
    const skew = page.locator('[data-testid=skew][data-ready=true]');
    await skew.waitFor();
    const ledger = skew.getByTestId('skew-row').filter({ hasText: /^ledger/ });
    assert.match(
      (await ledger.textContent()) ?? '',
      /^ledgerv3\.2\.0v3\.0\.040d agoolder than 30d 2 releases behind$/,
    );
    // card-api went to prod minutes ago and never to staging: not listed.
    assert.equal(
      await skew
        .getByTestId('skew-row')
        .filter({ hasText: /^card-api/ })
        .count(),
      0,
    );
    // With a 90-day threshold ledger is still two releases behind, no longer "older than".
    await skew.getByLabel('Older than (days)').selectOption('90');
    await skew.getByRole('heading', { name: /older than 90 days/ }).waitFor();
    await page.locator('[data-testid=skew][data-ready=true]').waitFor();
    assert.match((await ledger.textContent()) ?? '', /2 releases behind$/);
    assert.doesNotMatch((await ledger.textContent()) ?? '', /older than/);
    await shot(page, 'deploys-5-version-skew');
  });
});
