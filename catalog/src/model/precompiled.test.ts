import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DefaultNamespaceEntityPolicy,
  type Entity,
  type EntityPolicy,
  type KindValidator,
  SchemaValidEntityPolicy,
} from '@backstage/catalog-model';
import { defaultNamespacePolicy, generateValidatorSource, precompiledValidators } from './precompiled.ts';
import { KIND_VALIDATORS } from './runtime-validators.ts';

// catalog-model's own validators, compiled at run time: the reference.
const BACKSTAGE = KIND_VALIDATORS;

const env = (kind: string, spec: unknown, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind,
  metadata: { name: 'x', namespace: 'default', ...extra },
  spec,
});

// Good and bad entities of every kind: wrong types, missing fields, other apiVersions, foreign fields.
const CORPUS: unknown[] = [
  env('Component', { type: 'service', lifecycle: 'production', owner: 'ledger' }),
  env('Component', { type: 'service', lifecycle: 'production' }),
  env('Component', { type: 'service', lifecycle: 7, owner: 'ledger' }),
  env('Component', { type: 'service', lifecycle: 'production', owner: 'ledger', dependsOn: 'not-a-list' }),
  env('Component', { type: '', lifecycle: 'production', owner: 'ledger' }),
  env('Component', 'not an object'),
  { ...env('Component', { type: 'service', lifecycle: 'production', owner: 'l' }), apiVersion: 'v9' },
  env('API', { type: 'grpc', lifecycle: 'production', owner: 'ledger', definition: 'x' }),
  env('API', { type: 'grpc', lifecycle: 'production', owner: 'ledger' }),
  env('Resource', { type: 'database', owner: 'ledger' }),
  env('Resource', { owner: 'ledger' }),
  env('System', { owner: 'ledger', domain: 'cards' }),
  env('System', {}),
  env('Domain', { owner: 'ledger' }),
  env('Group', { type: 'squad', children: [], parent: 'payments' }),
  env('Group', { type: 'squad' }),
  env('Group', { type: 'squad', children: 'none' }),
  env('User', { memberOf: ['ledger'], profile: { email: 'a@bank.io' } }),
  env('User', { memberOf: 'ledger' }),
  env('Location', { type: 'url', target: './x.yaml' }),
  env('Location', { targets: [1, 2] }),
  env('Widget', { type: 'x' }),
  env('Component', { type: 'service', lifecycle: 'production', owner: 'l' }, { name: 42 }),
  env('Component', { type: 'service', lifecycle: 'production', owner: 'l' }, { labels: { a: 1 } }),
  env(
    'Component',
    { type: 'service', lifecycle: 'production', owner: 'l' },
    { links: [{ title: 'no url' }] },
  ),
  env('Component', { type: 'service', lifecycle: 'production', owner: 'l' }, { tags: 'one' }),
  { apiVersion: 'backstage.io/v1alpha1', kind: 'Component', spec: {} },
  { kind: 'Component', metadata: { name: 'x' } },
  { apiVersion: 7, kind: 'Component', metadata: { name: 'x' } },
];

type Outcome = { matched: number } | { threw: string };

async function outcome(validators: KindValidator[], entity: unknown): Promise<Outcome> {
  for (const [i, v] of validators.entries()) {
    try {
      if (await v.check(structuredClone(entity) as Entity)) return { matched: i };
    } catch (err) {
      return { threw: `${(err as Error).name}: ${(err as Error).message}` };
    }
  }
  return { matched: -1 };
}

async function envelope(policy: EntityPolicy, entity: unknown): Promise<string> {
  try {
    await policy.enforce(structuredClone(entity) as Entity);
    return 'ok';
  } catch (err) {
    return (err as Error).message;
  }
}

describe('precompiled Backstage validators', () => {
  it('give the same answer and message as catalog-model’s own, for good and bad entities of every kind', async () => {
    const pre = await precompiledValidators();
    assert.ok(pre, 'the precompiled validators load');
    const backstagePolicy = new SchemaValidEntityPolicy();
    let rejected = 0;
    for (const entity of CORPUS) {
      const expected = await outcome(BACKSTAGE, entity);
      assert.deepEqual(await outcome(pre.kindValidators, entity), expected, JSON.stringify(entity));
      assert.equal(
        await envelope(pre.schemaPolicy, entity),
        await envelope(backstagePolicy, entity),
        JSON.stringify(entity),
      );
      if (!('matched' in expected) || expected.matched < 0) rejected++;
    }
    // The corpus exercises both sides: most entities are refused, each kind's good one is matched.
    assert.ok(rejected >= 15, `only ${rejected} refused`);
  });

  it('fill the default namespace exactly as DefaultNamespaceEntityPolicy does, without touching the input', async () => {
    const backstage = new DefaultNamespaceEntityPolicy();
    const inputs = [
      ...CORPUS,
      { kind: 'Component', metadata: { name: 'x' }, spec: { deep: { list: [1, { a: 2 }] } } },
      { kind: 'Component', metadata: { name: 'x', namespace: 'payments' } },
      { kind: 'Component', metadata: { name: 'x', namespace: null } },
      { kind: 'Component', metadata: { name: 'x', namespace: '' } },
      { kind: 'Component', metadata: { name: 'x', namespace: undefined } },
    ];
    for (const input of inputs) {
      const before = structuredClone(input);
      const run = (p: EntityPolicy, e: unknown) =>
        p.enforce(e as Entity).then(
          (r) => ({ r }),
          (err: Error) => ({ threw: err.message }),
        );
      assert.deepEqual(
        await run(defaultNamespacePolicy, input),
        await run(backstage, structuredClone(input)),
        JSON.stringify(input),
      );
      assert.deepEqual(input, before, 'the input is not modified');
    }
  });

  it('are generated from the installed catalog-model and ajv, and stamped with their versions', async () => {
    const source = await generateValidatorSource();
    assert.match(source, /exports\.stamp = "generator \d+; @backstage\/catalog-model [\d.]+; ajv [\d.]+"/);
    assert.match(source, /exports\.kinds = /);
    assert.match(source, /ComponentV1alpha1/);
  });
});
