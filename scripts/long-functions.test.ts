/**
 * Issue 15's bar: no production function over 150 lines. A function over it fails this test: split it into
 * named steps (or helpers), rather than raising the bar or exempting it.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
// @ts-expect-error: plain ESM script without types
import { longFunctions } from './long-functions.mjs';

describe('function length (scripts/long-functions.mjs)', () => {
  it('finds no production function over 150 lines', () => {
    const found: { file: string; line: number; name: string; lines: number }[] = longFunctions(150);
    assert.deepEqual(
      found.map((f) => `${f.file}:${f.line} ${f.name} (${f.lines} lines)`),
      [],
      'split these into named steps (or helpers) of at most 150 lines',
    );
  });

  it('measures each function from its first line to its last, in production files only', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'long-functions-'));
    const fn = (name: string, body: number) =>
      `export function ${name}() {\n${'  void 0;\n'.repeat(body)}}\n`;
    mkdirSync(path.join(root, 'catalog/src/testing'), { recursive: true });
    writeFileSync(
      path.join(root, 'catalog/src/a.ts'),
      `${fn('short', 1)}export const long = () => {\n${'  void 0;\n'.repeat(5)}};\n`,
    );
    writeFileSync(path.join(root, 'catalog/src/a.test.ts'), fn('inTest', 9));
    writeFileSync(path.join(root, 'catalog/src/testing/helper.ts'), fn('helper', 9));
    assert.deepEqual(longFunctions(3, root), [{ file: 'catalog/src/a.ts', line: 4, name: 'long', lines: 7 }]);
  });
});
