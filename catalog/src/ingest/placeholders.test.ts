import assert from 'node:assert/strict';
import { symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { NullStore } from '../store/memory.ts';
import { writeTree } from '../testing/tree.ts';
import { Ingester } from './ingest.ts';
import { MAX_PLACEHOLDER_BYTES } from './placeholders.ts';

const api = (name: string, definition: string) => `apiVersion: backstage.io/v1alpha1
kind: API
metadata: {name: ${name}}
spec:
  type: openapi
  lifecycle: production
  owner: user:jane
  definition:
    ${definition}
`;
const group = (name: string, profile: string) => `apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: ${name}}
spec:
  type: team
  children: []
  profile:
    ${profile}
`;

describe('$text, $json and $yaml placeholders, relative to the descriptor and confined to its tree', () => {
  it('resolves each kind; refuses URLs, absolute paths, escapes, symlinks out, missing, oversized and multi-document files, each at its field', async () => {
    const outside = writeTree({ 'secret.txt': 'not yours' });
    const dir = writeTree({
      'apis/openapi.yaml': 'openapi: 3.0.0\ninfo: {title: Cards, version: "1"}\n',
      'apis/profile.json': '{"displayName": "Card squad", "email": "cards@bank.example"}',
      'apis/profile.yaml': 'displayName: Ledger squad\nemail: ledger@bank.example\n',
      'apis/two.yaml': 'a: 1\n---\nb: 2\n',
      'apis/big.txt': 'x'.repeat(MAX_PLACEHOLDER_BYTES + 1),
      'apis/catalog-info.yaml': [
        api('cards', '$text: ./openapi.yaml'),
        group('cards-squad', '$json: ./profile.json'),
        group('ledger-squad', '$yaml: ./profile.yaml'),
        api('by-url', '$text: https://example.com/openapi.yaml'),
        api('absolute', '$text: /etc/passwd'),
        api('escapes', `$text: ../../${path.basename(outside)}/secret.txt`),
        api('linked', '$text: ./link.txt'),
        api('missing', '$text: ./nope.yaml'),
        api('too-big', '$text: ./big.txt'),
        group('two-docs', '$yaml: ./two.yaml'),
      ].join('---\n'),
    });
    symlinkSync(path.join(outside, 'secret.txt'), path.join(dir, 'apis', 'link.txt'));
    const ingester = new Ingester(new NullStore());
    const r = await ingester.ingest([dir]);
    const { entities } = await ingester.snapshot();
    assert.equal(
      entities.get('api:default/cards')?.entity.spec?.definition,
      'openapi: 3.0.0\ninfo: {title: Cards, version: "1"}\n',
    );
    assert.deepEqual(entities.get('group:default/cards-squad')?.entity.spec?.profile, {
      displayName: 'Card squad',
      email: 'cards@bank.example',
    });
    assert.deepEqual(entities.get('group:default/ledger-squad')?.entity.spec?.profile, {
      displayName: 'Ledger squad',
      email: 'ledger@bank.example',
    });
    const why = (ref: string) =>
      r.errors.filter((e) => e.entityRef === ref).map((e) => `${e.line}:${e.column} ${e.message}`);
    const refused: [string, RegExp][] = [
      ['api:default/by-url', /is a URL/],
      ['api:default/absolute', /absolute path/],
      ['api:default/escapes', /outside the catalogue tree/],
      ['api:default/linked', /outside the catalogue tree/],
      ['api:default/missing', /does not exist/],
      ['api:default/too-big', /limited to 1 MB/],
      ['group:default/two-docs', /one YAML document but holds 2/],
    ];
    assert.ok(
      !r.errors.some((e) => /must be string/.test(e.message)),
      'only the placeholder problem is reported',
    );
    for (const [ref, message] of refused) {
      assert.ok(!entities.has(ref), `${ref} is refused`);
      assert.ok(
        why(ref).some((w) => message.test(w) && /^\d+:\d+ /.test(w)),
        `${ref}: ${why(ref).join('; ')}`,
      );
    }
    assert.ok(!JSON.stringify([...entities.values()]).includes('not yours'));

    // The descriptor did not change but the file it names did: a forced read (refreshEntity) takes it in.
    writeFileSync(path.join(dir, 'apis', 'openapi.yaml'), 'openapi: 3.1.0\n');
    await ingester.ingest([path.join(dir, 'apis', 'catalog-info.yaml')], {
      force: true,
      confineOf: () => dir,
    });
    const after = (await ingester.snapshot()).entities.get('api:default/cards');
    assert.equal(after?.entity.spec?.definition, 'openapi: 3.1.0\n');
  });
});
