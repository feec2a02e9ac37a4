import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateEntity } from './validate.ts';

const valid = () => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name: 'card-api',
    annotations: { 'bank.io/tier': '1', 'bank.io/runbook': 'https://runbooks.bank.internal/card-api' },
    links: [{ url: 'https://grafana.bank.internal/d/card-api', title: 'Dashboard' }],
  },
  spec: { type: 'service', lifecycle: 'production', owner: 'card-processing' },
});

describe('validateEntity', () => {
  it('accepts a valid Component', async () => {
    assert.deepEqual(await validateEntity(valid()), []);
  });

  const cases: [string, (e: ReturnType<typeof valid>) => void, string, RegExp][] = [
    ['an unknown kind', (e) => (e.kind = 'Widget'), 'kind', /Unknown kind "Widget"/],
    ['a name that is not DNS-safe', (e) => (e.metadata.name = 'Card_API'), 'metadata.name', /DNS-1123/],
    [
      'an over-long name',
      (e) => (e.metadata.name = 'a'.repeat(64)),
      'metadata.name',
      /at most 63 characters/,
    ],
    [
      'a missing owner',
      (e) => delete (e.spec as Partial<typeof e.spec>).owner,
      'spec.owner',
      /spec.owner" is required/,
    ],
    [
      'a missing lifecycle',
      (e) => delete (e.spec as Partial<typeof e.spec>).lifecycle,
      'spec.lifecycle',
      /lifecycle/,
    ],
    [
      'a tier out of range',
      (e) => (e.metadata.annotations['bank.io/tier'] = '5'),
      'metadata.annotations.bank.io/tier',
      /"1", "2", "3" or "4"/,
    ],
    [
      'a javascript: link',
      (e) => (e.metadata.links[0].url = 'javascript:alert(1)'),
      'metadata.links.0.url',
      /only http, https and mailto/,
    ],
    [
      'a javascript: runbook',
      (e) => (e.metadata.annotations['bank.io/runbook'] = 'javascript:alert(1)'),
      'metadata.annotations.bank.io/runbook',
      /http\(s\) URL/,
    ],
    ['a foreign root field', (e) => Object.assign(e, { extra: 1 }), '', /extra/],
  ];
  for (const [what, breakIt, field, message] of cases) {
    it(`names the field for ${what}`, async () => {
      const e = valid();
      breakIt(e);
      const problems = await validateEntity(e, 'bank');
      assert.ok(problems.length > 0, 'a problem is reported');
      const p = problems.find((x) => message.test(x.message));
      assert.ok(p, `expected ${message} in ${JSON.stringify(problems)}`);
      if (field) assert.equal(p.path.join('.'), field);
    });
  }

  it("holds any catalogue to Backstage's rules by default, and the bank's tree to the bank's too", async () => {
    const e = valid();
    e.metadata.name = 'My_Service.v2';
    e.metadata.annotations['bank.io/tier'] = 'gold';
    assert.deepEqual(await validateEntity(e), [], 'Backstage allows the name and any annotation value');
    const bank = await validateEntity(e, 'bank');
    assert.deepEqual(
      bank.map((p) => [p.path.join('.'), p.policy]),
      [
        ['metadata.name', 'bank'],
        ['metadata.annotations.bank.io/tier', 'bank'],
      ],
    );
    // What Backstage refuses too is not the bank's alone: no policy level lets it through.
    e.metadata.name = 'Bad Name';
    assert.equal(
      (await validateEntity(e, 'bank')).find((p) => p.path.join('.') === 'metadata.name')?.policy,
      undefined,
    );
    const link = valid();
    link.metadata.links[0].url = 'javascript:alert(1)';
    assert.equal((await validateEntity(link)).length, 1, 'unsafe links are refused under every policy');
  });

  it('rejects a document that is not a mapping', async () => {
    assert.match((await validateEntity(['a']))[0].message, /must be a mapping/);
  });
});
