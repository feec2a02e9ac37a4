import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { MAX_FILE_BYTES, parseDescriptor } from './parse.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const REPO = path.resolve(import.meta.dirname, '..', '..', '..');

describe('parseDescriptor', () => {
  it('reads every document of a multi-document file with its position', () => {
    const r = parseDescriptor(enc('kind: A\nmetadata: {name: a}\n---\nkind: B\nmetadata:\n  name: b\n'));
    assert.deepEqual(r.problems, []);
    assert.equal(r.documents.length, 2);
    assert.equal(r.documents[1].position.line, 4);
    assert.deepEqual(r.documents[1].positionOf(['metadata', 'name']), { line: 6, column: 9 });
  });

  it('reports malformed YAML with line and column, and keeps the good documents of the file', () => {
    const r = parseDescriptor(enc('kind: A\nmetadata: {name: a}\n---\nkind: B\nmetadata: {name: b\n'));
    assert.equal(r.documents.length, 1);
    assert.equal(r.problems.length > 0, true);
    assert.match(r.problems[0].message, /^Malformed YAML/);
    assert.equal(r.problems[0].line >= 5, true);
  });

  it('one error per YAML mistake in a real descriptor: the first (the cause), with how many followed it', () => {
    const ledger = readFileSync(path.join(REPO, 'services', 'ledger', 'catalog-info.yaml'), 'utf8');
    const line = ledger.split('\n').indexOf('  type: service') + 1;
    assert.ok(line > 0, 'the estate descriptor still has the line this test breaks');
    // A tab where two spaces were: the parser reports 11 errors, one per line after it.
    const tab = parseDescriptor(enc(ledger.replace('  type: service', '\ttype: service')));
    assert.deepEqual(
      tab.problems.map((p) => ({ ...p, message: p.message.replace(/\d+ more errors/, 'N more errors') })),
      [
        {
          line,
          column: 1,
          message:
            'Malformed YAML: Tabs are not allowed as indentation; indent with spaces (N more errors follow in this document, most likely from this one)',
        },
      ],
    );
    // A missing ':' after a key: one error, saying what to look for.
    const colon = parseDescriptor(enc(ledger.replace('  lifecycle: production', '  lifecycle production')));
    assert.equal(colon.problems.length, 1);
    assert.match(colon.problems[0].message, /missing ':'/);
    // The file's other documents are still read.
    assert.equal(tab.documents.length, ledger.split(/^---$/m).length - 1);
  });

  it('refuses an alias bomb without expanding it', () => {
    const bomb = [
      'a: &a ["x","x","x","x","x","x","x","x","x"]',
      'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
      'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
      'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
      'e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
      'f: [*e,*e,*e,*e,*e,*e,*e,*e,*e]',
    ].join('\n');
    const r = parseDescriptor(enc(bomb));
    assert.equal(r.documents.length, 0);
    assert.match(r.problems[0].message, /alias bomb/);
    assert.equal(r.problems[0].line, 1);
  });

  it('refuses a file of many MB before parsing it', () => {
    const big = new Uint8Array(MAX_FILE_BYTES + 1).fill(0x20);
    const r = parseDescriptor(big);
    assert.equal(r.documents.length, 0);
    assert.match(r.problems[0].message, /limited to 8 MB/);
  });

  it('points at the first byte that is not UTF-8', () => {
    const bytes = new Uint8Array([...enc('kind: A\nmetadata:\n  name: x'), 0xff, 0xfe, ...enc('\n')]);
    const r = parseDescriptor(bytes);
    assert.deepEqual(r.problems, [
      { line: 3, column: 10, message: 'File is not valid UTF-8 text; save it as UTF-8' },
    ]);
  });

  for (const key of ['__proto__', 'constructor', 'prototype']) {
    it(`refuses a "${key}" key with its position`, () => {
      const r = parseDescriptor(
        enc(`kind: Component\nmetadata:\n  name: x\n  ${key}:\n    polluted: true\n`),
      );
      assert.equal(r.documents.length, 0);
      assert.equal(r.problems[0].line, 4);
      assert.equal(r.problems[0].column, 3);
      assert.match(r.problems[0].message, new RegExp(`Key "${key}" is not allowed`));
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    });
  }

  it('refuses duplicate keys', () => {
    const r = parseDescriptor(enc('kind: A\nkind: B\n'));
    assert.equal(r.documents.length, 0);
    assert.equal(r.problems[0].line, 2);
  });
});

describe('parseDescriptor fast and careful paths agree', () => {
  it('gives the same data and document lines as the careful parser on every estate file', async () => {
    const { readFileSync } = await import('node:fs');
    const { fileURLToPath } = await import('node:url');
    const path = await import('node:path');
    const { findDescriptorFiles } = await import('./walk.ts');
    const services = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'services');
    const { parseAllDocuments } = await import('yaml');
    const files = await findDescriptorFiles(services);
    assert.ok(files.length > 300);
    for (const f of files) {
      const bytes = readFileSync(f);
      const fast = parseDescriptor(bytes);
      const careful = parseAllDocuments(bytes.toString('utf8')).filter((d) => d.contents !== null);
      assert.deepEqual(fast.problems, [], f);
      assert.deepEqual(
        fast.documents.map((d) => d.data),
        careful.map((d) => d.toJS()),
        f,
      );
    }
  });

  it('finds document starts after markers, comments and blank lines', () => {
    const r = parseDescriptor(enc('# header\n\n---\n# c\nkind: A\n---\n\n  \nkind: B\n--- {kind: C}\n'));
    assert.deepEqual(
      r.documents.map((d) => d.position.line),
      [5, 9, 10],
    );
    assert.deepEqual(r.documents[1].positionOf(['kind']), { line: 9, column: 7 });
  });
});
