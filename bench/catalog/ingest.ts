/**
 * Full ingest into an empty store, per estate size and database, each in its own process so peak RSS is the
 * ingest's own. Then, in a second process on the filled store: loading it, a re-ingest with nothing changed,
 * and one after a file changed (what the watcher does), with that process's peak RSS.
 *
 *   npx tsx bench/catalog/ingest.ts [--sizes 350,3500,35000] [--dbs sqlite,postgresql]
 *
 * Prints JSON. PostgreSQL is the throwaway cluster from scripts/pg-harness.mjs.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

if (process.argv[2] === '--child') {
  // argv = --child full|again <dbUrl> <root> [file to touch]. `full`: one ingest into the empty store, so the peak RSS is the
  // full ingest's alone. `again` (a new process on the filled store): load it, re-ingest with nothing
  // changed, then after one file changed: what `portal serve`'s watcher does.
  const [, , , mode, url, root, touch] = process.argv;
  const { CatalogStore, Ingester, findDescriptorFiles } = await import('@bank/catalog');
  const store = await CatalogStore.open(url);
  const ingester = new Ingester(store);
  const cpu0 = process.cpuUsage();
  const cpuMs = () => {
    const c = process.cpuUsage(cpu0);
    return Math.round((c.user + c.system) / 1000);
  };
  const peakRssMiB = () => Math.round(process.resourceUsage().maxRSS / 1024);
  if (mode === 'full') {
    const t0 = performance.now();
    const full = await ingester.ingest([root]);
    const fullMs = performance.now() - t0;
    await store.close();
    process.stdout.write(
      JSON.stringify({
        entities: Object.values(full.counts).reduce((a, b) => a + b, 0),
        counts: full.counts,
        errors: full.errors.length,
        files: full.files.total,
        fullMs: Math.round(fullMs),
        fullCpuMs: cpuMs(),
        peakRssMiB: peakRssMiB(),
      }),
    );
  } else {
    const t0 = performance.now();
    await ingester.snapshot();
    const loadMs = performance.now() - t0;
    const t1 = performance.now();
    const noop = await ingester.ingest([root]);
    const noopMs = performance.now() - t1;
    // Touch one service's descriptor (append a comment) and re-ingest.
    const files = await findDescriptorFiles(root);
    const one = touch ?? files.find((f) => f.includes(`${path.sep}ledger${path.sep}`)) ?? files[1];
    writeFileSync(one, `${readFileSync(one, 'utf8')}\n# touched by the benchmark\n`);
    const t2 = performance.now();
    const oneChanged = await ingester.ingest([root]);
    const oneMs = performance.now() - t2;
    await store.close();
    process.stdout.write(
      JSON.stringify({
        loadStoreMs: Math.round(loadMs),
        noopReingestMs: Math.round(noopMs),
        noopFilesParsed: noop.files.changed,
        oneFileChangedMs: Math.round(oneMs),
        oneFileChangedParsed: oneChanged.files.changed,
        reingestPeakRssMiB: peakRssMiB(),
      }),
    );
  }
  process.exit(0);
}

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '350,3500,35000' },
    dbs: { type: 'string', default: 'sqlite,postgresql' },
  },
});
const sizes = values.sizes.split(',').map(Number);
const dbs = values.dbs.split(',');
const work = mkdtempSync(path.join(tmpdir(), 'bench-ingest-'));
let pgUrl: string | undefined;
let pgStop: (() => Promise<void>) | undefined;
if (dbs.includes('postgresql')) {
  // @ts-expect-error plain ESM helper without types
  const harness = await import('../../scripts/pg-harness.mjs');
  const pg = await harness.startPostgres({});
  pgUrl = pg.url;
  if (pg.started) pgStop = pg.stop;
}
const results: Record<string, unknown>[] = [];
for (const n of sizes) {
  const estate = path.join(work, `estate-${n}`);
  const t = performance.now();
  execFileSync(
    process.execPath,
    ['--import', 'tsx', path.join(REPO, 'bench/estate/cli.ts'), '--services', String(n), '--out', estate],
    {
      cwd: REPO,
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const generateMs = Math.round(performance.now() - t);
  for (const db of dbs) {
    let url: string;
    if (db === 'sqlite') url = `file:${path.join(work, `ingest-${n}.db`)}`;
    else {
      // @ts-expect-error plain ESM helper without types
      const { createDatabase } = await import('../../scripts/pg-harness.mjs');
      url = await createDatabase(pgUrl, `bench_ingest_${n}_${Date.now().toString(36)}`);
    }
    // A fresh copy of the estate per run: the run edits one file.
    const copy = path.join(work, `copy-${n}-${db}`);
    execFileSync('cp', ['-r', estate, copy]);
    const child = (mode: 'full' | 'again') => {
      const r = spawnSync(
        process.execPath,
        ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', mode, url, copy],
        { cwd: REPO, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
      );
      if (r.status !== 0) throw new Error(r.stderr.slice(-2000));
      return JSON.parse(r.stdout) as Record<string, unknown>;
    };
    try {
      results.push({
        services: n,
        db,
        generateMs,
        loadAverage: loadavg()[0],
        ...child('full'),
        ...child('again'),
      });
    } catch (err) {
      results.push({ services: n, db, error: (err as Error).message });
    }
  }
}
await pgStop?.();
const targets = { 350: 1000, 3500: 5000, 35000: 60000 } as Record<number, number>;
const anchorFile = path.join(
  REPO,
  '..',
  'shared',
  'anchors',
  'backstage',
  'results',
  'n3500-default-memory.json',
);
const sqliteMs = (n: unknown) => results.find((r) => r.services === n && r.db === 'sqlite')?.fullMs as number;
const out = {
  bench: 'catalog-ingest',
  targets:
    'full ingest into an empty store: 350 ≤ 1 s, 3,500 ≤ 5 s, 35,000 ≤ 60 s, peak RSS ≤ 1 GiB; PostgreSQL within 2× of SQLite',
  command: 'npx tsx bench/catalog/ingest.ts',
  node: process.version,
  when: new Date().toISOString(),
  results: results.map((r) => ({
    ...r,
    targetMs: targets[r.services as number],
    ...(r.db === 'postgresql' && sqliteMs(r.services)
      ? { timesSqlite: Math.round(((r.fullMs as number) / sqliteMs(r.services)) * 100) / 100 }
      : {}),
    meetsTarget:
      typeof r.fullMs === 'number'
        ? (r.db === 'sqlite' || !sqliteMs(r.services)
            ? r.fullMs <= targets[r.services as number]
            : r.fullMs <= 2 * sqliteMs(r.services)) && (r.peakRssMiB as number) <= 1024
        : false,
  })),
  anchor: existsSync(anchorFile)
    ? {
        note: 'Backstage catalog backend on this machine (recorded by ../shared/anchors/backstage; not re-run here)',
        file: anchorFile,
      }
    : undefined,
};
process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
