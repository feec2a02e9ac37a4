import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Entity, EntityRelation } from '@backstage/catalog-model';
import fc from 'fast-check';
import { entityRef } from './ref.ts';
import {
  changedRelations,
  computeRelations,
  DERIVED_RELATIONS,
  RELATION_RULES,
  STORED_RELATIONS,
} from './relations.ts';

const COMPONENTS = ['card-api', 'cards', 'ledger', 'balance', 'feed', 'apns'];
const APIS = ['cards-rpc', 'ledger-rpc', 'feed-rpc'];
const GROUPS = ['payments', 'ledger-squad', 'feed-squad'];
const USERS = ['ada', 'bob', 'cy'];

const subset = (names: string[]) => fc.subarray(names);
const one = (names: string[]) => fc.constantFrom(...names);

/** Every entity of a small catalogue, each with random (but resolvable) references. */
const catalogue = () =>
  fc.record({
    components: fc.tuple(
      ...COMPONENTS.map((name) =>
        fc
          .record({
            owner: one(GROUPS),
            dependsOn: subset(COMPONENTS),
            dependencyOf: subset(COMPONENTS),
            providesApis: subset(APIS),
            consumesApis: subset(APIS),
          })
          .map(
            (spec): Entity => ({
              apiVersion: 'backstage.io/v1alpha1',
              kind: 'Component',
              metadata: { name, namespace: 'default' },
              spec: {
                type: 'service',
                lifecycle: 'production',
                ...spec,
                dependsOn: spec.dependsOn.map((c) => `component:${c}`),
                dependencyOf: spec.dependencyOf.map((c) => `component:${c}`),
              },
            }),
          ),
      ),
    ),
    apis: fc.tuple(
      ...APIS.map((name) =>
        one(GROUPS).map(
          (owner): Entity => ({
            apiVersion: 'backstage.io/v1alpha1',
            kind: 'API',
            metadata: { name, namespace: 'default' },
            spec: { type: 'grpc', lifecycle: 'production', owner, definition: 'x' },
          }),
        ),
      ),
    ),
    groups: fc.tuple(
      ...GROUPS.map((name) =>
        fc.record({ children: subset(GROUPS), members: subset(USERS) }).map(
          (spec): Entity => ({
            apiVersion: 'backstage.io/v1alpha1',
            kind: 'Group',
            metadata: { name, namespace: 'default' },
            spec: { type: 'squad', ...spec },
          }),
        ),
      ),
    ),
    users: fc.tuple(
      ...USERS.map((name) =>
        subset(GROUPS).map(
          (memberOf): Entity => ({
            apiVersion: 'backstage.io/v1alpha1',
            kind: 'User',
            metadata: { name, namespace: 'default' },
            spec: { memberOf },
          }),
        ),
      ),
    ),
  });

const flat = (c: { components: Entity[]; apis: Entity[]; groups: Entity[]; users: Entity[] }) => [
  ...c.components,
  ...c.apis,
  ...c.groups,
  ...c.users,
];

const nonEmpty = (m: Map<string, EntityRelation[]>) =>
  new Map([...m].filter(([, list]) => list.length > 0).sort(([a], [b]) => (a < b ? -1 : 1)));

describe('relations', () => {
  it('changedRelations gives what recomputing everything gives, for any edit that keeps the same entities', () => {
    fc.assert(
      fc.property(catalogue(), catalogue(), fc.array(fc.nat(), { maxLength: 6 }), (a, b, picks) => {
        const before = flat(a);
        // Some entities take their version from the second catalogue: an edit of those files.
        const after = before.map((e, i) => (picks.some((p) => p % before.length === i) ? flat(b)[i] : e));
        const known = new Set(before.map(entityRef));
        const full = computeRelations(before, known);
        const changed = before
          .map((e, i) => ({ before: e, after: after[i] }))
          .filter((c) => c.before !== c.after);
        const byRef = new Map(after.map((e) => [entityRef(e), e]));
        const updated = new Map(full);
        for (const [ref, list] of changedRelations(full, changed, (r) => byRef.get(r), known))
          updated.set(ref, list);
        assert.deepEqual(nonEmpty(updated), nonEmpty(computeRelations(after, known)));
      }),
      { numRuns: 300 },
    );
  });

  it('changedRelations also follows entities added and removed, and references that start or stop resolving', () => {
    const NAMES = ['a', 'b', 'c', 'd', 'e', 'f'];
    const GROUP_NAMES = ['g1', 'g2'];
    const body = fc.record({
      owner: one(GROUP_NAMES),
      dependsOn: subset(NAMES),
      dependencyOf: subset(NAMES),
    });
    const version = fc.record({ present: fc.boolean(), body });
    const make = (
      name: string,
      b: { owner: string; dependsOn: string[]; dependencyOf: string[] },
    ): Entity => ({
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Component',
      metadata: { name, namespace: 'default' },
      spec: {
        type: 'service',
        lifecycle: 'production',
        owner: b.owner,
        dependsOn: b.dependsOn.map((n) => `component:${n}`),
        dependencyOf: b.dependsOn.length % 2 ? b.dependencyOf.map((n) => `component:${n}`) : [],
      },
    });
    const group = (name: string): Entity => ({
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Group',
      metadata: { name, namespace: 'default' },
      spec: { type: 'squad', children: [] },
    });
    fc.assert(
      fc.property(
        fc.tuple(...NAMES.map(() => fc.tuple(version, version, fc.boolean()))),
        fc.tuple(fc.boolean(), fc.boolean()),
        (versions, groupsAfter) => {
          const beforeList: Entity[] = [group('g1'), group('g2')];
          const afterList: Entity[] = [
            ...(groupsAfter[0] ? [group('g1')] : []),
            ...(groupsAfter[1] ? [group('g2')] : []),
          ];
          const pairs: { before?: Entity; after?: Entity }[] = [];
          NAMES.forEach((name, i) => {
            const [v1, v2, same] = versions[i];
            const b = v1.present ? make(name, v1.body) : undefined;
            const a = v2.present ? (same && b ? b : make(name, v2.body)) : undefined;
            if (b) beforeList.push(b);
            if (a) afterList.push(a);
            pairs.push({ before: b, after: a });
          });
          for (const g of ['g1', 'g2'])
            if (!afterList.some((e) => e.metadata.name === g)) pairs.push({ before: group(g) });
          const knownBefore = new Set(beforeList.map(entityRef));
          const known = new Set(afterList.map(entityRef));
          const full = computeRelations(beforeList, knownBefore);
          const unresolved = (e: Entity) =>
            [
              e.spec?.owner as string,
              ...((e.spec?.dependsOn as string[]) ?? []),
              ...((e.spec?.dependencyOf as string[]) ?? []),
            ]
              .map((r) => (r.includes(':') ? r.replace(':', ':default/') : `group:default/${r}`))
              .some((r) => !knownBefore.has(r) || !known.has(r));
          const refsChanged = knownBefore.size !== known.size || [...knownBefore].some((r) => !known.has(r));
          const changes = pairs.filter(
            (p) => p.before !== p.after || (refsChanged && p.after && unresolved(p.after)),
          );
          const byRef = new Map(afterList.map((e) => [entityRef(e), e]));
          const updated = new Map(full);
          for (const [ref, list] of changedRelations(full, changes, (r) => byRef.get(r), known, knownBefore))
            updated.set(ref, list);
          assert.deepEqual(nonEmpty(updated), nonEmpty(computeRelations(afterList, known)));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('come in pairs, so one side of each is enough to store', () => {
    fc.assert(
      fc.property(catalogue(), (c) => {
        const entities = flat(c);
        const all = computeRelations(entities, new Set(entities.map(entityRef)));
        const inverse = new Map(
          [...STORED_RELATIONS].flatMap(([t, i]) => [[t, i] as const, [i, t] as const]),
        );
        for (const [source, list] of all) {
          for (const r of list) {
            const back = all.get(r.targetRef) ?? [];
            assert.ok(
              back.some((x) => x.type === inverse.get(r.type) && x.targetRef === source),
              `${source} ${r.type} ${r.targetRef} has no inverse`,
            );
          }
        }
      }),
      { numRuns: 100 },
    );
  });

  it('each rule’s pair has exactly one stored side and one derived side (what the store, ingest and graph skip)', () => {
    for (const { forward, reverse } of RELATION_RULES) {
      const stored = [forward, reverse].filter((t) => STORED_RELATIONS.has(t));
      const derived = [forward, reverse].filter((t) => DERIVED_RELATIONS.has(t));
      assert.equal(stored.length, 1, `${forward}/${reverse}: stored ${stored}`);
      assert.equal(derived.length, 1, `${forward}/${reverse}: derived ${derived}`);
      assert.notEqual(stored[0], derived[0]);
    }
    assert.deepEqual([...DERIVED_RELATIONS].sort(), [
      'apiConsumedBy',
      'apiProvidedBy',
      'dependencyOf',
      'hasMember',
      'hasPart',
      'ownerOf',
      'parentOf',
    ]);
  });
});
