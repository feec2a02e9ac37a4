import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { Ingester } from '../ingest/ingest.ts';
import { NullStore } from '../store/memory.ts';
import { writeTree } from '../testing/tree.ts';
import { registerBuiltInKinds, registeredKinds, registerKind, unregisterKind } from './kinds.ts';
import { validateEntity } from './validate.ts';

/** A kind a module might add, with its schema written as Backstage's own kinds are (on top of Entity). */
const widgetModule = {
  kind: 'Widget',
  source: 'test module',
  schema: {
    $schema: 'http://json-schema.org/draft-07/schema',
    $id: 'WidgetV1',
    allOf: [
      { $ref: 'Entity' },
      {
        type: 'object',
        required: ['spec'],
        properties: {
          apiVersion: { enum: ['widgets.example.com/v1'] },
          kind: { enum: ['Widget'] },
          spec: {
            type: 'object',
            required: ['colour'],
            properties: { colour: { type: 'string', enum: ['red', 'green'] } },
          },
        },
      },
    ],
  },
};

const template = (name: string, spec: string) => `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata: {name: ${name}}
spec:
${spec}
`;

describe('kinds from modules', () => {
  afterEach(() => unregisterKind('Widget'));

  it('an unregistered kind is refused; once a module registers it with a schema, its entities are validated by that schema', async () => {
    const good = {
      apiVersion: 'widgets.example.com/v1',
      kind: 'Widget',
      metadata: { name: 'w' },
      spec: { colour: 'red' },
    };
    const [unknown] = await validateEntity(good);
    assert.match(unknown?.message ?? '', /Unknown kind "Widget"; the catalogue knows .*Template/);

    registerKind(widgetModule);
    assert.ok(registeredKinds().some((k) => k.kind === 'Widget' && k.source === 'test module'));
    assert.deepEqual(await validateEntity(good), []);
    const [bad] = await validateEntity({ ...good, spec: { colour: 'blue' } });
    assert.match(bad?.message ?? '', /spec\/colour must be equal to one of the allowed values/);
    const [wrongVersion] = await validateEntity({ ...good, apiVersion: 'backstage.io/v1alpha1' });
    assert.match(
      wrongVersion?.message ?? '',
      /apiVersion "backstage.io\/v1alpha1" is not supported for kind Widget/,
    );
  });

  it("Backstage's Template kind (scaffolder-common's schema) is registered by default: templates live in the catalogue, owned by their group", async () => {
    const dir = writeTree({
      'catalog-info.yaml': `apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: platform}
spec: {type: team, children: []}
---
${template(
  'new-service',
  `  owner: group:platform
  type: service
  parameters: [{title: Name, properties: {name: {type: string}}}]
  steps: [{id: fetch, action: fetch:template, input: {url: ./content}}]`,
)}---
${template(
  'no-steps',
  `  owner: group:platform
  type: service`,
)}`,
    });
    const ingester = new Ingester(new NullStore());
    const result = await ingester.ingest([dir]);
    const { entities, relations } = await ingester.snapshot();
    assert.ok(entities.has('template:default/new-service'));
    assert.deepEqual(
      relations.get('template:default/new-service')?.map((r) => `${r.type} ${r.targetRef}`),
      ['ownedBy group:default/platform'],
    );
    // A template the schema refuses (no steps) is refused with the schema's reason, and nothing else is lost.
    assert.ok(!entities.has('template:default/no-steps'));
    const err = result.errors.find((e) => e.message.includes('steps'));
    assert.ok(err, JSON.stringify(result.errors));
  });

  it('PORTAL_CATALOG_KINDS names the built-in modules; an unknown one is a clear error', () => {
    assert.throws(
      () => registerBuiltInKinds('template,workflow'),
      /unknown kind module "workflow"; known: template/,
    );
    assert.deepEqual(registerBuiltInKinds('none'), []);
  });
});
