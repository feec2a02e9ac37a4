import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CatalogStore } from '@bank/catalog';
import { writeTree } from '@bank/catalog/testing';
import { CatalogService } from '@bank/plugin-catalog';
import { type EntityScore, parseScorecard, type Scorecard, ScorecardStore } from '@bank/plugin-scorecards';
import { CARD, estateFiles, service } from '@bank/plugin-scorecards/testing';
import { type RunningServer, startServer } from './server.ts';

// The JSON answers, loosely: each test reads the fields it asserts on.
// biome-ignore lint/suspicious/noExplicitAny: test reads of JSON answers
type Json = Record<string, any>;

describe('/api/scorecards over real HTTP, re-scored on ingest', () => {
  let server: RunningServer;
  let catalog: CatalogService;
  const dir = writeTree(estateFiles());
  const get = async (p: string) => {
    const res = await fetch(`${server.url}${p}`);
    return { status: res.status, body: (await res.json()) as Json };
  };

  before(async () => {
    process.env.PORTAL_SCORECARDS_DIR = path.join(dir, 'scorecards');
    const store = await CatalogStore.open(`file:${path.join(dir, 'portal.db')}`);
    catalog = new CatalogService(store, [path.join(dir, 'services')]);
    await catalog.ingest();
    server = await startServer({ catalog, port: 0, ui: false });
  });
  after(async () => {
    delete process.env.PORTAL_SCORECARDS_DIR;
    await server.close();
    await catalog.store.close();
  });

  it('lists the scorecards with their file and levels', async () => {
    const { body } = await get('/api/scorecards');
    assert.deepEqual(
      body.scorecards.map((s: { name: string; file: string }) => [s.name, s.file]),
      [
        ['ownership', path.join(dir, 'scorecards/ownership.yaml')],
        ['readiness', path.join(dir, 'scorecards/readiness.yaml')],
      ],
    );
    assert.deepEqual(body.scorecards[1].levels[0], { name: 'bronze', checks: ['has-oncall', 'replicas'] });
  });

  it("one service's report: level, failing checks with why, fix and the file that decides", async () => {
    const { status, body } = await get('/api/scorecards/entity?ref=api');
    assert.equal(status, 200);
    const readiness = body.scorecards.find((s: { scorecard: string }) => s.scorecard === 'readiness');
    assert.equal(readiness.level, null);
    const replicas = readiness.checks.find((c: { check: string }) => c.check === 'replicas');
    assert.equal(replicas.status, 'fail');
    assert.equal(replicas.why, '1 replicas; tier 1 needs at least 3');
    assert.match(replicas.evidence.file, /services\/api\/k8s\/deployment\.yaml$/);
    assert.equal(body.passes, false);
  });

  it('an unknown service is a 404 with the closest names', async () => {
    const { status, body } = await get('/api/scorecards/entity?ref=ledgr');
    assert.equal(status, 404);
    assert.deepEqual(body.error.suggestions, ['component:default/ledger']);
  });

  it('the rollup ranks squads and collectives worst first', async () => {
    const { body } = await get('/api/scorecards/summary?scorecard=readiness');
    const [r] = body.rollups;
    assert.equal(r.services, 4);
    assert.equal(r.atLeast.bronze, 3);
    assert.equal(r.squads[0].team, 'group:default/ledger');
    assert.equal(r.squads[0].passRate, 0.75);
    assert.equal(r.squadsTotal, r.squads.length);
    assert.equal(r.collectivesTotal, r.collectives.length);
  });

  it('?top= keeps the worst teams of each list and says how many there are in all', async () => {
    // One squad and one collective here: the cut itself (36 squads at 350 services) is in
    // portal/e2e/scorecards.test.ts, where the page shows the worst and fetches the rest on demand.
    const whole = (await get('/api/scorecards/summary?scorecard=readiness')).body.rollups[0];
    const { status, body } = await get('/api/scorecards/summary?scorecard=readiness&top=1');
    assert.equal(status, 200);
    assert.deepEqual(body.rollups[0], whole);
    for (const bad of ['0', '-1', 'x', '1.5']) {
      const answer = await get(`/api/scorecards/summary?top=${bad}`);
      assert.equal(answer.status, 400, bad);
      assert.match(answer.body.error.message, /top .* is not a positive whole number/);
    }
  });

  it('an ingest that drops a runbook re-scores that service', async () => {
    const before = await get('/api/scorecards/entity?ref=ledger');
    const has = (b: Json) =>
      b.scorecards[1].checks.find((c: { check: string }) => c.check === 'has-runbook').status;
    assert.equal(has(before.body), 'pass');
    writeFileSync(
      path.join(dir, 'services/ledger/catalog-info.yaml'),
      service('ledger', { tier: 1, runbook: false }),
    );
    await catalog.ingest();
    const afterIngest = await get('/api/scorecards/entity?ref=ledger');
    assert.equal(has(afterIngest.body), 'fail');
    // Stored with history: the change is appended (written just after the re-score).
    let history: Json[] = [];
    for (let i = 0; i < 50 && history.length < 2; i++) {
      history = (await get('/api/scorecards/history?ref=ledger')).body.history;
      if (history.length < 2) await new Promise((r) => setTimeout(r, 100));
    }
    const readiness = history.filter((h) => h.scorecard === 'readiness');
    assert.deepEqual(readiness[0].failing, ['disruption-budget', 'has-runbook']);
    assert.deepEqual(readiness[1].failing, ['disruption-budget']);
  });

  it('the trend is a query over the days stored', async () => {
    let trend: Json[] = [];
    for (let i = 0; i < 50 && trend.length === 0; i++) {
      trend = (await get('/api/scorecards/trend?scorecard=readiness')).body.trend;
      if (trend.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(trend.length, 1);
    assert.equal(trend[0].services, 4);
  });

  it("the org view's maturity: each team's level spread beside its load, and its trend since the window's first day", async () => {
    // As if the portal had run 10 days ago with every service below bronze (and 40 days ago, outside the window).
    const parsed = parseScorecard(CARD, 'readiness.yaml');
    assert.ok(parsed.ok);
    const card = parsed.scorecard as Scorecard;
    const team = (await get('/api/scorecards/team?team=ledger')).body;
    const now = (team.scorecards as Json[]).find((s) => s.scorecard === 'readiness')
      ?.services as EntityScore[];
    const history = new ScorecardStore(catalog.store.driver);
    const DAY = 86_400_000;
    await history.recordDay(card, now, Date.now() - 40 * DAY);
    await history.recordDay(
      card,
      now.map((s) => ({ ...s, level: null })),
      Date.now() - 10 * DAY,
    );

    const { status, body } = await get('/api/scorecards/teams?scorecard=readiness');
    assert.equal(status, 200);
    assert.equal(body.title, 'Readiness');
    assert.deepEqual(body.levels, ['bronze', 'silver']);
    const ledger = body.teams.find((t: Json) => t.team === 'group:default/ledger');
    const tenDaysAgo = new Date(Date.now() - 10 * DAY).toISOString().slice(0, 10);
    // api has 1 replica of 3 (none); payments, ledger and fees stop at bronze
    assert.deepEqual(ledger, {
      team: 'group:default/ledger',
      level: 'squad',
      services: 4,
      maturity: 'bronze',
      spread: { bronze: 3, silver: 0, none: 1 },
      passRate: 0.75,
      trend: { since: tenDaysAgo, services: 4, passRate: 0 },
    });
    const collective = body.teams.find((t: Json) => t.team === 'group:default/core-banking');
    assert.equal(collective.level, 'collective');
    assert.deepEqual(collective.spread, { bronze: 3, silver: 0, none: 1 });
    assert.equal(collective.trend.since, tenDaysAgo);

    // Without a name: the default scorecard (production-readiness, else the first by name).
    assert.equal((await get('/api/scorecards/teams')).body.scorecard, 'ownership');
    const unknown = await get('/api/scorecards/teams?scorecard=nope');
    assert.equal(unknown.status, 404);
    assert.match(unknown.body.error.message, /No scorecard "nope"/);
  });
});
