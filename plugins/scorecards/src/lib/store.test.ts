import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { CatalogStore } from '@bank/catalog';
import { testDatabases } from '@bank/catalog/testing';
import fc from 'fast-check';
import { parseScorecard, type Scorecard } from './definition.ts';
import type { EntityScore } from './evaluate.ts';
import { ScorecardStore } from './store.ts';

const DAY = 86_400_000;
const T0 = Date.parse('2026-12-01T12:00:00Z');
const LEVELS = [null, 'bronze', 'silver'] as const;

const score = (entity: string, level: string | null, failing: string[] = []): EntityScore => ({
  entity: `component:default/${entity}`,
  scorecard: 'readiness',
  level,
  next: null,
  owner: 'group:default/ledger',
  collective: 'group:default/core-banking',
  tier: 1,
  checks: failing.map((check) => ({
    check,
    title: check,
    level: 'silver',
    status: 'fail' as const,
    why: 'because',
    fix: 'fix it',
    definedAt: { file: 'scorecards/readiness.yaml', line: 1, column: 1 },
  })),
});

const card = (() => {
  const r = parseScorecard(
    'apiVersion: bank.io/v1\nkind: Scorecard\nmetadata: {name: readiness}\nspec:\n  checks:\n    - {name: a, kind: fact, fact: oncall, present: true}\n  levels:\n    - {name: bronze, checks: [a]}\n    - {name: silver, checks: [a]}\n',
    'x.yaml',
  );
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.scorecard as Scorecard;
})();

for (const db of testDatabases()) {
  describe(`scores with history on ${db.name}`, { skip: db.skip }, () => {
    const stores: CatalogStore[] = [];
    const open = async (url: string) => {
      const s = await CatalogStore.open(url);
      stores.push(s);
      return new ScorecardStore(s.driver);
    };
    after(async () => {
      for (const s of stores) await s.close();
    });

    it('appends only changes, also after a restart, and a trend is a query over days', async () => {
      const url = await db.create();
      let store = await open(url);
      assert.equal(
        await store.record(
          { rescored: 2, changed: [score('a', 'bronze', ['pdb']), score('b', 'silver')], removed: [] },
          T0,
        ),
        2,
      );
      await store.recordDay(card, [score('a', 'bronze'), score('b', 'silver')], T0);
      // A restart re-scores everything: the same results append nothing.
      store = await open(url);
      assert.equal(
        await store.record(
          { rescored: 2, changed: [score('a', 'bronze', ['pdb']), score('b', 'silver')], removed: [] },
          T0 + DAY,
        ),
        0,
      );
      assert.equal(
        await store.record({ rescored: 1, changed: [score('a', 'silver')], removed: [] }, T0 + DAY),
        1,
      );
      assert.equal(
        await store.record(
          { rescored: 1, changed: [], removed: [{ scorecard: 'readiness', entity: 'component:default/b' }] },
          T0 + 2 * DAY,
        ),
        1,
      );
      await store.recordDay(card, [score('a', 'silver')], T0 + DAY);
      const history = await store.history('component:default/a');
      assert.deepEqual(
        history.map((h) => [h.level, h.failing, h.at.slice(0, 10)]),
        [
          ['silver', [], '2026-12-02'],
          ['bronze', ['pdb'], '2026-12-01'],
        ],
      );
      assert.equal((await store.history('component:default/b'))[0].removed, true);
      const trend = await store.trend('readiness', 30, '*', T0 + 3 * DAY);
      assert.deepEqual(trend, [
        { day: '2026-12-01', services: 2, atLeast: { bronze: 2, silver: 1 } },
        { day: '2026-12-02', services: 1, atLeast: { bronze: 1, silver: 1 } },
      ]);
      assert.equal(
        (await store.trend('readiness', 30, 'group:default/core-banking', T0 + 3 * DAY)).length,
        2,
      );
    });

    it("each squad is counted per day too, and a team's trend compares with its first stored day before today", async () => {
      const store = await open(await db.create());
      const other = (entity: string, level: string | null): EntityScore => ({
        ...score(entity, level),
        owner: 'group:default/accounts',
      });
      // 40 days ago: outside a 30-day window; 12 and 5 days ago: inside; today: what is compared.
      await store.recordDay(card, [score('a', null), other('c', 'silver')], T0 - 40 * DAY);
      await store.recordDay(card, [score('a', null), score('b', 'bronze')], T0 - 12 * DAY);
      await store.recordDay(
        card,
        [score('a', 'bronze'), score('b', 'bronze'), other('c', null)],
        T0 - 5 * DAY,
      );
      await store.recordDay(card, [score('a', 'silver'), score('b', 'silver'), other('c', 'bronze')], T0);
      assert.deepEqual(
        (await store.trend('readiness', 30, 'group:default/ledger', T0)).map((p) => [
          p.day,
          p.atLeast.bronze,
        ]),
        [
          ['2026-11-19', 1],
          ['2026-11-26', 2],
          ['2026-12-01', 2],
        ],
      );
      const since = await store.teamsSince('readiness', 30, T0);
      assert.deepEqual(Object.fromEntries(since), {
        '*': { day: '2026-11-19', services: 2, atLeast: { bronze: 1, silver: 0 } },
        'group:default/core-banking': { day: '2026-11-19', services: 2, atLeast: { bronze: 1, silver: 0 } },
        'group:default/ledger': { day: '2026-11-19', services: 2, atLeast: { bronze: 1, silver: 0 } },
        // first counted 5 days ago inside the window (its 40-day-old count is outside)
        'group:default/accounts': { day: '2026-11-26', services: 1, atLeast: { bronze: 0, silver: 0 } },
      });
      // Only today stored: nothing to compare with.
      assert.equal((await store.teamsSince('readiness', 3, T0)).size, 0);
    });

    it('property: nothing accepted is lost; the history is exactly the sequence of changes per service', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.constantFrom(...LEVELS), fc.boolean()), {
            maxLength: 25,
          }),
          fc.integer({ min: 1, max: 24 }),
          async (steps, restartAt) => {
            const url = await db.create();
            let store = await open(url);
            const expected = new Map<string, string[]>();
            const last = new Map<string, string>();
            for (const [i, [entity, level, pdb]] of steps.entries()) {
              if (i === restartAt) store = await open(url);
              const s = score(entity, level, pdb ? ['pdb'] : []);
              await store.record({ rescored: 1, changed: [s], removed: [] }, T0 + i * 1000);
              const key = `${level}|${pdb}`;
              if (last.get(entity) !== key) {
                last.set(entity, key);
                expected.set(entity, [key, ...(expected.get(entity) ?? [])]);
              }
            }
            for (const entity of ['a', 'b', 'c']) {
              const got = (await store.history(`component:default/${entity}`)).map(
                (h) => `${h.level}|${h.failing.includes('pdb')}`,
              );
              assert.deepEqual(got, expected.get(entity) ?? []);
            }
          },
        ),
        { numRuns: db.name === 'sqlite' ? 25 : 8 },
      );
    });
  });
}
