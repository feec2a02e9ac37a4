import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRef, RefError, resolveRef, toRef } from './ref.ts';

const known = new Set([
  'component:default/card-api',
  'component:default/cards',
  'group:default/cards',
  'component:default/feed',
]);

describe('refs', () => {
  it('parses the three forms and lowercases', () => {
    assert.deepEqual(parseRef('Component:Default/Card-API'), {
      kind: 'component',
      namespace: 'default',
      name: 'card-api',
    });
    assert.equal(toRef('card-api', { kind: 'component' }), 'component:default/card-api');
    assert.equal(toRef('group:ledger'), 'group:default/ledger');
  });
  it('rejects malformed refs with the expected form', () => {
    assert.throws(() => parseRef('component:a/b/c'), /malformed; expected/);
    assert.throws(() => parseRef(''), /empty/);
    assert.throws(() => parseRef('card-api'), /no kind/);
  });
  it('resolves short names, preferring components', () => {
    assert.equal(resolveRef('cards', known), 'component:default/cards');
    assert.equal(resolveRef('group:cards', known), 'group:default/cards');
    assert.equal(resolveRef('CARD-API', known), 'component:default/card-api');
  });
  it('suggests the closest names for an unknown one', () => {
    try {
      resolveRef('card-apu', known);
      assert.fail('should throw');
    } catch (err) {
      assert.ok(err instanceof RefError);
      assert.equal(err.suggestions[0], 'component:default/card-api');
      assert.match(err.message, /No entity named "card-apu". Did you mean: component:default\/card-api/);
    }
  });
});
