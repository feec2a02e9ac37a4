/**
 * What finding relations to missing targets costs a catalogue view (plugins/catalog's CatalogView runs
 * `danglingRelations` for every entity each time it is built: at start and after each ingest). Reads a filled
 * store, then times the pass over every entity: the first pass (nothing remembered yet, as at start) and
 * the next ones (as after an ingest). Prints JSON.
 *
 *   npx tsx bench/catalog/dangling.ts --db file:/tmp/e35k/portal.db [--passes 4]
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { CatalogStore } from '@bank/catalog';
import { danglingRelations } from '@bank/catalog/model';

const { values } = parseArgs({
  options: { db: { type: 'string' }, passes: { type: 'string', default: '4' } },
});
if (!values.db) {
  process.stderr.write('usage: dangling.ts --db <store url> [--passes N]\n');
  process.exit(2);
}
const store = await CatalogStore.open(values.db);
const snap = await store.load();
await store.close();
const known = new Set(snap.entities.map((e) => e.ref));
const passesMs: number[] = [];
let dangling = 0;
for (let p = 0; p < Number(values.passes); p++) {
  const t = performance.now();
  dangling = 0;
  for (const e of snap.entities) dangling += danglingRelations(e.entity, known).length;
  passesMs.push(Math.round(performance.now() - t));
}
process.stdout.write(
  `${JSON.stringify(
    {
      bench: 'catalog/dangling',
      command: `npx tsx bench/catalog/dangling.ts --db ${values.db} --passes ${values.passes}`,
      node: process.version,
      loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
      entities: snap.entities.length,
      dangling,
      firstPassMs: passesMs[0],
      laterPassesMs: passesMs.slice(1),
    },
    null,
    2,
  )}\n`,
);
