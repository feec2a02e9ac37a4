import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cycles } from './cycles.ts';
import { GraphQueryError } from './errors.ts';
import { buildGraphIndex, mergeObserved } from './graph-index.ts';
import { impact } from './impact.ts';
import { neighbourhood } from './neighbourhood.ts';
import { ownership } from './ownership.ts';
import { refOf, toEntities } from './testing/entities.ts';
import { smallEstate } from './testing/small-estate.ts';

const index = buildGraphIndex(smallEstate());

describe('impact', () => {
  it('lists every transitive dependent, tier-1 first, rolled up to squads and collectives', () => {
    const result = impact(index, 'cassandra-ledger');
    assert.deepEqual(
      result.dependents.map((d) => [d.name, d.tier, d.depth, d.through]),
      [
        ['ledger', 1, 1, 'resource:default/cassandra-ledger'],
        ['card-processing', 1, 2, 'component:default/ledger'],
        ['card-api', 1, 3, 'component:default/card-processing'],
        ['audit', 4, 2, 'component:default/ledger'],
      ],
    );
    assert.deepEqual(
      result.bySquad.map((r) => [r.ref, r.services, r.byTier['1'] ?? 0]),
      [
        ['group:default/card-processing', 2, 2],
        ['group:default/ledger', 1, 1],
        ['group:default/ghosts', 1, 0],
      ],
    );
    assert.deepEqual(
      result.byCollective.map((r) => [r.ref, r.services]),
      [
        ['group:default/payments', 2],
        ['group:default/core-banking', 2],
      ],
    );
    assert.equal(impact(index, 'cassandra-ledger', { depth: 1 }).total, 1);
  });

  it('a group: what breaks if everything it owns goes down', () => {
    const result = impact(index, 'group:ledger');
    assert.deepEqual(result.origins, [
      'component:default/fraud-scoring',
      'component:default/ledger',
      'resource:default/cassandra-ledger',
    ]);
    assert.deepEqual(result.dependents.map((d) => d.name).sort(), ['audit', 'card-api', 'card-processing']);
  });

  it('bad input: depth out of range, a kind it cannot start from', () => {
    assert.throws(() => impact(index, 'ledger', { depth: 0 }), /depth must be an integer from 1 to 50/);
    assert.throws(() => impact(index, 'user:ana'), GraphQueryError);
    assert.throws(() => impact(index, 'nope'), /unknown ref 'nope'/);
  });
});

describe('cycles', () => {
  it('finds ledger ⇄ audit and reports self-loops separately', () => {
    const result = cycles(index);
    assert.deepEqual(
      result.cycles.map((c) => c.members.map((m) => m.name)),
      [['audit', 'ledger']],
    );
    assert.equal(result.cycles[0].edges.length, 2);
    const loop = buildGraphIndex(
      toEntities([{ kind: 'Component', name: 'a', dependsOn: [refOf('component', 'a')] }]),
    );
    assert.deepEqual(cycles(loop), { via: 'any', cycles: [], selfLoops: ['component:default/a'] });
    assert.deepEqual(cycles(buildGraphIndex([])), { via: 'any', cycles: [], selfLoops: [] });
  });

  it('via=observed looks only at observed edges', () => {
    const observed = buildGraphIndex(smallEstate());
    assert.deepEqual(cycles(observed, { via: 'observed' }).cycles, []);
    mergeObserved(observed, [
      { from: 'component:default/feed', to: 'component:default/card-api' },
      { from: 'component:default/card-api', to: 'component:default/feed' },
    ]);
    assert.equal(cycles(observed, { via: 'observed' }).cycles.length, 1);
    assert.deepEqual(
      cycles(observed).cycles[0].members.map((m) => m.name),
      ['card-api', 'card-processing', 'feed'],
    );
  });
});

describe('ownership', () => {
  const result = ownership(index);
  it('counts services per squad and collective', () => {
    const squad = result.squads.find((s) => s.ref === 'group:default/card-processing');
    assert.deepEqual(squad && [squad.services, squad.members, squad.collective, squad.byTier], [
      3,
      1,
      'group:default/payments',
      { '1': 2, '2': 1 },
    ]);
    const core = result.collectives.find((c) => c.ref === 'group:default/core-banking');
    assert.deepEqual(core && [core.squads, core.services, core.resources, core.members], [2, 3, 1, 1]);
  });
  it('flags orphans: no owner, owner without members', () => {
    assert.deepEqual(
      result.orphans.map((o) => [o.ref, o.reason]),
      [
        ['component:default/lonely', 'no-owner'],
        ['component:default/audit', 'owner-without-members'],
      ],
    );
  });
  it('flags tier inversions and counts team coupling', () => {
    assert.deepEqual(
      result.tierInversions.map((t) => [t.from, t.to, t.toTier]),
      [['component:default/ledger', 'component:default/audit', 4]],
    );
    assert.deepEqual(
      result.coupling.map((c) => [c.from, c.to, c.calls]),
      [
        ['group:default/card-processing', 'group:default/ledger', 2],
        ['group:default/ghosts', 'group:default/ledger', 1],
        ['group:default/ledger', 'group:default/ghosts', 1],
      ],
    );
  });
});

describe('neighbourhood', () => {
  it('down, up and both, with every edge between returned nodes', () => {
    const down = neighbourhood(index, 'card-processing', { direction: 'down' });
    assert.deepEqual(
      down.nodes.map((n) => [n.name, n.distance]),
      [
        ['card-processing', 0],
        ['feed', 1],
        ['fraud-scoring', 1],
        ['ledger', 1],
      ],
    );
    assert.equal(down.edges.length, 3);
    assert.equal(down.hiddenEdges, 2); // ledger → audit, ledger → cassandra-ledger
    const up = neighbourhood(index, 'ledger', { direction: 'up', depth: 2 });
    assert.deepEqual(
      up.nodes.map((n) => n.name),
      ['ledger', 'audit', 'card-processing', 'card-api'],
    );
    const both = neighbourhood(index, 'ledger', { depth: 1, limit: 2 });
    assert.equal(both.nodes.length, 2);
    assert.ok(both.hiddenNodes > 0);
  });
  it('non-call entities walk catalogue relations', () => {
    const team = neighbourhood(index, 'group:default/ghosts', { direction: 'up' });
    assert.equal(team.graph, 'relations');
    assert.deepEqual(
      team.nodes.map((n) => n.name),
      ['ghosts', 'audit'],
    );
    assert.deepEqual(
      team.edges.map((e) => e.relation),
      ['ownedBy'],
    );
  });
  it('bad input', () => {
    assert.throws(() => neighbourhood(index, 'ledger', { depth: 7 }), /depth must be an integer from 1 to 6/);
    assert.throws(
      () => neighbourhood(index, 'ledger', { direction: 'sideways' as 'up' }),
      /direction must be one of up, down, both/,
    );
  });
});
