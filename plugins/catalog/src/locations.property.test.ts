import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CatalogStore } from '@bank/catalog';
import { component, ORG, writeTree } from '@bank/catalog/testing';
import fc from 'fast-check';
import { CatalogService } from './service.ts';

/**
 * The catalogue's promise to a Backstage client: no sequence of ingest / refresh / addLocation / deleteLocation
 * calls (with Location files edited in between) removes an entity whose file is still reachable from the
 * catalogue's root or a registered location. Real SQLite store, real files.
 */

/** Location files and the targets each may list (relative to it); the test edits which it lists. */
const LOCATION_FILES: Record<string, { name: string; targets: string[] }> = {
  'bs/all.yaml': { name: 'all', targets: ['./x.yaml', './sub/locs.yaml', './w.yaml'] },
  'bs/sub/locs.yaml': { name: 'locs', targets: ['./y.yaml', '../z.yaml'] },
  // a catalog-info.yaml: part of the walked tree, which is a Location too
  'bs/sub/catalog-info.yaml': { name: 'tree-locs', targets: ['../z.yaml', '../w.yaml'] },
};
const ENTITY_FILES: Record<string, string[]> = {
  'services/org/catalog-info.yaml': [
    'group:default/bank',
    'group:default/core-banking',
    'group:default/ledger',
    'group:default/accounts',
  ],
  'services/ledger/catalog-info.yaml': ['component:default/ledger'],
  'bs/x.yaml': ['component:default/x-one', 'component:default/x-two'],
  'bs/sub/y.yaml': ['component:default/y-one'],
  'bs/z.yaml': ['component:default/z-one'],
  'bs/w.yaml': ['component:default/w-one'],
};
const REGISTERABLE = ['bs/all.yaml', 'bs/sub/locs.yaml', 'bs/x.yaml', 'bs/z.yaml', 'bs/w.yaml'];

function locationYaml(name: string, targets: string[]): string {
  return [
    'apiVersion: backstage.io/v1alpha1',
    'kind: Location',
    `metadata: {name: ${name}}`,
    'spec:',
    `  targets: [${targets.join(', ')}]`,
    '',
  ].join('\n');
}

type Op =
  | { op: 'ingest' }
  | { op: 'refresh'; pick: number }
  | { op: 'add'; file: string }
  | { op: 'delete'; pick: number }
  | { op: 'toggle'; file: string; target: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.constant<Op>({ op: 'ingest' }),
  fc.nat(100).map<Op>((pick) => ({ op: 'refresh', pick })),
  fc.constantFrom(...REGISTERABLE).map<Op>((file) => ({ op: 'add', file })),
  fc.nat(10).map<Op>((pick) => ({ op: 'delete', pick })),
  fc
    .record({ file: fc.constantFrom(...Object.keys(LOCATION_FILES)), target: fc.nat(2) })
    .map<Op>((t) => ({ op: 'toggle', ...t })),
);

describe('locations: no sequence of client calls loses an entity whose file is still reachable', () => {
  let template: string;
  before(async () => {
    // Migrate once; every run starts from a copy of the migrated database.
    template = path.join(mkdtempSync(path.join(tmpdir(), 'loc-prop-')), 'template.db');
    const store = await CatalogStore.open(`file:${template}`);
    await store.close();
  });
  after(() => undefined);

  it('ingest / refresh / addLocation / deleteLocation, with Location files edited between them', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 12 }), async (ops) => {
        const listed: Record<string, string[]> = {};
        const files: Record<string, string> = {
          'services/org/catalog-info.yaml': ORG,
          'services/ledger/catalog-info.yaml': component('ledger'),
          'bs/x.yaml': `${component('x-one')}---\n${component('x-two')}`,
          'bs/sub/y.yaml': component('y-one'),
          'bs/z.yaml': component('z-one'),
          'bs/w.yaml': component('w-one', { owner: 'user:nobody' }),
        };
        for (const [file, loc] of Object.entries(LOCATION_FILES)) {
          listed[file] = loc.targets.slice(0, 2);
          files[file] = locationYaml(loc.name, listed[file]);
        }
        const dir = realpathSync(writeTree(files));
        const db = path.join(dir, 'p.db');
        copyFileSync(template, db);
        const store = await CatalogStore.open(`file:${db}`);
        const catalog = new CatalogService(store, [dir]);
        const abs = (rel: string) => path.join(dir, rel);
        const relOf = (p: string) => path.relative(dir, p).split(path.sep).join('/');
        const definedIn = new Map<string, string>();
        for (const [file, refs] of Object.entries(ENTITY_FILES)) for (const r of refs) definedIn.set(r, file);
        for (const [file, loc] of Object.entries(LOCATION_FILES))
          definedIn.set(`location:default/${loc.name}`, file);

        /** What is reachable on disk now: the walked tree and the registered locations, through Locations. */
        const reachable = async (): Promise<Set<string>> => {
          const starts = [
            ...Object.keys({ ...ENTITY_FILES, ...LOCATION_FILES }).filter((f) =>
              f.endsWith('catalog-info.yaml'),
            ),
            ...(await store.locations()).map((l) => relOf(l.target)),
          ];
          const seen = new Set<string>();
          while (starts.length > 0) {
            const f = starts.pop() as string;
            if (seen.has(f)) continue;
            seen.add(f);
            for (const t of listed[f] ?? [])
              starts.push(path.posix.normalize(path.posix.join(path.posix.dirname(f), t)));
          }
          return seen;
        };
        const present = async () => new Set((await catalog.view()).refs);

        try {
          await catalog.ingest();
          for (const op of ops) {
            const beforeOp = await present();
            switch (op.op) {
              case 'ingest':
                await catalog.ingest();
                break;
              case 'refresh': {
                const refs = [...beforeOp].sort();
                await catalog.refreshEntity(refs[op.pick % refs.length]);
                break;
              }
              case 'add':
                await catalog.addLocation(abs(op.file), { onConflict: 'refresh' });
                break;
              case 'delete': {
                const locations = await store.locations();
                if (locations.length > 0)
                  await catalog.removeLocation(locations[op.pick % locations.length].id);
                break;
              }
              case 'toggle': {
                const all = LOCATION_FILES[op.file].targets;
                const t = all[op.target % all.length];
                listed[op.file] = listed[op.file].includes(t)
                  ? listed[op.file].filter((x) => x !== t)
                  : [...listed[op.file], t];
                writeFileSync(abs(op.file), locationYaml(LOCATION_FILES[op.file].name, listed[op.file]));
                break;
              }
            }
            const reach = await reachable();
            const now = await present();
            for (const ref of beforeOp) {
              const file = definedIn.get(ref);
              if (file && reach.has(file))
                assert.ok(
                  now.has(ref),
                  `${ref} (in ${file}, still reachable) was removed by ${JSON.stringify(op)}`,
                );
            }
          }
          // Read in full, the catalogue holds everything reachable, and the stored view equals a fresh read.
          await catalog.ingest();
          const now = await present();
          for (const file of await reachable())
            for (const ref of ENTITY_FILES[file] ?? [])
              assert.ok(now.has(ref), `${ref} of reachable ${file}`);
          const fresh = new CatalogService(store, [dir]);
          const freshView = await fresh.view();
          assert.deepEqual([...freshView.refs].sort(), [...now].sort());
          // Relations worked out incrementally through every call equal those read back from the store.
          const view = await catalog.view();
          for (const ref of now)
            assert.deepEqual(view.byRef.get(ref)?.relations, freshView.byRef.get(ref)?.relations, ref);
        } finally {
          await store.close();
        }
      }),
      {
        numRuns: 40,
        examples: [
          // Found in CI: a tree Location edited (not yet re-read) to list z.yaml again, then the registered
          // location that also reached z.yaml deleted: z-one must stay.
          [
            [
              { op: 'toggle', file: 'bs/sub/catalog-info.yaml', target: 0 },
              { op: 'add', file: 'bs/all.yaml' },
              { op: 'ingest' },
              { op: 'toggle', file: 'bs/sub/catalog-info.yaml', target: 0 },
              { op: 'delete', pick: 0 },
            ],
          ],
        ],
      },
    );
  });
});
