import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CATALOGUE_SCHEMA, GRAPH_SCHEMA, PATHS_SCHEMA, readState, writeState } from './url-state.ts';

describe('URL state: every view and filter can be shared', () => {
  it('defaults stay out of the URL', () => {
    const state = readState(CATALOGUE_SCHEMA, new URLSearchParams(''));
    assert.deepEqual(state.kind, ['component']);
    assert.equal(state.page, 1);
    assert.equal(writeState(CATALOGUE_SCHEMA, state), '');
  });

  it('round-trips lists, numbers, enums and booleans', () => {
    const state = {
      ...readState(CATALOGUE_SCHEMA, new URLSearchParams('')),
      tier: ['1', '2'],
      owner: ['group:default/ledger'],
      sort: 'tier',
      dir: 'desc',
      page: 3,
    };
    const qs = writeState(CATALOGUE_SCHEMA, state);
    assert.equal(qs, '?owner=group%3Adefault%2Fledger&tier=1,2&sort=tier&dir=desc&page=3');
    assert.deepEqual(readState(CATALOGUE_SCHEMA, new URLSearchParams(qs)), state);
    const g = {
      ...readState(GRAPH_SCHEMA, new URLSearchParams('')),
      focus: 'balance',
      resources: true,
      team: 'group:default/payments',
    };
    assert.deepEqual(readState(GRAPH_SCHEMA, new URLSearchParams(writeState(GRAPH_SCHEMA, g))), g);
  });

  it('an empty list that differs from the default is kept (kind= means every kind)', () => {
    const state = { ...readState(CATALOGUE_SCHEMA, new URLSearchParams('')), kind: [] };
    assert.equal(writeState(CATALOGUE_SCHEMA, state), '?kind=');
    assert.deepEqual(readState(CATALOGUE_SCHEMA, new URLSearchParams('kind=')).kind, []);
  });

  it('malformed values fall back to the default instead of breaking the page', () => {
    const s = readState(PATHS_SCHEMA, new URLSearchParams('k=abc&maxHops=99&path=-1&from=card-api'));
    assert.equal(s.k, 5);
    assert.equal(s.maxHops, 8);
    assert.equal(s.path, 1);
    assert.equal(s.from, 'card-api');
    const c = readState(CATALOGUE_SCHEMA, new URLSearchParams('sort=__proto__&dir=sideways&tier=1,,1,2'));
    assert.equal(c.sort, 'name');
    assert.equal(c.dir, 'asc');
    assert.deepEqual(c.tier, ['1', '2']);
  });

  it('reads Next searchParams objects too (arrays take the first value)', () => {
    assert.equal(readState(PATHS_SCHEMA, { from: ['card-api', 'x'], to: 'feed' }).from, 'card-api');
  });
});
