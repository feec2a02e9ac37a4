/**
 * Incremental re-scores agree with a full one: on the bank's generated estate (350 services, real files,
 * real SQLite), a sequence of manifest and descriptor edits is re-scored through filesChanged and the
 * catalogue's change, and after each step every result equals what a fresh ScorecardService scores.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CatalogStore, type Entity } from '@bank/catalog';
import { buildGraphIndex } from '@bank/graph';
import { CatalogService } from '@bank/plugin-catalog';
import { generateEstate } from '../../../../bench/estate/generate.ts';
import { writeEstate } from '../../../../bench/estate/write.ts';
import { ScorecardService } from './service.ts';

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));

describe('incremental re-scores equal a full re-score (generated estate, real files, SQLite)', () => {
  let dir: string;
  let store: CatalogStore;
  let catalog: CatalogService;
  let svc: ScorecardService;
  let entities: Entity[] = [];
  const open = () => new ScorecardService({ dir: path.join(REPO, 'scorecards'), repoRoot: dir });
  const byRef = (s: ScorecardService) =>
    new Map(s.allResults().map((r) => [`${r.scorecard} ${r.entity}`, r]));

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'scorecards-incremental-'));
    writeEstate(generateEstate({ services: 350, seed: 42 }), dir);
    store = await CatalogStore.open(`file:${path.join(dir, 'portal.db')}`);
    catalog = new CatalogService(store, [dir]);
    await catalog.ingest();
    entities = (await catalog.view()).all();
    svc = open();
    svc.loadDefinitions();
    svc.scoreAll(entities, buildGraphIndex(entities));
    // What an ingest changed, re-scored incrementally (the portal wires it the same way).
    catalog.on('change', (change, view) => {
      entities = view.all();
      svc.catalogueChanged(change, (ref) => view.byRef.get(ref), buildGraphIndex(entities));
    });
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const assertSameAsFull = (step: string) => {
    const full = open();
    full.loadDefinitions();
    full.scoreAll(entities, buildGraphIndex(entities));
    const got = byRef(svc);
    const want = byRef(full);
    assert.ok(want.size > 300, `${want.size} results`);
    assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort(), `${step}: the same services scored`);
    for (const [k, w] of want) assert.deepEqual(got.get(k), w, `${step}: ${k}`);
  };
  const edit = (file: string, fn: (text: string) => string) => {
    const p = path.join(dir, file);
    writeFileSync(p, fn(readFileSync(p, 'utf8')));
    return p;
  };

  it('after manifest edits (replicas down, a PodDisruptionBudget removed), through filesChanged', () => {
    const a = edit('ledger/k8s/deployment.yaml', (t) => t.replace(/replicas: \d+/, 'replicas: 1'));
    const b = path.join(dir, 'account/k8s/pdb.yaml');
    unlinkSync(b);
    const r = svc.filesChanged([a, b]);
    assert.ok(r.changed.length >= 1, 'something changed');
    assertSameAsFull('manifests');
  });

  it('after descriptor edits (a runbook dropped, a tier raised, a declared call added), through an ingest', async () => {
    edit('ledger/catalog-info.yaml', (t) => t.replace(/^\s*bank\.io\/runbook:.*\n/m, ''));
    edit('fees/catalog-info.yaml', (t) => t.replace(/bank\.io\/tier: "?\d"?/, 'bank.io/tier: "1"'));
    edit('card-api/catalog-info.yaml', (t) =>
      t.replace(/dependsOn:\n/, 'dependsOn:\n    - component:feed\n'),
    );
    await catalog.ingest();
    assertSameAsFull('descriptors');
  });
});
