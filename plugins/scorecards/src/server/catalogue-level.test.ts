import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CatalogStore } from '@bank/catalog';
import { writeTree } from '@bank/catalog/testing';
import { buildGraphIndex } from '@bank/graph';
import { CatalogService } from '@bank/plugin-catalog';
import { serveRouter } from '@bank/plugin-entity/testing';
import { createSearchRouter } from '@bank/plugin-search';
import { ScorecardService } from '../lib/service.ts';
import { estateFiles, pdb } from '../testing.ts';

describe('the catalogue table: level column and filter from the scores (real files, SQLite, HTTP)', () => {
  let dir: string;
  let store: CatalogStore;
  let svc: ScorecardService;
  let http: Awaited<ReturnType<typeof serveRouter>>;
  before(async () => {
    dir = writeTree(estateFiles());
    store = await CatalogStore.open(`file:${path.join(dir, 'portal.db')}`);
    const catalog = new CatalogService(store, [path.join(dir, 'services')]);
    await catalog.ingest();
    const view = await catalog.view();
    // Only the readiness scorecard: the catalogue shows the default scorecard's level.
    svc = new ScorecardService({ dir: path.join(dir, 'scorecards'), repoRoot: dir });
    svc.loadDefinitions();
    svc.scoreAll(view.all(), buildGraphIndex(view.all()));
    http = await serveRouter('/api/search', createSearchRouter({ catalog, levels: svc }));
  });
  after(async () => {
    await http.close();
    await store.close();
  });

  const levels = (rows: { name: string; level: string | null }[]) =>
    Object.fromEntries(rows.map((r) => [r.name, r.level]));

  it('every row carries its level (first scorecard by name: ownership here), none where below the lowest', async () => {
    const { status, body } = await http.get('/catalogue?kind=component');
    assert.equal(status, 200);
    assert.deepEqual(levels(body.rows), { api: 'owned', fees: 'owned', ledger: 'owned', payments: 'owned' });
    const groups = await http.get('/catalogue?kind=group');
    assert.ok(groups.body.rows.every((r: { level: string | null }) => r.level === null));
  });

  it('with production-readiness present, its level is the one shown; a level filter with facet counts', async () => {
    // The readiness scorecard renamed to the bank's default: the catalogue now shows its levels.
    const file = path.join(dir, 'scorecards/readiness.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('name: readiness', 'name: production-readiness'));
    svc.filesChanged([file]);
    const all = await http.get('/catalogue?kind=component');
    assert.deepEqual(levels(all.body.rows), {
      api: 'none',
      fees: 'bronze',
      ledger: 'bronze',
      payments: 'bronze',
    });
    const facet = Object.fromEntries(
      all.body.facets.level.map((f: { value: string; count: number }) => [f.value, f.count]),
    );
    assert.deepEqual(facet, { bronze: 3, none: 1 });
    const none = await http.get('/catalogue?kind=component&level=none');
    assert.deepEqual(
      none.body.rows.map((r: { name: string }) => r.name),
      ['api'],
    );
  });

  it('a changed manifest changes the level shown at once', async () => {
    const file = path.join(dir, 'services/ledger/k8s/pdb.yaml');
    writeFileSync(file, pdb('ledger', 2));
    svc.filesChanged([file]);
    const silver = await http.get('/catalogue?kind=component&level=silver');
    assert.deepEqual(
      silver.body.rows.map((r: { name: string }) => r.name),
      ['ledger'],
    );
  });

  it('a level filter without scorecards is a 400 naming the field', async () => {
    const bare = await serveRouter(
      '/api/search',
      createSearchRouter({ catalog: new CatalogService(store, [path.join(dir, 'services')]) }),
    );
    try {
      const r = await bare.get('/catalogue?level=gold');
      assert.equal(r.status, 400);
      assert.match(r.body.message ?? r.body.error?.message ?? JSON.stringify(r.body), /level/);
    } finally {
      await bare.close();
    }
  });
});
