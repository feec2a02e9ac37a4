import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CatalogView } from './view.ts';

describe('CatalogView.rememberAnswer: whole answers kept per view, within a byte budget', () => {
  const view = () => new CatalogView(new Map(), new Map());
  const answer = (mb: number) => ({ body: Buffer.alloc(mb << 20) });

  it('makes an answer once per key and view', () => {
    const v = view();
    let made = 0;
    const make = () => {
      made++;
      return answer(1);
    };
    const a = v.rememberAnswer('page 1', make, (x) => x.body.byteLength);
    const b = v.rememberAnswer('page 1', make, (x) => x.body.byteLength);
    assert.equal(a, b);
    assert.equal(made, 1);
    v.rememberAnswer('page 2', make, (x) => x.body.byteLength);
    assert.equal(made, 2);
    // Another view (after an ingest) keeps nothing of this one's.
    view().rememberAnswer('page 1', make, (x) => x.body.byteLength);
    assert.equal(made, 3);
  });

  it('drops the oldest answers past 16 MB, and never keeps one over a quarter of that', () => {
    const v = view();
    const made: string[] = [];
    const ask = (key: string, mb: number) =>
      v.rememberAnswer(
        key,
        () => {
          made.push(key);
          return answer(mb);
        },
        (x) => x.body.byteLength,
      );
    for (const key of ['a', 'b', 'c', 'd']) ask(key, 4); // 16 MB: all kept
    ask('a', 4);
    assert.deepEqual(made, ['a', 'b', 'c', 'd']);
    ask('e', 4); // a, the oldest, goes
    ask('b', 4);
    ask('a', 4);
    assert.deepEqual(made, ['a', 'b', 'c', 'd', 'e', 'a']);
    ask('huge', 5);
    ask('huge', 5);
    assert.deepEqual(made.slice(-2), ['huge', 'huge'], 'over a quarter of the budget: made each time');
  });
});

describe('CatalogView: served entities and their relations', () => {
  const stored = (ref: string, entity: Record<string, unknown>) => ({
    ref,
    entity: entity as never,
    sourceFile: null,
    line: null,
    stale: false,
    staleReason: null,
  });
  const component = {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: { name: 'card-api', namespace: 'default' },
    spec: { type: 'service', lifecycle: 'production', owner: 'cards', dependsOn: ['resource:gone-db'] },
  };
  const group = {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Group',
    metadata: { name: 'cards', namespace: 'default' },
    spec: { type: 'squad', children: [] },
  };
  const view = () =>
    new CatalogView(
      new Map([
        ['component:default/card-api', stored('component:default/card-api', component)],
        ['group:default/cards', stored('group:default/cards', group)],
      ]),
      new Map([
        ['component:default/card-api', [{ type: 'ownedBy', targetRef: 'group:default/cards' }]],
        ['group:default/cards', [{ type: 'ownerOf', targetRef: 'component:default/card-api' }]],
      ]),
    );

  it('serves the stored relations and those to missing targets, in JSON, spread and copies alike', () => {
    const v = view();
    const served = v.byRef.get('component:default/card-api');
    assert.ok(served);
    const expected = [
      { type: 'dependsOn', targetRef: 'resource:default/gone-db' },
      { type: 'ownedBy', targetRef: 'group:default/cards' },
    ];
    assert.deepEqual(served.relations, expected);
    assert.deepEqual(JSON.parse(v.json(served)).relations, expected);
    assert.deepEqual(JSON.parse(JSON.stringify(served)), { ...component, relations: expected });
    assert.deepEqual({ ...served }.relations, expected);
    assert.deepEqual(structuredClone(served).relations, expected);
    assert.deepEqual(Object.keys(served), ['apiVersion', 'kind', 'metadata', 'spec', 'relations']);
    // The same array each time it is read, and the stored list is left as it was.
    assert.equal(served.relations, served.relations);
    assert.deepEqual(v.byRef.get('group:default/cards')?.relations, [
      { type: 'ownerOf', targetRef: 'component:default/card-api' },
    ]);
  });

  it('a target that joins the catalogue is no longer missing in the next view', () => {
    const next = new CatalogView(
      new Map([
        ['component:default/card-api', stored('component:default/card-api', component)],
        [
          'resource:default/gone-db',
          stored('resource:default/gone-db', {
            apiVersion: 'backstage.io/v1alpha1',
            kind: 'Resource',
            metadata: { name: 'gone-db', namespace: 'default' },
            spec: { type: 'database', owner: 'cards' },
          }),
        ],
      ]),
      new Map([
        ['component:default/card-api', [{ type: 'dependsOn', targetRef: 'resource:default/gone-db' }]],
        ['resource:default/gone-db', [{ type: 'dependencyOf', targetRef: 'component:default/card-api' }]],
      ]),
    );
    const served = next.byRef.get('component:default/card-api');
    assert.deepEqual(served?.relations, [
      { type: 'dependsOn', targetRef: 'resource:default/gone-db' },
      { type: 'ownedBy', targetRef: 'group:default/cards' },
    ]);
  });
});
