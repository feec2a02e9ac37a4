/**
 * On the bank's estate as the catalogue reads it (services/, or a freshly generated 350 estate when
 * services/ does not hold one): returned paths are made of real edges, and the talk's chain is found.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Entity } from '@backstage/catalog-model';
import { readCatalogTree } from '@bank/catalog';
import { applyChanges, buildGraphIndex, type GraphIndex } from './graph-index.ts';
import { paths } from './paths.ts';

const CHAIN = [
  'api',
  'card-api',
  'card-processing',
  'cards',
  'transactions',
  'balance',
  'transaction-enrichment',
  'merchant',
  'feed-generator',
  'feed',
  'apns',
];
const component = (name: string) => `component:default/${name}`;

/** Call edges computed straight from the entities' relations, independently of the index. */
function declaredCallEdges(entities: Entity[]): Set<string> {
  const providers = new Map<string, string[]>();
  const refOf = (e: Entity) =>
    `${e.kind.toLowerCase()}:${e.metadata.namespace ?? 'default'}/${e.metadata.name}`;
  for (const e of entities) {
    for (const r of e.relations ?? []) {
      if (r.type === 'providesApi')
        providers.set(r.targetRef, [...(providers.get(r.targetRef) ?? []), refOf(e)]);
    }
  }
  const edges = new Set<string>();
  for (const e of entities) {
    if (e.kind !== 'Component' && e.kind !== 'Resource') continue;
    for (const r of e.relations ?? []) {
      if (r.type === 'dependsOn' && /^(component|resource):/.test(r.targetRef))
        edges.add(`${refOf(e)} ${r.targetRef}`);
      if (r.type === 'consumesApi')
        for (const p of providers.get(r.targetRef) ?? []) edges.add(`${refOf(e)} ${p}`);
    }
  }
  return edges;
}

describe('on the estate', () => {
  let entities: Entity[] = [];
  let index: GraphIndex;
  let scratch: string | undefined;
  before(async () => {
    let root = resolve(import.meta.dirname, '../../services');
    if (!existsSync(join(root, 'card-api', 'catalog-info.yaml'))) {
      scratch = mkdtempSync(join(tmpdir(), 'graph-estate-'));
      const { generateEstate } = await import('../../bench/estate/generate.ts');
      const { writeEstate } = await import('../../bench/estate/write.ts');
      writeEstate(generateEstate({ services: 350, seed: 42 }), scratch);
      root = scratch;
    }
    const tree = await readCatalogTree(root);
    assert.deepEqual(tree.errors, []);
    entities = tree.entities;
    index = buildGraphIndex(entities);
  });
  after(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('every consecutive hop pair of every path card-api → feed is a real edge', () => {
    const real = declaredCallEdges(entities);
    const byRef = new Map(entities.map((e) => [`${e.kind.toLowerCase()}:default/${e.metadata.name}`, e]));
    const result = paths(index, 'card-api', 'feed', { k: 50, maxHops: 10 });
    assert.equal(result.paths.length, 50);
    for (const p of result.paths) {
      assert.equal(p.hops[0].ref, component('card-api'));
      assert.equal(p.hops.at(-1)?.ref, component('feed'));
      assert.equal(new Set(p.hops.map((h) => h.ref)).size, p.hops.length, 'simple path');
      for (let i = 1; i < p.hops.length; i++) {
        assert.ok(
          real.has(`${p.hops[i - 1].ref} ${p.hops[i].ref}`),
          `${p.hops[i - 1].ref} → ${p.hops[i].ref}`,
        );
      }
      for (const hop of p.hops) {
        assert.ok(hop.owner?.startsWith('group:'), `${hop.ref} has an owner squad`);
        assert.ok(hop.tier !== null && hop.oncall !== null);
        // A few tier-1 services have no runbook on purpose (the production-readiness scorecard flags them):
        // the hop carries exactly what the descriptor says.
        const runbook = byRef.get(hop.ref)?.metadata.annotations?.['bank.io/runbook'] ?? null;
        assert.equal(hop.runbook, runbook, `${hop.ref} runbook`);
      }
    }
    for (let i = 1; i < result.paths.length; i++)
      assert.ok(result.paths[i - 1].length <= result.paths[i].length);
  });

  it('finds the canonical chain api → card-api → … → feed → apns', () => {
    const real = declaredCallEdges(entities);
    for (let i = 1; i < CHAIN.length; i++)
      assert.ok(real.has(`${component(CHAIN[i - 1])} ${component(CHAIN[i])}`));
    // The chain is one of thousands of api → apns paths, far from the shortest; keep only its services
    // (everything else removed from the index) and it must be among the paths found.
    const chainOnly = buildGraphIndex(entities);
    const keep = new Set(CHAIN.map(component));
    const removed = entities
      .filter((e) => e.kind === 'Component' && !keep.has(component(e.metadata.name)))
      .map((e) => component(e.metadata.name));
    applyChanges(chainOnly, { removed });
    const result = paths(chainOnly, 'api', 'apns', { k: 50, maxHops: 15 });
    const names = result.paths.map((p) => p.hops.map((h) => h.name).join(' → '));
    assert.ok(names.includes(CHAIN.join(' → ')), `chain not among:\n${names.join('\n')}`);
  });
});
