import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  closestOfKind,
  closestRefs,
  parseRef,
  RefError,
  refLookup,
  resolveRef,
  shortRef,
  shortRefIn,
  toRef,
} from './ref.ts';

const known = refLookup([
  'component:default/card-api',
  'component:default/cards',
  'group:default/cards',
  'component:default/feed',
  'component:legacy/ledger',
  'system:default/ledger',
  'group:default/ledger',
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
    for (const bad of ['', 'a b', 'x/', ':x', 'a:b:c', 'ümlaut'])
      assert.throws(
        () => resolveRef(bad, known),
        (err: unknown) => err instanceof RefError && err.problem === 'malformed',
      );
  });
  it('resolves short names, preferring components', () => {
    assert.equal(resolveRef('cards', known), 'component:default/cards');
    assert.equal(resolveRef('group:cards', known), 'group:default/cards');
    assert.equal(resolveRef('CARD-API', known), 'component:default/card-api');
  });
  it('finds a short name in every namespace: the preferred kind first, then the default namespace', () => {
    assert.equal(resolveRef('ledger', known), 'component:legacy/ledger');
    assert.equal(resolveRef('default/ledger', known), 'group:default/ledger');
    assert.equal(resolveRef('system:ledger', known), 'system:default/ledger');
    assert.equal(resolveRef('legacy/ledger', known), 'component:legacy/ledger');
    assert.equal(
      resolveRef('ledger', known, { accept: (r) => !r.startsWith('component:') }),
      'group:default/ledger',
    );
  });
  it('suggests the closest names for an unknown one', () => {
    try {
      resolveRef('card-apu', known);
      assert.fail('should throw');
    } catch (err) {
      assert.ok(err instanceof RefError);
      assert.equal(err.problem, 'unknown');
      assert.equal(err.suggestions[0], 'component:default/card-api');
      assert.match(err.message, /No entity named "card-apu". Did you mean: component:default\/card-api/);
    }
    // Each close name once, as its short name resolves; a kind typed with the name picks that kind.
    assert.deepEqual(closestRefs('ledgr', known), ['component:legacy/ledger']);
    assert.deepEqual(closestRefs('group:ledgr', known), ['group:default/ledger']);
    assert.deepEqual(
      closestRefs('ledgr', known, 5, (r) => !r.startsWith('component:')),
      ['group:default/ledger'],
    );
    assert.deepEqual(closestRefs('zzzzzzzzzzzz', known), []);
    // A dangling relation target suggests refs of its own kind: the field's (an owner: a Group) unless typed.
    const refs = ['component:default/ledger', 'group:default/ledger', 'system:default/ledger'];
    assert.deepEqual(closestOfKind('ledgr', refs, 'group'), ['group:default/ledger']);
    assert.deepEqual(closestOfKind('system:ledgr', refs, 'group'), ['system:default/ledger']);
    assert.deepEqual(closestOfKind('ledgr', refs), ['component:default/ledger']);
    assert.deepEqual(closestOfKind('bad:ref:', refs), []);
    // Plain names work too (facts, users).
    assert.deepEqual(closestRefs('runbok', ['runbook', 'oncall', 'tier'], 1), ['runbook']);
  });
  it('writes refs back short: the bare name where it resolves to the ref', () => {
    assert.equal(shortRef('component:default/card-api'), 'card-api');
    assert.equal(shortRef('group:default/cards'), 'group:cards');
    assert.equal(shortRef('component:legacy/ledger'), 'component:legacy/ledger');
    assert.equal(shortRefIn(known)('component:legacy/ledger'), 'ledger');
    assert.equal(shortRefIn(known)('group:default/ledger'), 'group:ledger');
    assert.equal(shortRef(undefined), '');
  });
});
