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
