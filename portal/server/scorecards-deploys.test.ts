import assert from 'node:assert/strict';
import { unlinkSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CatalogStore } from '@bank/catalog';
import { writeTree } from '@bank/catalog/testing';
import { CatalogService } from '@bank/plugin-catalog';
import { estateFiles } from '@bank/plugin-scorecards/testing';
import { type RunningServer, startServer } from './server.ts';

const TOKEN = 'scorecards-deploy-token';
const DELIVERY = `apiVersion: bank.io/v1
kind: Scorecard
metadata: {name: delivery, title: Delivery}
spec:
  scope: {types: [service]}
  checks:
    - {name: deployed-recently, kind: deployed-within, days: 90}
    - {name: prod-current, kind: prod-not-behind}
  levels:
    - {name: flowing, checks: [deployed-recently, prod-current]}
`;

// biome-ignore lint/suspicious/noExplicitAny: test reads of JSON answers
type Json = Record<string, any>;

describe('a deploy event re-scores the service it touches (real HTTP, auth, SQLite)', () => {
  let server: RunningServer;
  let catalog: CatalogService;
  const dir = writeTree({ ...estateFiles(), 'scorecards/delivery.yaml': DELIVERY });
  const get = async (p: string) => {
    const res = await fetch(`${server.url}${p}`);
    return (await res.json()) as Json;
  };
  const deploy = async (environment: string, version: string, startedAgoMs: number) => {
    const res = await fetch(`${server.url}/api/deploys`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({
        id: `gha-${environment}-${version}`,
        service: 'ledger',
        environment,
        version,
        status: 'succeeded',
        startedAt: new Date(Date.now() - startedAgoMs).toISOString(),
        finishedAt: new Date(Date.now() - startedAgoMs + 60_000).toISOString(),
      }),
    });
    assert.equal(res.status, 201, await res.text());
  };
  const delivery = async (name: string) => {
    const body = await get(`/api/scorecards/entity?ref=${name}`);
    const s = body.scorecards.find((x: Json) => x.scorecard === 'delivery');
    return Object.fromEntries(s.checks.map((c: Json) => [c.check, `${c.status}: ${c.why}`]));
  };

  before(async () => {
    process.env.PORTAL_SCORECARDS_DIR = path.join(dir, 'scorecards');
    process.env.PORTAL_API_TOKENS = TOKEN;
    process.env.PORTAL_ENVIRONMENTS = 'staging,prod';
    unlinkSync(path.join(dir, 'scorecards/ownership.yaml'));
    const store = await CatalogStore.open(`file:${path.join(dir, 'portal.db')}`);
    catalog = new CatalogService(store, [path.join(dir, 'services')]);
    await catalog.ingest();
    server = await startServer({ catalog, port: 0, ui: false });
  });
  after(async () => {
    delete process.env.PORTAL_SCORECARDS_DIR;
    delete process.env.PORTAL_API_TOKENS;
    delete process.env.PORTAL_ENVIRONMENTS;
    await server.close();
    await catalog.store.close();
  });

  it('without deploys the checks do not apply; the first deploy makes them apply to every service', async () => {
    assert.match((await delivery('ledger'))['deployed-recently'], /^n\/a: the portal has no deploys yet/);
    await deploy('staging', '1.4.0', 3_600_000);
    assert.deepEqual(await delivery('ledger'), {
      'deployed-recently': 'pass: deployed 0 days ago',
      'prod-current': 'fail: 1.4.0 runs in staging, nothing in prod',
    });
    assert.equal((await delivery('fees'))['deployed-recently'], 'fail: never deployed');
  });

  it('a later deploy to prod re-scores the service: prod is no longer behind', async () => {
    await deploy('prod', '1.4.0', 1_800_000);
    assert.equal((await delivery('ledger'))['prod-current'], 'pass: prod runs 1.4.0');
    // staging moves on: prod is behind again
    await deploy('staging', '1.5.0', 600_000);
    assert.equal(
      (await delivery('ledger'))['prod-current'],
      'fail: prod runs 1.4.0, behind 1.5.0 in staging',
    );
  });
});
