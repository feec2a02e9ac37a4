/**
 * A re-score reuses what it worked out before (each entity's digest, a check's result while the entity and
 * its manifests are the same, the same result object when an outcome did not change, the same score when
 * nothing in it did). Property: over a seeded random run of edits to the generated estate (real files,
 * real SQLite), every result, incremental and full, equals what a fresh ScorecardService scores.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CatalogStore, type Entity } from '@bank/catalog';
import {
  buildGraphIndex,
  forEachCall,
  type GraphIndex,
  mergeObserved,
  type ObservedEdgeInput,
} from '@bank/graph';
import { CatalogService } from '@bank/plugin-catalog';
import { generateEstate } from '../../../../bench/estate/generate.ts';
import { mulberry32 } from '../../../../bench/estate/random.ts';
import { writeEstate } from '../../../../bench/estate/write.ts';
import { ScorecardService } from './service.ts';

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));

describe('re-scores that reuse earlier work equal a fresh score (generated estate, random edits)', () => {
  let dir: string;
  let store: CatalogStore;
  let catalog: CatalogService;
  let svc: ScorecardService;
  let entities: Entity[] = [];
  let index: GraphIndex;
  const observed: ObservedEdgeInput[] = [];
  const open = () =>
    new ScorecardService({
      dir: path.join(REPO, 'scorecards'),
      repoRoot: dir,
      templatesDir: path.join(REPO, 'templates'),
    });
  const indexOf = (list: Entity[]) => {
    const i = buildGraphIndex(list);
    if (observed.length) mergeObserved(i, observed);
    return i;
  };
  const byKey = (s: ScorecardService) =>
    new Map(s.allResults().map((r) => [`${r.scorecard} ${r.entity}`, r]));
  const freshScores = () => {
    const fresh = open();
    fresh.loadDefinitions();
    fresh.scoreAll(entities, indexOf(entities));
    return byKey(fresh);
  };
  const assertSameAsFresh = (step: string, want = freshScores()) => {
    const got = byKey(svc);
    assert.ok(want.size > 150, `${want.size} results`);
    assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort(), `${step}: the same services scored`);
    for (const [k, w] of want) assert.deepEqual(got.get(k), w, `${step}: ${k}`);
  };

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'scorecards-reuse-'));
    writeEstate(generateEstate({ services: 200, seed: 7 }), dir);
    store = await CatalogStore.open(`file:${path.join(dir, 'portal.db')}`);
    catalog = new CatalogService(store, [dir]);
    await catalog.ingest();
    entities = (await catalog.view()).all();
    index = indexOf(entities);
    svc = open();
    svc.loadDefinitions();
    svc.scoreAll(entities, index);
    catalog.on('change', (change, view) => {
      entities = view.all();
      index = indexOf(entities);
      svc.catalogueChanged(change, (ref) => view.byRef.get(ref), index);
    });
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a full re-score of an unchanged estate keeps every score object and reports no change', () => {
    const first = new Map(svc.allResults().map((r) => [`${r.scorecard} ${r.entity}`, r]));
    const r = svc.scoreAll(entities, index);
    assert.equal(r.changed.length, 0);
    assert.equal(r.removed.length, 0);
    for (const s of svc.allResults()) assert.equal(s, first.get(`${s.scorecard} ${s.entity}`), s.entity);
    assertSameAsFresh('unchanged');
  });

  it('after each of a seeded run of manifest, descriptor and traffic edits, incrementally and in full', async () => {
    const rng = mulberry32(20261205);
    const services = entities
      .filter((e) => e.kind === 'Component' && existsSync(path.join(dir, e.metadata.name, 'k8s')))
      .map((e) => e.metadata.name)
      .sort();
    const pick = <T>(xs: T[]) => xs[Math.floor(rng() * xs.length)];
    const file = (name: string, f: string) => path.join(dir, name, f);
    const edit = (p: string, fn: (t: string) => string): boolean => {
      if (!existsSync(p)) return false;
      const text = readFileSync(p, 'utf8');
      const next = fn(text);
      if (next === text) return false;
      writeFileSync(p, next);
      return true;
    };
    const manifestEdits: Array<(name: string) => string | undefined> = [
      (n) => {
        const p = file(n, 'k8s/deployment.yaml');
        return edit(p, (t) => t.replace(/replicas: \d+/, `replicas: ${1 + Math.floor(rng() * 5)}`))
          ? p
          : undefined;
      },
      (n) => {
        const p = file(n, 'k8s/pdb.yaml');
        if (!existsSync(p)) return undefined;
        unlinkSync(p);
        return p;
      },
      (n) => {
        const p = file(n, 'k8s/deployment.yaml');
        return edit(p, (t) => t.replace(/ {10}readinessProbe:\n( {12}.*\n)+/, '')) ? p : undefined;
      },
      (n) => {
        const p = file(n, 'k8s/deployment.yaml');
        return edit(p, (t) => t.replace(/(image: [^\s@]+):\S+/, `$1@sha256:${'ab'.repeat(32)}`))
          ? p
          : undefined;
      },
      (n) => {
        const p = file(n, 'k8s/deployment.yaml');
        return edit(p, (t) =>
          t.replace(/( +)- name: SERVICE_NAME\n/, '$1- name: DB_PASSWORD\n$1  value: hunter2\n$&'),
        )
          ? p
          : undefined;
      },
      (n) => {
        const p = file(n, 'k8s/networkpolicy.yaml');
        return edit(p, (t) => t.replace(/\n +- service\.[a-z0-9-]+/, '')) ? p : undefined;
      },
    ];
    const descriptorEdits: Array<(t: string) => string> = [
      (t) => t.replace(/bank\.io\/tier: "?\d"?/, `bank.io/tier: "${1 + Math.floor(rng() * 4)}"`),
      (t) => t.replace(/^\s*bank\.io\/runbook:.*\n/m, ''),
      (t) => t.replace(/dependsOn:\n/, `dependsOn:\n    - component:${pick(services)}\n`),
      (t) => t.replace(/^ {2}description:.*\n/m, ''),
      // Only the lines move: results that show a line of the descriptor must follow.
      (t) => `# moved down by a comment\n${t}`,
    ];
    // Every kind of edit once, on services picked at random, with the graph rebuilt by traffic twice.
    const steps = [
      ...manifestEdits.map((e) => ({ manifest: e })),
      ...descriptorEdits.map((e) => ({ descriptor: e })),
      { traffic: true },
      { traffic: true },
    ].sort(() => rng() - 0.5);
    let edited = 0;
    for (const [n, step] of steps.entries()) {
      const name = pick(services);
      if ('manifest' in step) {
        const changed = [step.manifest(name), pick(manifestEdits)(pick(services))].filter(
          (p): p is string => p !== undefined,
        );
        edited += changed.length;
        svc.filesChanged(changed);
      } else if ('descriptor' in step) {
        // A service with a result that shows a line of its descriptor (all the more to move).
        const shown = svc
          .allResults()
          .filter((r) =>
            r.checks.some((c) => c.evidence?.line && c.evidence.file.endsWith('catalog-info.yaml')),
          )
          .map((r) => r.entity.slice(r.entity.indexOf('/') + 1));
        const p = file(pick(shown.length ? shown : services), 'catalog-info.yaml');
        if (edit(p, step.descriptor)) edited++;
        await catalog.ingest();
        // The watcher reports the descriptor too (a change that moves only lines is no catalogue change).
        svc.filesChanged([p]);
      } else {
        // Traffic: some declared calls seen (and one never declared); the graph is rebuilt, a full re-score.
        forEachCall(index, (_a, from, to) => {
          if (from.startsWith('component:') && rng() < 0.2) observed.push({ from, to, count: 1 });
        });
        observed.push({
          from: `component:default/${name}`,
          to: `component:default/${pick(services)}`,
          count: 1,
        });
        index = indexOf(entities);
        svc.scoreAll(entities, index);
      }
      const want = freshScores();
      assertSameAsFresh(`step ${n} (incremental)`, want);
      svc.scoreAll(entities, index);
      assertSameAsFresh(`step ${n} (full re-score)`, want);
    }
    assert.ok(edited >= 10, `${edited} files edited`);
  });
});
