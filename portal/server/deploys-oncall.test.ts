import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CatalogStore } from '@bank/catalog';
import { component, ORG, writeTree } from '@bank/catalog/testing';
import { CatalogService } from '@bank/plugin-catalog';
import { type RunningServer, startServer } from './server.ts';

const withRota = (yaml: string, rota: string) =>
  yaml.replace(
    '  annotations:\n',
    `  annotations:\n    bank.io/oncall-rota: ${rota}\n    bank.io/runbook: https://runbooks.bank.example/x\n`,
  );

/** GET /api/deploys/oncall through the real portal, reading the schedule file next to the descriptors. */
describe('who to call now over real HTTP', () => {
  let server: RunningServer;
  let catalog: CatalogService;
  const members = ['ana', 'bo', 'cy'].map((name) => ({
    name,
    displayName: name.toUpperCase(),
    email: `${name}@bank.example`,
  }));
  const dir = writeTree({
    'org/catalog-info.yaml': ORG,
    'ledger/catalog-info.yaml': withRota(component('ledger', { tier: '1' }), 'core-ledger'),
    'card-api/catalog-info.yaml': component('card-api', { dependsOn: ['component:ledger'] }),
    'oncall.json': JSON.stringify({
      rotationStart: '2026-01-05T09:00:00Z',
      handoverHours: 168,
      rotas: [{ id: 'core-ledger', slackChannel: '#squad-ledger', members }],
    }),
  });
  const get = async (p: string) => {
    const res = await fetch(`${server.url}${p}`);
    return { status: res.status, body: await res.json() };
  };

  before(async () => {
    delete process.env.PAGERDUTY_TOKEN;
    const store = await CatalogStore.open(
      `file:${path.join(mkdtempSync(path.join(tmpdir(), 'oncall-')), 'p.db')}`,
    );
    catalog = new CatalogService(store, [dir]);
    await catalog.ingest();
    server = await startServer({ catalog, port: 0, ui: false });
  });
  after(async () => {
    await server.close();
    await catalog.store.close();
  });

  it('names the person on call now, the next hand-over, page and Slack links; a service without a rota says so', async () => {
    const r = await get('/api/deploys/oncall?service=ledger,card-api');
    assert.equal(r.status, 200);
    const [ledger, card] = r.body.oncall;
    assert.equal(ledger.rota, 'core-ledger');
    assert.equal(ledger.runbook, 'https://runbooks.bank.example/x');
    const weeks = Math.floor((Date.now() - Date.parse('2026-01-05T09:00:00Z')) / (7 * 86_400_000));
    assert.equal(ledger.onCall.onCall.name, members[((weeks % 3) + 3) % 3].name);
    assert.equal(ledger.onCall.next.name, members[(((weeks + 1) % 3) + 3) % 3].name);
    assert.ok(Date.parse(ledger.onCall.until) > Date.now());
    assert.match(ledger.onCall.pageUrl, /^mailto:/);
    assert.equal(ledger.onCall.slackUrl, 'https://slack.com/app_redirect?channel=squad-ledger');
    assert.equal(card.rota, null);
    assert.equal(card.onCall, null);
  });

  it('an unknown service is 404 with the closest names; no service is 400', async () => {
    const r = await get('/api/deploys/oncall?service=ledgr');
    assert.equal(r.status, 404);
    assert.match(JSON.stringify(r.body), /ledger/);
    assert.equal((await get('/api/deploys/oncall')).status, 400);
  });
});
