import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openPortal, type Portal, shot, unavailable } from './harness.ts';

const why = unavailable();
if (why && process.env.CI === 'true') throw new Error(`Browser journeys cannot run in CI: ${why}`);

describe('bad input in Chromium', { skip: why }, () => {
  let portal: Portal;
  before(async () => {
    portal = await openPortal();
  });
  after(async () => {
    await portal?.close();
  });

  it('an unknown entity URL shows a 404 with the closest names', async () => {
    const { page, url } = portal;
    // A plain GET, no JavaScript: the page itself read the entity on the server and called notFound().
    // Next sends a notFound() page's HTML as its error shell with the page's server payload inlined, so
    // the not-found view's ref and closest names are in the document and drawn as it hydrates.
    const unknown = await fetch(`${url}/entity/component/default/ledgr`);
    assert.equal(unknown.status, 404, 'an unknown entity answers 404');
    const unknownHtml = await unknown.text();
    assert.match(unknownHtml, /component:default\/ledgr/);
    assert.match(unknownHtml, /suggestions\\?":\[\\?"component:default\/ledger\\?"/);
    // A known entity is drawn on the server: its name and sections are in the HTML itself.
    const known = await fetch(`${url}/entity/component/default/ledger`);
    assert.equal(known.status, 200);
    const knownHtml = await known.text();
    assert.match(knownHtml, /data-testid="entity-page" data-ref="component:default\/ledger"/);
    assert.match(knownHtml, /<h1[^>]*>Ledger<\/h1>/);
    assert.match(knownHtml, /data-testid="dependencies"/);
    // The page answers 404 itself: the server no longer forces the status.
    assert.equal(
      (await fetch(`${url}/entity/component/default/LEDGER`)).status,
      200,
      'refs are case-insensitive',
    );
    assert.equal((await fetch(`${url}/entity/group/default/no-such-squad`)).status, 404);

    const res = await page.goto(`${url}/entity/component/default/ledgr`);
    assert.equal(res?.status(), 404, 'an unknown entity answers 404 in the browser too');
    const notFound = page.getByTestId('not-found');
    await notFound.waitFor();
    assert.match((await notFound.textContent()) ?? '', /No entity called/);
    const suggestions = await page.getByTestId('suggestions').locator('a').allTextContents();
    assert.ok(suggestions.includes('component:default/ledger'), suggestions.join());
    await shot(page, 'bad-1-unknown-entity');
    await page.getByRole('link', { name: 'component:default/ledger' }).click();
    await page.getByTestId('entity-page').waitFor();
    // Back (a client navigation) to the unknown entity shows the same view (the segment's not-found).
    await page.goBack();
    await page.getByTestId('not-found').waitFor();
    assert.match((await page.getByTestId('not-found').textContent()) ?? '', /component:default\/ledgr/);
  });

  it('hostile descriptions and link titles render as inert text', async () => {
    const { page, url } = portal;
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(`${url}/entity/component/default/hostile-widget`);
    await page.getByTestId('entity-page').waitFor();
    const description = page.getByTestId('entity-description');
    assert.match(
      (await description.textContent()) ?? '',
      /<script>window.__xss='script'<\/script><img src=x/,
    );
    assert.equal(
      await page.locator('[data-testid=entity-page] script, [data-testid=entity-page] img').count(),
      0,
    );
    assert.match((await page.getByRole('heading', { level: 1 }).textContent()) ?? '', /<img src=x/);
    await page.getByRole('link', { name: /<b onmouseover/ }).hover();
    await page.waitForTimeout(200);
    assert.equal(await page.evaluate(() => (window as unknown as { __xss?: string }).__xss), undefined);
    assert.deepEqual(dialogs, []);
    await shot(page, 'bad-2-hostile-text');
  });

  it('a path between unconnected services explains why, and API errors show a message', async () => {
    const { page, url } = portal;
    await page.goto(`${url}/paths?from=feed&to=card-api`);
    const none = page.getByTestId('no-path');
    await none.waitFor();
    assert.match((await none.textContent()) ?? '', /No path from feed to card-api/);
    await shot(page, 'bad-3-no-path');
    await page.goto(`${url}/paths?from=no-such-service&to=feed`);
    const alert = page.locator('.callout[role=alert]');
    await alert.waitFor();
    assert.match((await alert.textContent()) ?? '', /no-such-service/);
    await page.goto(`${url}/impact?ref=ledgr`);
    await page.locator('.callout[role=alert]').waitFor();
    assert.match((await page.locator('.callout[role=alert]').textContent()) ?? '', /Did you mean/);
  });

  it('an unknown page is a 404 page, not a blank', async () => {
    const { page, url } = portal;
    const res = await page.goto(`${url}/no/such/page`);
    assert.equal(res?.status(), 404);
    await page.getByTestId('not-found').waitFor();
  });
});
