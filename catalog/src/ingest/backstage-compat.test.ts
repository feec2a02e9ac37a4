import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  apiEntityV1alpha1Validator,
  componentEntityV1alpha1Validator,
  DefaultNamespaceEntityPolicy,
  domainEntityV1alpha1Validator,
  type Entity,
  EntityPolicies,
  FieldFormatEntityPolicy,
  groupEntityV1alpha1Validator,
  locationEntityV1alpha1Validator,
  NoForeignRootFieldsEntityPolicy,
  resourceEntityV1alpha1Validator,
  SchemaValidEntityPolicy,
  systemEntityV1alpha1Validator,
  userEntityV1alpha1Validator,
} from '@backstage/catalog-model';
import { templateEntityV1beta3Validator } from '@backstage/plugin-scaffolder-common';
import yaml from 'yaml';
import { bankPolicyFor } from '../model/policy.ts';
import { computeRelations, danglingRelations } from '../model/relations.ts';
import { NullStore } from '../store/memory.ts';
import { BACKSTAGE_RULE_FIXTURES, createAppExamples } from '../testing/backstage.ts';
import { removeFile, writeTree } from '../testing/tree.ts';
import { Ingester } from './ingest.ts';

/**
 * The catalogue takes what Backstage takes. The oracle is `@backstage/catalog-model`'s own validators (its
 * entity policies and kind validators, compiled at run time here, independent of the portal's precompiled
 * copy), plus the Template validator of `@backstage/plugin-scaffolder-common` (what the scaffolder's catalog
 * module adds in a create-app backend; the portal registers the Template kind module by default).
 * Backstage's example catalogue is read from `@backstage/create-app` as npm publishes it.
 */
const backstagePolicies = EntityPolicies.allOf([
  new DefaultNamespaceEntityPolicy(),
  new NoForeignRootFieldsEntityPolicy(),
  new FieldFormatEntityPolicy(),
  new SchemaValidEntityPolicy(),
]);
const kindValidators = [
  componentEntityV1alpha1Validator,
  apiEntityV1alpha1Validator,
  resourceEntityV1alpha1Validator,
  systemEntityV1alpha1Validator,
  domainEntityV1alpha1Validator,
  groupEntityV1alpha1Validator,
  userEntityV1alpha1Validator,
  locationEntityV1alpha1Validator,
  templateEntityV1beta3Validator,
];

async function backstageAccepts(doc: unknown): Promise<boolean> {
  try {
    const copy = structuredClone(doc) as Entity;
    await backstagePolicies.enforce(copy);
    for (const v of kindValidators) if (await v.check(copy)) return true;
    return false;
  } catch {
    return false;
  }
}

function refOf(doc: Entity): string {
  return `${doc.kind}:${doc.metadata?.namespace ?? 'default'}/${doc.metadata?.name}`.toLowerCase();
}

/** Every document of the files, each with Backstage's decision, and the portal's after ingesting the files. */
async function decisions(files: string[], ingester = new Ingester(new NullStore())) {
  const docs = files.flatMap((f) =>
    yaml
      .parseAllDocuments(readFileSync(f, 'utf8'))
      .map((d) => d.toJSON() as Entity)
      .filter((d) => d !== null),
  );
  const result = await ingester.ingest(files);
  const { entities } = await ingester.snapshot();
  const rows = [];
  for (const doc of docs) {
    rows.push({ ref: refOf(doc), backstage: await backstageAccepts(doc), portal: entities.has(refOf(doc)) });
  }
  return { rows, result, entities };
}

describe("Backstage's rules by default: the same accept/reject decisions as @backstage/catalog-model", () => {
  it("@backstage/create-app's example catalogues (templates/*/examples), as published on npm", async () => {
    const apps = createAppExamples();
    assert.deepEqual(
      apps.map((a) => a.template),
      ['default-app', 'legacy-app'],
      'the templates that ship an example catalogue',
    );
    for (const app of apps) {
      const { entities, org, template, skeleton } = app.files;
      const { rows } = await decisions([entities, org, template, skeleton]);
      for (const r of rows)
        assert.equal(
          r.portal,
          r.backstage,
          `${app.template} ${r.ref}: Backstage ${r.backstage}, portal ${r.portal}`,
        );
      assert.deepEqual(
        rows.filter((r) => r.portal).map((r) => r.ref),
        [
          'system:default/examples',
          'component:default/example-website',
          'api:default/example-grpc-api',
          'user:default/guest',
          'group:default/guests',
          'template:default/example-nodejs-template',
        ],
        app.template,
      );
      // The Template kind is accepted as a create-app backend accepts it: bare catalog-model refuses the kind,
      // but Backstage's scaffolder catalog module registers it, and so does the portal's Template kind module.
      // The skeleton's name is a template expression (refused by both).
      assert.deepEqual(
        rows.filter((r) => !r.portal).map((r) => r.ref),
        [`component:default/$${'{{'} values.name | dump }}`],
        app.template,
      );
    }
  });

  it("Backstage's rules, one fixture each: owner a User, names like My_Service.v2, dangling targets kept, a missing owner does not cascade", async () => {
    const dir = writeTree({
      'catalog.yaml': BACKSTAGE_RULE_FIXTURES,
    });
    const { rows, result, entities } = await decisions([path.join(dir, 'catalog.yaml')]);
    for (const r of rows)
      assert.equal(r.portal, r.backstage, `${r.ref}: Backstage ${r.backstage}, portal ${r.portal}`);
    assert.deepEqual(rows.filter((r) => r.portal).length, 8);

    // The missing owner is reported once per entity naming it, as a warning with where it is written.
    const warnings = result.errors.filter((e) => e.severity === 'warning');
    assert.ok(
      warnings.some(
        (w) =>
          w.entityRef === 'component:default/card-api' &&
          /owner "missing-team" does not exist/.test(w.message),
      ),
    );
    assert.ok(
      warnings.some(
        (w) => w.entityRef === 'component:default/card-api' && /resource:card-db/.test(w.message),
      ),
    );
    // A typo is answered with the closest existing names.
    assert.ok(
      warnings.some(
        (w) =>
          w.entityRef === 'domain:default/payments' &&
          /owner "group:card-team" does not exist .*did you mean group:default\/cards-team/.test(w.message),
      ),
      JSON.stringify(warnings.map((w) => w.message)),
    );
    // Relations to targets that exist are stored; the dangling ones are served as Backstage serves them.
    const cardApi = entities.get('component:default/card-api')?.entity as Entity;
    assert.deepEqual(
      danglingRelations(cardApi, new Set(entities.keys())).map((r) => `${r.type} ${r.targetRef}`),
      ['ownedBy group:default/missing-team', 'dependsOn resource:default/card-db'],
    );
  });

  it("the bank's policy, where configured: the same tree refused (errors) or kept (warnings)", async () => {
    const dir = writeTree({
      'catalog.yaml': `
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: jane}
spec: {memberOf: []}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: My_Service.v2}
spec: {type: service, lifecycle: production, owner: user:jane}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: card-api}
spec: {type: service, lifecycle: production, owner: user:jane}
`,
    });
    const file = path.join(dir, 'catalog.yaml');
    const strict = new Ingester(new NullStore(), { policies: bankPolicyFor([dir]) });
    const refused = await strict.ingest([file]);
    assert.deepEqual([...(await strict.snapshot()).entities.keys()].sort(), ['user:default/jane']);
    assert.ok(refused.errors.some((e) => /DNS-1123/.test(e.message) && e.severity === undefined));
    assert.ok(
      refused.errors.some((e) => /must refer to a group/.test(e.message) && e.severity === undefined),
    );

    const lenient = new Ingester(new NullStore(), { policies: bankPolicyFor([dir], 'warning') });
    const warned = await lenient.ingest([file]);
    assert.equal((await lenient.snapshot()).entities.size, 3);
    assert.ok(warned.errors.length >= 3);
    assert.ok(warned.errors.every((e) => e.severity === 'warning'));
  });

  it('a missing target that appears later is related at once, and one that goes leaves the entity and its dangling relation', async () => {
    const dir = writeTree({
      'cards/catalog-info.yaml': `apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: card-api}
spec: {type: service, lifecycle: production, owner: cards-team, dependsOn: ['resource:card-db']}
`,
      // Enough others that a change of one entity is worked out incrementally, not by a full recomputation.
      'other/catalog-info.yaml': Array.from(
        { length: 12 },
        (_, i) => `apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: other-${i}}
spec: {type: service, lifecycle: production, owner: user:jane}
`,
      ).join('---\n'),
    });
    const ingester = new Ingester(new NullStore());
    await ingester.ingest([dir]);
    const relationsMatchAFullComputation = async () => {
      const { entities, relations } = await ingester.snapshot();
      const full = computeRelations(
        [...entities.values()].map((e) => e.entity),
        new Set(entities.keys()),
      );
      for (const ref of entities.keys())
        assert.deepEqual(relations.get(ref) ?? [], full.get(ref) ?? [], `relations of ${ref}`);
    };
    // The owner appears in a file of its own, read alone (as addLocation or a refresh reads it).
    const team = path.join(dir, 'org', 'catalog-info.yaml');
    writeTree(
      {
        'org/catalog-info.yaml': `apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: cards-team}
spec: {type: team, children: []}
`,
      },
      dir,
    );
    await ingester.ingest([team]);
    await relationsMatchAFullComputation();
    const { relations } = await ingester.snapshot();
    assert.ok(
      relations
        .get('component:default/card-api')
        ?.some((r) => r.type === 'ownedBy' && r.targetRef === 'group:default/cards-team'),
    );
    // It goes again: card-api stays (its owner dangles again), with no stored relation to the missing group.
    removeFile(dir, 'org/catalog-info.yaml');
    await ingester.ingest([dir]);
    await relationsMatchAFullComputation();
    const after = await ingester.snapshot();
    assert.ok(after.entities.has('component:default/card-api'));
    assert.equal(after.relations.get('component:default/card-api')?.length ?? 0, 0);
  });
});
