/**
 * What the compiled CLI loads for its quick commands (portal/bin/build.mjs). `portal path|impact` against a
 * running portal (cli/remote.ts) and `portal get|list` from the saved snapshot (cli/local-view.ts) answer an
 * incident responder in a few hundred milliseconds only if they do not load the graph library, the SQLite
 * driver or the HTTP framework. esbuild's code splitting puts a module into a chunk shared by every command
 * that imports it, and a package's index (a namespace import of it anywhere) can pull a whole package into
 * the chunks a quick command imports: this checks the chunks really loaded, from the build's metafile.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
// @ts-expect-error: plain JavaScript without types
import { currentBuild, ensureBuilt } from '../bin/build.mjs';

interface Meta {
  outputs: Record<
    string,
    { bytes: number; inputs: Record<string, unknown>; imports: { path: string; kind: string }[] }
  >;
}

/** The npm packages and chunk bytes loaded at once (static imports only) with the chunk holding `source`. */
function loadedWith(meta: Meta, source: string): { packages: Set<string>; bytes: number } {
  const start = Object.keys(meta.outputs).find((k) => source in meta.outputs[k].inputs);
  assert.ok(start, `${source} is in the build`);
  const seen = new Set<string>();
  const packages = new Set<string>();
  const walk = (k: string) => {
    if (seen.has(k)) return;
    seen.add(k);
    for (const i of meta.outputs[k].imports) {
      if (i.kind !== 'import-statement') continue;
      if (meta.outputs[i.path]) walk(i.path);
      else if (!i.path.startsWith('node:')) packages.add(i.path);
    }
  };
  walk(start);
  let bytes = 0;
  for (const k of seen) {
    bytes += meta.outputs[k].bytes;
    // A package bundled in (build.mjs's BUNDLED) counts as loaded where its modules are.
    for (const input of Object.keys(meta.outputs[k].inputs)) {
      const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
      if (m) packages.add(m[1]);
    }
  }
  return { packages, bytes };
}

describe('the compiled CLI (portal/bin/build.mjs)', async () => {
  const { main } = await ensureBuilt();
  const meta = JSON.parse(readFileSync(path.join(path.dirname(main), 'meta.json'), 'utf8')) as Meta;
  const heavy = [
    'graphology',
    'graphology-components',
    'better-sqlite3',
    'hono',
    '@backstage/catalog-model',
    'yaml',
  ];

  for (const [what, source] of [
    ['`portal --help` and command dispatch', 'portal/cli/main.ts'],
    ['`portal path|impact` against a running portal', 'portal/cli/remote.ts'],
    ['`portal get|list` from the saved snapshot', 'portal/cli/local-view.ts'],
  ] as const) {
    it(`${what} loads none of ${heavy.join(', ')}`, () => {
      const { packages, bytes } = loadedWith(meta, source);
      const loaded = heavy.filter((p) => packages.has(p));
      assert.deepEqual(loaded, [], `${source} loads ${loaded.join(', ')} (${bytes} bytes of chunks)`);
      assert.ok(bytes < 100_000, `${source} loads ${bytes} bytes of chunks`);
    });
  }

  it('the build just made stays current: the next command does not compile again', () => {
    // Every input it lists is a file whose time can be compared (a generated module is none).
    assert.ok(currentBuild(), 'currentBuild() found the build stale right after making it');
  });

  it('CommonJS packages are loaded with require() (no export scan by the ESM loader at start)', () => {
    const repo = path.resolve(path.dirname(main), '..', '..', '..');
    const chunks = Object.keys(meta.outputs).map((k) => readFileSync(path.join(repo, k), 'utf8'));
    const all = chunks.join('\n');
    assert.match(all, /createRequire\d*\(import\.meta\.url\)\("lodash"\)/);
    assert.doesNotMatch(all, /from "lodash"/);
  });

  it('the graph commands do load the graph library (the check above can fail)', () => {
    assert.ok(loadedWith(meta, 'plugins/graph/src/cli.ts').packages.has('graphology'));
    // catalog-model is bundled in (build.mjs): found by its modules in the chunks, not an import.
    assert.ok(loadedWith(meta, 'catalog/src/model/validate.ts').packages.has('@backstage/catalog-model'));
  });

  it('start-up leaves out what only the fallback validators and the Backstage import need (zod, catalog-client)', () => {
    const { packages } = loadedWith(meta, 'portal/cli/portal-commands.ts');
    for (const p of ['zod', '@backstage/catalog-client'])
      assert.ok(!packages.has(p), `portal start loads ${p}`);
  });
});
