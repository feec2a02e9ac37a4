import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyChanges, buildGraphIndex, mergeObserved } from './graph-index.ts';
import { impact } from './impact.ts';
import { toEntities } from './testing/entities.ts';
import { smallEstate, smallEstateSpecs } from './testing/small-estate.ts';

// impact keeps node cards between queries (internal/call-cards.ts); a change must show in the next answer.
describe('impact after changes to the same index', () => {
  it('shows a changed tier, owner and collective, and equals a fresh build', () => {
    const index = buildGraphIndex(smallEstate());
    const before = impact(index, 'ledger');
    assert.ok(before.dependents.some((d) => d.name === 'card-processing'));

    const specs = smallEstateSpecs();
    const service = specs.find((s) => s.kind === 'Component' && s.name === 'card-processing');
    assert.ok(service);
    service.tier = 3;
    const groups = specs.filter((s) => s.kind === 'Group');
    const newOwner = groups.find((g) => `group:default/${g.name}` !== service.owner && g.type === 'squad');
    assert.ok(newOwner);
    service.owner = `group:default/${newOwner.name}`;
    const entities = toEntities(specs);
    applyChanges(index, { upserted: entities.filter((e) => e.metadata.name === 'card-processing') });
    const after = impact(index, 'ledger');
    const card = after.dependents.find((d) => d.name === 'card-processing');
    assert.equal(card?.tier, 3);
    assert.equal(card?.owner, `group:default/${newOwner.name}`);
    assert.deepEqual(after, impact(buildGraphIndex(entities), 'ledger'));

    // Move the new owner under another parent: the collective of its services changes with it.
    const collectives = groups.filter((g) => g.type === 'collective');
    const other = collectives.find((c) => `group:default/${c.name}` !== newOwner.parent);
    if (other) {
      newOwner.parent = `group:default/${other.name}`;
      const moved = toEntities(specs);
      applyChanges(index, {
        upserted: moved.filter((e) => e.kind === 'Group' && e.metadata.name === newOwner.name),
      });
      assert.deepEqual(impact(index, 'ledger'), impact(buildGraphIndex(moved), 'ledger'));
      assert.equal(
        impact(index, 'ledger').dependents.find((d) => d.name === 'card-processing')?.collective,
        `group:default/${other.name}`,
      );
    }
  });

  it('follows call edges added and removed in place (the flat reverse adjacency is rebuilt)', () => {
    const index = buildGraphIndex(smallEstate());
    impact(index, 'feed');
    const specs = smallEstateSpecs();
    const cardApi = specs.find((s) => s.kind === 'Component' && s.name === 'card-api');
    assert.ok(cardApi);
    const original = cardApi.dependsOn ?? [];
    cardApi.dependsOn = [...original, 'component:default/feed'];
    const added = toEntities(specs);
    applyChanges(index, {
      upserted: added.filter((e) => e.kind === 'Component' && e.metadata.name === 'card-api'),
    });
    assert.deepEqual(impact(index, 'feed'), impact(buildGraphIndex(added), 'feed'));
    assert.ok(impact(index, 'feed').dependents.some((d) => d.name === 'card-api' && d.depth === 1));
    cardApi.dependsOn = original;
    const removed = toEntities(specs);
    applyChanges(index, {
      upserted: removed.filter((e) => e.kind === 'Component' && e.metadata.name === 'card-api'),
    });
    assert.deepEqual(impact(index, 'feed'), impact(buildGraphIndex(removed), 'feed'));
  });

  it('an index that grows past the arrays kept from earlier queries gets larger ones', () => {
    const index = buildGraphIndex(smallEstate());
    const before = impact(index, 'ledger');
    // 300 new placeholder callers of ledger: far more ids than the arrays the first query was given.
    const callers = Array.from({ length: 300 }, (_, i) => `component:default/caller-${i}`);
    mergeObserved(
      index,
      callers.map((from) => ({ from, to: 'component:default/ledger' })),
    );
    const after = impact(index, 'ledger');
    assert.equal(after.total, before.total + callers.length);
    const depths = new Map(after.dependents.map((d) => [d.ref, d.depth]));
    for (const ref of callers) assert.equal(depths.get(ref), 1, ref);
    assert.deepEqual(impact(index, 'ledger', { via: 'declared' }).dependents, before.dependents);
  });
});
