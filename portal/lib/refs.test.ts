import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { entityHref, refFromParam, shortName } from './refs.ts';

describe('refs', () => {
  it('builds entity URLs with every part encoded, short names as Components', () => {
    assert.equal(entityHref('Component:default/card-api'), '/entity/component/default/card-api');
    assert.equal(entityHref('component:default/a b?c'), '/entity/component/default/a%20b%3Fc');
    assert.equal(entityHref('card-api'), '/entity/component/default/card-api');
    assert.equal(entityHref('group:ledger'), '/entity/group/default/ledger');
  });
  it('a malformed ref links to a catalogue search, not a broken page', () => {
    assert.equal(entityHref('a/b/c'), '/catalogue?q=a%2Fb%2Fc');
  });
  it('a URL parameter names a ref by the catalogue rules', () => {
    assert.equal(refFromParam('ledger', 'group'), 'group:default/ledger');
    assert.equal(refFromParam('Group:Ledger', 'group'), 'group:default/ledger');
    assert.equal(refFromParam('ops/ledger', 'group'), 'group:ops/ledger');
    assert.equal(refFromParam('a/b/c', 'group'), 'a/b/c');
  });
  it('short names hide only the default namespace', () => {
    assert.equal(shortName('group:default/ledger'), 'ledger');
    assert.equal(shortName('group:ops/ledger'), 'ops/ledger');
    assert.equal(shortName(null), '');
  });
});
