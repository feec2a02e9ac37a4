/**
 * Scoring in slices (what a starting portal does, so it keeps answering) gives scoreAll's scores: on the
 * bank's generated estate (350 services, real files, real SQLite), every result equals a plain scoreAll's,
 * the event loop runs between slices, and a stop asked for part-way ends it early.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CatalogStore, type Entity } from '@bank/catalog';
import { buildGraphIndex } from '@bank/graph';
import { CatalogService } from '@bank/plugin-catalog';
import { generateEstate } from '../../../../bench/estate/generate.ts';
import { writeEstate } from '../../../../bench/estate/write.ts';
import { type RescoreResult, ScorecardService } from './service.ts';

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));

describe('scoreAllInSlices (generated estate, real files, SQLite)', () => {
  let dir: string;
  let store: CatalogStore;
  let entities: Entity[] = [];
  const open = () => {
    const s = new ScorecardService({ dir: path.join(REPO, 'scorecards'), repoRoot: dir });
    s.loadDefinitions();
    return s;
  };
  const byKey = (s: ScorecardService) =>
    new Map(s.allResults().map((r) => [`${r.scorecard} ${r.entity}`, r]));

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'scorecards-slices-'));
    writeEstate(generateEstate({ services: 350, seed: 42 }), dir);
    store = await CatalogStore.open(`file:${path.join(dir, 'portal.db')}`);
    const catalog = new CatalogService(store, [dir]);
    await catalog.ingest();
    entities = (await catalog.view()).all();
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('scores as scoreAll does, a slice at a time, the event loop running between slices', async () => {
    const whole = open();
    whole.scoreAll(entities, buildGraphIndex(entities));
    const sliced = open();
    const heard: RescoreResult[] = [];
    sliced.onRescore((r) => heard.push(r));
    let turns = 0;
    const ticking = setInterval(() => turns++, 0);
    const result = await sliced.scoreAllInSlices(entities, buildGraphIndex(entities), { yieldEvery: 1 });
    clearInterval(ticking);
    const want = byKey(whole);
    assert.ok(want.size > 300, `${want.size} results`);
    assert.deepEqual(byKey(sliced), want);
    assert.equal(result.rescored, entities.length * sliced.scorecards().length);
    assert.ok(heard.length > 1, `${heard.length} slices`);
    assert.ok(turns > 0, 'timers ran while it scored');
    assert.deepEqual(sliced.levels(), whole.levels());
  });

  it('stops after the current slice when asked to', async () => {
    const s = open();
    const stop = new AbortController();
    s.onRescore(() => stop.abort());
    const result = await s.scoreAllInSlices(entities, buildGraphIndex(entities), {
      yieldEvery: 1,
      signal: stop.signal,
    });
    assert.ok(result.rescored < entities.length * s.scorecards().length, `${result.rescored} rescored`);
  });
});
