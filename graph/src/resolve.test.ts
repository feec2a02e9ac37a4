import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MalformedRefError, UnknownRefError } from './errors.ts';
import { buildGraphIndex } from './graph-index.ts';
import { resolveRef } from './resolve.ts';
import { toEntities } from './testing/entities.ts';
import { smallEstate, smallEstateSpecs } from './testing/small-estate.ts';

const index = buildGraphIndex(smallEstate());

describe('resolveRef', () => {
  it('short names, kind:name, namespace/name and full refs, case-insensitive', () => {
    assert.equal(resolveRef(index, 'card-api'), 'component:default/card-api');
    assert.equal(resolveRef(index, 'Card-API'), 'component:default/card-api');
    assert.equal(resolveRef(index, 'resource:cassandra-ledger'), 'resource:default/cassandra-ledger');
    assert.equal(resolveRef(index, 'default/feed'), 'component:default/feed');
    assert.equal(resolveRef(index, 'api:default/feed-rpc'), 'api:default/feed-rpc');
  });

  it('an ambiguous short name prefers Component, then Group', () => {
    assert.equal(resolveRef(index, 'ledger'), 'component:default/ledger');
    assert.equal(resolveRef(index, 'ghosts'), 'group:default/ghosts');
    assert.equal(resolveRef(index, 'group:ledger'), 'group:default/ledger');
    const other = buildGraphIndex(
      toEntities([...smallEstateSpecs(), { kind: 'Component', name: 'ledger', namespace: 'legacy' }]),
    );
    assert.equal(resolveRef(other, 'ledger'), 'component:default/ledger');
    assert.equal(resolveRef(other, 'legacy/ledger'), 'component:legacy/ledger');
  });

  it('unknown names carry the closest matches', () => {
    const err = (() => {
      try {
        resolveRef(index, 'ledgr', { fn: 'impact', field: 'ref' });
      } catch (e) {
        return e;
      }
    })();
    assert.ok(err instanceof UnknownRefError);
    assert.match(err.message, /^impact: unknown ref 'ledgr' \(ref\); closest: ledger/);
    assert.equal(err.suggestions[0], 'component:default/ledger');
    const none = (() => {
      try {
        resolveRef(index, 'zzzzzzzzzzzz');
      } catch (e) {
        return e as UnknownRefError;
      }
    })();
    assert.deepEqual(none?.suggestions, []);
  });

  it('malformed refs say what form is expected', () => {
    assert.throws(
      () => resolveRef(index, 'a:b:c', { fn: 'impact' }),
      /impact: malformed ref "a:b:c": expected a name like 'card-api' or a ref like 'component:default\/card-api'/,
    );
    for (const bad of ['', ' ', 'x/', ':x', 'a b', 'a/b/c', 'ümlaut'])
      assert.throws(() => resolveRef(index, bad), MalformedRefError);
  });
});
