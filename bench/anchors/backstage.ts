/**
 * Side by side with Backstage: on this machine, on the same data, in the same run. The stock Backstage
 * catalogue backend of ../shared/anchors/backstage (installed once into bench/.cache/anchor-backstage from
 * its lock file) and our ingest both read the catalogue that the anchor's own generator writes: a
 * locations.yaml whose Location lists org.yaml and N component files.
 *
 *   npx tsx bench/anchors/backstage.ts [--sizes 350,3500] [--dir bench/.cache/anchor-backstage]
 *
 * Backstage: the anchor's measure.js, one run, default processing interval, in-memory SQLite, natural
 * freshness skipped (it waits minutes by design), one forced refresh. Ours: bench/catalog/ingest.ts's
 * children on a SQLite file: the full ingest in its own process, then a re-ingest after one component file
 * changed. Prints JSON. Port 7007 must be free (the anchor listens there).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { createConnection } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const ANCHOR = path.resolve(REPO, '..', 'shared', 'anchors', 'backstage');
const ANCHOR_FILES = [
  'package.json',
  'package-lock.json',
  'backend.js',
  'generate-catalog.js',
  'measure.js',
  'app-config.yaml',
  'app-config.fast.yaml',
  'app-config.sqlite-file.yaml',
];

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '350,3500' },
    dir: { type: 'string', default: path.join(REPO, 'bench', '.cache', 'anchor-backstage') },
  },
});
const sizes = values.sizes.split(',').map(Number);
const dir = path.resolve(values.dir);

const portInUse = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
if (await portInUse(7007)) {
  process.stderr.write(
    'Port 7007 is in use (a portal?); the Backstage anchor needs it. Stop it and run again.\n',
  );
  process.exit(2);
}
if (!existsSync(path.join(ANCHOR, 'measure.js'))) {
  process.stderr.write(`The anchor is not at ${ANCHOR}.\n`);
  process.exit(2);
}

// 1. The anchor, installed from its lock file (better-sqlite3 compiled from source: no prebuilt download).
let installMs: number | null = null;
if (!existsSync(path.join(dir, 'node_modules', '@backstage', 'plugin-catalog-backend'))) {
  mkdirSync(dir, { recursive: true });
  for (const f of ANCHOR_FILES) copyFileSync(path.join(ANCHOR, f), path.join(dir, f));
  process.stderr.write(`installing the Backstage anchor into ${dir} (about 2 minutes, once)\n`);
  const t = performance.now();
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, npm_config_build_from_source: 'true', npm_config_nodedir: '/usr' },
  });
  installMs = Math.round(performance.now() - t);
}

const work = mkdtempSync(path.join(tmpdir(), 'bench-anchor-'));
const node = (args: string[], cwd: string) => {
  const r = spawnSync(process.execPath, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr.slice(-2000)}`);
  return r.stdout;
};
const ours = (mode: 'full' | 'again', url: string, root: string, touch?: string) =>
  JSON.parse(
    node(
      [
        '--import',
        'tsx',
        path.join(REPO, 'bench/catalog/ingest.ts'),
        '--child',
        mode,
        url,
        root,
        ...(touch ? [touch] : []),
      ],
      REPO,
    ),
  ) as Record<string, number>;

const results: Record<string, unknown>[] = [];
for (const n of sizes) {
  // 2. Backstage on its generated catalogue (measure.js generates it afresh).
  process.stderr.write(`Backstage, ${n} components …\n`);
  const bs = JSON.parse(
    node(
      [
        'measure.js',
        '--n',
        String(n),
        '--runs',
        '1',
        '--mode',
        'default',
        '--skip-natural',
        'true',
        '--forced-reps',
        '1',
        '--label',
        `side-by-side-n${n}`,
      ],
      dir,
    ),
  ) as Record<string, number | null>;

  // 3. Ours on the same generator's output, byte for byte (the generator is deterministic).
  process.stderr.write(`ours, ${n} components …\n`);
  const catalog = path.join(work, `catalog-${n}`);
  node([path.join(dir, 'generate-catalog.js'), String(n), catalog], dir);
  const url = `file:${path.join(work, `portal-${n}.db`)}`;
  const root = path.join(catalog, 'locations.yaml');
  const full = ours('full', url, root);
  const again = ours('again', url, root, path.join(catalog, 'components', 'svc-00001', 'catalog-info.yaml'));

  results.push({
    components: n,
    loadAverage: loadavg()[0],
    backstage: {
      httpUpMs: bs.listen_ms,
      settleMs: bs.settle_ms,
      relationsConsistentMs: bs.relations_consistent_ms,
      cpuSecondsToSettle: bs.cpu_s_at_settle,
      peakRssMiB: bs.peak_rss_mib,
      editVisibleAfterRefreshEntityMs: bs.fresh_forced_edit_ms,
      addVisibleAfterRefreshEntityMs: bs.fresh_forced_add_ms,
    },
    ours: {
      entities: full.entities,
      errors: full.errors,
      fullIngestMs: full.fullMs,
      cpuSecondsToIngest: Math.round(full.fullCpuMs / 10) / 100,
      peakRssMiB: full.peakRssMiB,
      oneFileChangedMs: again.oneFileChangedMs,
    },
    backstageSettleOverOurIngest:
      typeof bs.settle_ms === 'number' ? Math.round((bs.settle_ms / full.fullMs) * 10) / 10 : null,
  });
}

process.stdout.write(
  `${JSON.stringify(
    {
      bench: 'side-by-side with Backstage',
      command: 'npx tsx bench/anchors/backstage.ts',
      node: process.version,
      when: new Date().toISOString(),
      anchorInstallMs: installMs,
      notes: [
        "Same machine, same run, same data: the anchor's generate-catalog.js output (a locations.yaml Location listing org.yaml and N component files).",
        'Backstage: settle = from starting its backend until all N components are listed (in-memory SQLite; its peak RSS covers the whole run, queries included). Ours: a full ingest into an empty SQLite file, in its own process.',
        'Edit visible: Backstage after refreshEntity on the Location; ours, a re-ingest after one component file changed (the watcher adds 150 ms of batching).',
      ],
      results,
    },
    null,
    2,
  )}\n`,
);
