import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, afterEach, before, describe, it } from 'node:test';
import type { ReactElement } from 'react';
import { nodeFetch, type RunningPortal, startEstatePortal } from '../testing/portal.ts';
import '../testing/dom.ts';

// Loaded after the DOM exists (MUI's styles need `document` when they load).
const { renderInTestApp, TestApiProvider } = await import('@backstage/test-utils');
const { EntityProvider } = await import('@backstage/plugin-catalog-react');
const { cleanup, fireEvent, screen, within, waitFor } = await import('@testing-library/react');
const { PortalClient, portalApiRef } = await import('../api/PortalClient.ts');
const { PathTracerPage } = await import('./PathTracerPage.tsx');
const { EntityPortalCard } = await import('./EntityPortalCard.tsx');
const { EntityPortalContent } = await import('./EntityPortalContent.tsx');

const CARD_API = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name: 'card-api', namespace: 'default' },
  spec: { type: 'service', lifecycle: 'production', owner: 'accounts' },
};

describe('Backstage plugin views against a real portal serve (test-utils app, happy-dom)', () => {
  let portal: RunningPortal;

  // The estate of writeEstate() (src/testing/portal.ts): card-api → cards → feed and its callers, a traced
  // call card-api → fraud, deploys of card-api (90 minutes ago) and web (30 minutes ago).
  before(async () => {
    portal = await startEstatePortal();
  });
  after(() => portal?.close());
  afterEach(() => cleanup());

  /** The client as a Backstage app builds it: discovery names the portal's /api, fetch is the app's fetch. */
  const clientFor = (apiRoot: string) =>
    new PortalClient({
      discoveryApi: { getBaseUrl: async (pluginId: string) => (pluginId === 'portal' ? apiRoot : '') },
      fetchApi: { fetch: nodeFetch },
    });
  const render = (ui: ReactElement, apiRoot = `${portal.url}/api`, routeEntries = ['/']) =>
    renderInTestApp(<TestApiProvider apis={[[portalApiRef, clientFor(apiRoot)]]}>{ui}</TestApiProvider>, {
      routeEntries,
    });

  it('path tracer: a linked trace shows each hop in order, with its owner and how it calls the next', async () => {
    await render(<PathTracerPage />, undefined, ['/?from=card-api&to=feed']);
    await screen.findByText('Path 1: card-api → cards → feed (2 hops)');
    const hops = screen.getAllByTestId('portal-hop');
    assert.deepEqual(
      hops.map((row) => row.querySelectorAll('td')[1]?.textContent),
      ['card-api', 'cards', 'feed'],
    );
    assert.match(hops[0].textContent ?? '', /accounts/);
    assert.match(hops[0].textContent ?? '', /dependsOn \(declared\)/);
    assert.match(hops[2].textContent ?? '', /destination/);
    // The deploys on the path: the card-api release 90 minutes ago.
    const deploys = await screen.findAllByTestId('portal-deploy');
    assert.equal(deploys.length, 1);
    assert.match(deploys[0].textContent ?? '', /card-api.*prod.*4\.2\.0/);
  });

  it('path tracer: typing from and to and pressing Trace asks the portal', async () => {
    await render(<PathTracerPage />);
    assert.equal(screen.queryAllByTestId('portal-hop').length, 0);
    fireEvent.change(screen.getByLabelText('From'), { target: { value: 'reports' } });
    fireEvent.change(screen.getByLabelText('To'), { target: { value: 'cards' } });
    fireEvent.click(screen.getByRole('button', { name: 'Trace' }));
    await screen.findByText('Path 1: reports → web → card-api → cards (3 hops)');
  });

  it('path tracer: an unknown service gets the portal’s message and its closest names', async () => {
    await render(<PathTracerPage />, undefined, ['/?from=card-api&to=fed']);
    const alert = await screen.findByRole('alert');
    assert.match(alert.textContent ?? '', /unknown ref 'fed'/);
    assert.match(alert.textContent ?? '', /The portal answered 404/);
    assert.match(alert.textContent ?? '', /Did you mean: .*feed/);
  });

  it('entity card: the blast radius of the current entity in figures, its drift and its deploys', async () => {
    await render(
      <EntityProvider entity={CARD_API}>
        <EntityPortalCard />
      </EntityProvider>,
    );
    const headline = await screen.findByTestId('portal-impact-headline');
    assert.equal(headline.textContent, '3 services depend on card-api, 2 of them tier 1, across 2 squads.');
    const squads = screen
      .getAllByTestId('portal-rollup')
      .map((r) => r.querySelectorAll('td')[0]?.textContent);
    assert.deepEqual([...squads].sort(), ['accounts', 'ledger']);
    const drift = await screen.findByTestId('portal-drift-summary');
    assert.equal(drift.textContent, 'Drift: 1 undeclared call, 3 declared calls never seen.');
    const deploys = await screen.findByTestId('portal-deploys-summary');
    assert.equal(deploys.textContent, 'Deploys in the last 7 days: 1.');
  });

  it('entity tab: every service in the blast radius, drift rows, deploys in the blast radius, paths from it', async () => {
    await render(
      <EntityProvider entity={CARD_API}>
        <EntityPortalContent />
      </EntityProvider>,
    );
    const dependents = await screen.findAllByTestId('portal-dependent');
    assert.deepEqual(
      dependents.map((r) => [...r.querySelectorAll('td')].map((c) => c.textContent)),
      [
        ['mobile-app', 'accounts', 'tier 1', '1', 'card-api'],
        ['web', 'ledger', 'tier 1', '1', 'card-api'],
        ['reports', 'ledger', 'tier 3', '2', 'web'],
      ],
    );
    const drift = await screen.findAllByTestId('portal-drift-row');
    const rows = drift.map((r) => [...r.querySelectorAll('td')].slice(0, 3).map((c) => c.textContent));
    assert.deepEqual(rows[0], ['card-api', 'fraud', 'seen, not declared']);
    assert.deepEqual(
      rows
        .slice(1)
        .map((r) => `${r[0]}→${r[1]} ${r[2]}`)
        .sort(),
      [
        'card-api→cards declared, never seen',
        'mobile-app→card-api declared, never seen',
        'web→card-api declared, never seen',
      ],
    );
    await waitFor(() => assert.equal(screen.getAllByTestId('portal-deploy').length, 2));
    // From is fixed to the entity; the tab traces to what is typed.
    fireEvent.change(screen.getByLabelText('To'), { target: { value: 'feed' } });
    fireEvent.click(screen.getByRole('button', { name: 'Trace' }));
    const path = await screen.findByText('Path 1: card-api → cards → feed (2 hops)');
    assert.ok(within(path.parentElement as HTMLElement).getAllByTestId('portal-hop').length === 3);
  });

  it('says the portal is unreachable, and where it was looked for, when nothing answers', async () => {
    // A port that was just free: connection refused, as when the portal is down.
    const server = http.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    await new Promise((r) => server.close(r));
    await render(
      <EntityProvider entity={CARD_API}>
        <EntityPortalCard />
      </EntityProvider>,
      `http://127.0.0.1:${port}/api`,
    );
    const alerts = await screen.findAllByRole('alert');
    assert.equal(alerts.length, 3, 'each of the card’s three questions says so');
    assert.match(
      alerts[0].textContent ?? '',
      new RegExp(`did not answer at http://127\\.0\\.0\\.1:${port}/api`),
    );
    for (const alert of alerts) assert.match(alert.textContent ?? '', /The portal is unreachable/);
  });
});
