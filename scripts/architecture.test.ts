/**
 * Issue 15's boundary test: the layering ARCHITECTURE.md describes, checked on every import of the repository
 * (scripts/architecture.mjs), and the checker itself on a small tree that breaks each rule once.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
// @ts-expect-error: plain ESM script without types
import { architectureProblems, exportsList, openPackages } from './architecture.mjs';

/** Packages that export every file (`./*`) or have no `exports`: none; each exports its public entry points. */
const STILL_OPEN: string[] = [];

function write(root: string, file: string, text: string) {
  mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
  writeFileSync(path.join(root, file), text);
}

describe('architecture (scripts/architecture.mjs)', () => {
  it('finds no upward, undeclared, unexported or by-path import between packages, and no plugin cycle', () => {
    assert.deepEqual(architectureProblems(), []);
  });

  it('finds no package exporting every file: each names its public entry points', () => {
    assert.deepEqual(openPackages(), STILL_OPEN);
  });

  it('reports each rule broken once in a small tree', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'architecture-'));
    const pkg = (dir: string, name: string, extra: object = {}) =>
      write(root, `${dir}/package.json`, JSON.stringify({ name, ...extra }));
    pkg('catalog', '@bank/catalog', { exports: { '.': './src/index.ts' } });
    pkg('graph', '@bank/graph', { dependencies: { '@bank/catalog': '0.1.0' } });
    pkg('plugins/a', '@bank/plugin-a', { dependencies: { '@bank/plugin-b': '0.1.0' } });
    pkg('plugins/b', '@bank/plugin-b', { dependencies: { '@bank/plugin-a': '0.1.0' } });
    pkg('portal', '@bank/portal');
    write(root, 'catalog/src/index.ts', "import { x } from '@bank/graph';\n");
    write(root, 'graph/src/index.ts', "import { y } from '@bank/catalog/src/store.ts';\n");
    write(
      root,
      'plugins/a/src/index.ts',
      "import { b } from '@bank/plugin-b';\nimport '../../../graph/src/index.ts';\n",
    );
    write(
      root,
      'plugins/b/src/index.ts',
      "import { a } from '@bank/plugin-a';\nimport { p } from '@bank/portal';\n",
    );
    write(root, 'bench/x.ts', "import '../plugins/a/src/index.ts';\n");
    const problems: string[] = architectureProblems(root);
    const has = (re: RegExp) =>
      assert.ok(
        problems.some((p) => re.test(p)),
        `${re} in\n${problems.join('\n')}`,
      );
    has(/^catalog\/src\/index\.ts: catalog imports @bank\/graph of graph, a layer above it/);
    has(/^catalog\/src\/index\.ts: imports @bank\/graph, which catalog\/package\.json does not declare/);
    has(
      /^graph\/src\/index\.ts: imports @bank\/catalog\/src\/store\.ts, which catalog\/package\.json does not export/,
    );
    has(/^plugins\/a\/src\/index\.ts: reaches into graph by a relative path/);
    has(/^plugins\/b\/src\/index\.ts: plugins\/b imports @bank\/portal of portal, a layer above it/);
    has(/^plugins depend on each other in a cycle: plugins\/a → plugins\/b → plugins\/a$/);
    // bench/ measures from outside: it may reach in by path.
    assert.ok(!problems.some((p) => p.startsWith('bench/')), problems.join('\n'));
    assert.equal(problems.length, 7, problems.join('\n'));
  });

  it('reads exports maps as Node does: exact subpaths and one-star patterns', () => {
    const map = { '.': './src/index.ts', './cli': './src/cli.ts', './testing/*': './src/testing/*' };
    assert.equal(exportsList(map, '.'), true);
    assert.equal(exportsList(map, './cli'), true);
    assert.equal(exportsList(map, './testing/tree.ts'), true);
    assert.equal(exportsList(map, './store/sql.ts'), false);
    assert.equal(exportsList(undefined, '.'), true);
  });
});
