import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { entityHref, parseRef, shortName } from './refs.ts';

describe('refs', () => {
  it('parses full and short refs', () => {
    assert.deepEqual(parseRef('component:default/card-api'), {
      kind: 'component',
      namespace: 'default',
      name: 'card-api',
    });
    assert.deepEqual(parseRef('card-api'), { kind: 'component', namespace: 'default', name: 'card-api' });
    assert.deepEqual(parseRef('group:ledger'), { kind: 'group', namespace: 'default', name: 'ledger' });
  });
  it('builds entity URLs with every part encoded', () => {
    assert.equal(entityHref('Component:default/card-api'), '/entity/component/default/card-api');
    assert.equal(entityHref('component:default/a b?c'), '/entity/component/default/a%20b%3Fc');
  });
  it('short names hide only the default namespace', () => {
    assert.equal(shortName('group:default/ledger'), 'ledger');
    assert.equal(shortName('group:ops/ledger'), 'ops/ledger');
    assert.equal(shortName(null), '');
  });
});
