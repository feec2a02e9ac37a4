import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readCatalogTree } from '@bank/catalog';
import { matches, parseFilterParams, valuesAt } from './filter.ts';
import type { ServedEntity } from './view.ts';

/**
 * Backstage's definition of what a filter sees: every search row of the entity (lowercased dotted key →
 * lowercased values; string array items also as `<key>.<item>` = "true"; relations as `relations.<type>`;
 * keys over 200 characters dropped, values over 200 characters stored as ""). valuesAt must agree with it
 * without building it.
 */
function searchRows(entity: ServedEntity): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const put = (key: string, value: string) => {
    if (key.length > 200) return;
    const k = key.toLowerCase();
    let s = out.get(k);
    if (!s) {
      s = new Set();
      out.set(k, s);
    }
    s.add(value.length > 200 ? '' : value.toLowerCase());
  };
  const walk = (value: unknown, p: string) => {
    if (value === null || value === undefined) return;
    if (Array.isArray(value)) {
      for (const item of value) {
        if (typeof item === 'string') put(`${p}.${item}`, 'true');
        walk(item, p);
      }
      return;
    }
    if (typeof value === 'object') {
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) walk(v, p ? `${p}.${k}` : k);
      return;
    }
    put(p, String(value));
  };
  const { relations, ...rest } = entity;
  walk(rest, '');
  for (const r of relations) put(`relations.${r.type}`, r.targetRef);
  return out;
}

const SERVICES = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  '..',
  'services',
);

describe('catalogue filters', () => {
  it("see exactly an entity's search rows, for every key of every entity in the estate and keys it lacks", async () => {
    const { entities } = await readCatalogTree(SERVICES);
    const odd: ServedEntity = {
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Component',
      metadata: {
        name: 'odd',
        annotations: { 'Backstage.io/Orphan': 'TRUE', 'bank.io/long': 'x'.repeat(201) },
        tags: ['Go', 'a.b'],
        links: [{ url: 'https://x.example', title: 'X' }],
      },
      spec: {
        nested: [{ deep: ['One', { deeper: 2 }] }],
        flag: false,
        owner: 'group:default/ledger',
        relations: ['A'],
      },
      relations: [{ type: 'ownedBy', targetRef: 'group:default/ledger' }],
    } as ServedEntity;
    const all = [...(entities as ServedEntity[]), odd];
    const keys = new Set<string>(['metadata.missing', 'spec', 'relations', 'relations.nothing', 'kind.x']);
    for (const e of all) for (const k of searchRows(e).keys()) keys.add(k);
    assert.ok(keys.size > 100, `the estate gives many keys (${keys.size})`);
    let compared = 0;
    for (const e of all) {
      const rows = searchRows(e);
      for (const key of keys) {
        const want = rows.get(key);
        const got = valuesAt(e, key);
        assert.deepEqual(got ? new Set(got) : undefined, want, `${e.metadata.name}: ${key}`);
        compared++;
      }
    }
    assert.ok(compared > 100_000);
  });

  it('match as Backstage does: sets ORed, conditions ANDed, repeated keys ORed, bare keys for existence', async () => {
    const { entities } = await readCatalogTree(SERVICES);
    const pick = (...filters: string[]) => {
      const sets = parseFilterParams(filters);
      return (entities as ServedEntity[])
        .filter((e) => matches(e, sets))
        .map((e) => `${e.kind.toLowerCase()}:${e.metadata.name}`)
        .sort();
    };
    assert.equal(pick('kind=component').length, 351);
    assert.deepEqual(pick('kind=Component,metadata.name=CARD-API'), ['component:card-api']);
    assert.deepEqual(pick('metadata.name=card-api,kind=api'), []);
    assert.deepEqual(pick('kind=group,metadata.name=ledger', 'kind=component,metadata.name=ledger'), [
      'component:ledger',
      'group:ledger',
    ]);
    assert.deepEqual(pick('kind=component,metadata.name=ledger,metadata.name=balance'), [
      'component:balance',
      'component:ledger',
    ]);
    const owned = pick('kind=component,relations.ownedBy=group:default/ledger');
    assert.ok(owned.includes('component:ledger') && owned.every((r) => r.startsWith('component:')));
    assert.equal(pick('kind=component,metadata.annotations.bank.io/tier').length, 351);
    assert.equal(pick('kind=component,metadata.annotations.bank.io/nothing').length, 0);
  });
});
