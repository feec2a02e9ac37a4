/**
 * How long the portal takes to come up, whole process, as a person starting it waits for it, with `node -e 0`
 * measured in the same run (the machine is shared: a slow baseline means a busy machine, not a slow portal).
 *
 *   npx tsx bench/cli/serve-start.ts start [--runs 5] [--root services]
 *       `npm start` (the README's quick start) on an empty store: from spawning it until the catalogue API
 *       lists every component of the estate. Also `portal start` run directly (no npm in between).
 *   npx tsx bench/cli/serve-start.ts serve [--runs 5] [--root bench/.cache/e35000/estate] [--db file:…]
 *       `portal serve --no-watch` on a filled store (ingested once with `portal ingest` unless --db is given,
 *       which also saves the graph index beside it): from spawning it until /readyz says ready and the
 *       catalogue answers; its CPU time and resident memory then and after the queries; and the blast radius
 *       of a hub over HTTP (`/api/graph/impact?ref=ledger`, --requests sequential requests after one warm-up).
 *
 * Prints JSON: medians (and min–max) over the runs, each run's figures, and the load average before and after.
 * The web UI build is used when there is one (`npm run build -w @bank/portal`), as `npm start` would.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = path.join(REPO, 'portal', 'bin', 'portal.mjs');
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    runs: { type: 'string', default: '5' },
    root: { type: 'string', default: 'services' },
    db: { type: 'string' },
    requests: { type: 'string', default: '30' },
    ref: { type: 'string', default: 'ledger' },
  },
});
const mode = positionals[0];
if (mode !== 'start' && mode !== 'serve') {
  process.stderr.write('usage: serve-start.ts start|serve [--runs N] [--root DIR] [--db URL]\n');
  process.exit(2);
}
const runs = Number(values.runs);
const requests = Number(values.requests);
const root = path.resolve(REPO, values.root);
const work = mkdtempSync(path.join(tmpdir(), 'bench-serve-start-'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
  const e: NodeJS.ProcessEnv = { ...process.env, PORTAL_CATALOG_ROOT: root, PORTAL_URL: 'none' };
  delete e.NODE_TEST_CONTEXT;
  delete e.DATABASE_URL;
  return { ...e, ...extra };
};
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const summary = (xs: number[]) => ({
  median: Math.round(median(xs)),
  min: Math.round(Math.min(...xs)),
  max: Math.round(Math.max(...xs)),
});

/** CPU time (user + system, ms) of a process and its children that have ended, from /proc (Linux). */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14–17 of stat (utime, stime, cutime, cstime) are 11–14 here, in clock ticks (100 per second).
  return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * 10;
}

/** Resident and peak resident memory of a process in MiB, from /proc (Linux). */
function memoryMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rss: Math.round(kib('VmRSS') / 1024), peak: Math.round(kib('VmHWM') / 1024) };
}

/** The pid of the node process serving (npm start runs it as a child of npm, through a shell). */
function nodeUnder(pid: number): number {
  for (let i = 0; i < 4; i++) {
    const r = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' });
    const kids = r.stdout.trim().split('\n').filter(Boolean).map(Number);
    if (kids.length === 0) return pid;
    pid = kids[0];
  }
  return pid;
}

function baseline(): number[] {
  const times: number[] = [];
  for (let i = 0; i < Math.max(runs, 5); i++) {
    const t0 = performance.now();
    spawnSync(process.execPath, ['-e', '0']);
    times.push(performance.now() - t0);
  }
  return times;
}

/** Components in the catalogue of `db` (ingested once into a scratch store for `start`). */
function componentsIn(db: string): number {
  const out = execFileSync(process.execPath, [BIN, '--db', db, 'list', '--kind', 'component', '--json'], {
    env: env(),
    maxBuffer: 1 << 30,
    encoding: 'utf8',
  });
  return (JSON.parse(out) as unknown[]).length;
}

async function listening(child: ChildProcess): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`exited ${code} before listening: ${out.slice(-2000)}`)));
  });
}

/** How many components the catalogue API lists (Backstage's client asks this way). */
async function listed(base: string): Promise<number> {
  const res = await fetch(`${base}/api/catalog/entities?filter=kind=component&fields=metadata.name`);
  if (!res.ok) return -1;
  return ((await res.json()) as unknown[]).length;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  try {
    process.kill(-(child.pid as number), 'SIGTERM');
  } catch {
    child.kill('SIGTERM');
  }
  await exited;
}

/** `npm start` (or `portal start`) on an empty store until every one of `n` components is listed. */
async function startRun(viaNpm: boolean, n: number, i: number) {
  const db = `file:${path.join(work, `start-${viaNpm ? 'npm' : 'portal'}-${i}.db`)}`;
  // What the previous run (or the counting ingest) wrote is flushed first, not written back during this one:
  // at 3,500 services each run leaves ~100 MB (store, snapshot, graph index).
  execFileSync('sync');
  const t0 = performance.now();
  const child = viaNpm
    ? spawn('npm', ['start', '--silent', '--', '--port', '0'], {
        cwd: REPO,
        env: env({ DATABASE_URL: db }),
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      })
    : spawn(process.execPath, [BIN, '--db', db, 'start', '--port', '0'], {
        cwd: REPO,
        env: env(),
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  try {
    const base = await listening(child);
    const listeningMs = performance.now() - t0;
    while ((await listed(base)) < n) await sleep(10);
    const queryableMs = performance.now() - t0;
    const pid = nodeUnder(child.pid as number);
    return { listeningMs, queryableMs, cpuMs: cpuMs(pid), rssMiB: memoryMiB(pid).rss };
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${stderr.slice(-2000)}`);
  } finally {
    await stop(child);
    for (const suffix of ['', '-wal', '-shm']) rmSync(db.slice(5) + suffix, { force: true });
  }
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

/**
 * `portal serve` on a filled store. Ready: /readyz says so (the catalogue and graph are served). The
 * "listening" line comes after it has also compared the tree with the store (edits made while it was down).
 */
async function serveRun(db: string) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const t0 = performance.now();
  const child = spawn(process.execPath, [BIN, '--db', db, 'serve', '--port', String(port), '--no-watch'], {
    cwd: REPO,
    env: env(),
    detached: true,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = listening(child).then(() => performance.now() - t0);
  line.catch(() => undefined);
  try {
    for (;;) {
      const status = await fetch(`${base}/readyz`).then(
        (r) => r.status,
        () => 0,
      );
      if (status === 200) break;
      if (child.exitCode !== null) throw new Error(`portal serve exited ${child.exitCode}`);
      await sleep(10);
    }
    const components = await listed(base);
    const readyMs = performance.now() - t0;
    const pid = child.pid as number;
    const readyCpuMs = cpuMs(pid);
    const atReady = memoryMiB(pid);
    const impactUrl = `${base}/api/graph/impact?ref=${encodeURIComponent(values.ref)}`;
    let t = performance.now();
    const first = await fetch(impactUrl);
    await first.arrayBuffer();
    const firstImpactMs = performance.now() - t;
    if (!first.ok) throw new Error(`impact answered ${first.status}`);
    const times: number[] = [];
    for (let k = 0; k < requests; k++) {
      t = performance.now();
      await (await fetch(impactUrl)).arrayBuffer();
      times.push(performance.now() - t);
    }
    const after = memoryMiB(pid);
    const listeningMs = await line;
    return {
      listeningMs,
      readyMs,
      components,
      readyCpuMs,
      rssAtReadyMiB: atReady.rss,
      firstImpactMs,
      impactMedianMs: median(times),
      rssAfterQueriesMiB: after.rss,
      peakRssMiB: after.peak,
    };
  } finally {
    await stop(child);
  }
}

const loadBefore = loadavg().map((l) => Number(l.toFixed(2)));
const nodeE0 = baseline();
let result: Record<string, unknown>;
if (mode === 'start') {
  const scratch = `file:${path.join(work, 'count.db')}`;
  execFileSync(process.execPath, [BIN, '--db', scratch, 'ingest', root], { env: env(), stdio: 'ignore' });
  const n = componentsIn(scratch);
  const npm: Awaited<ReturnType<typeof startRun>>[] = [];
  const direct: Awaited<ReturnType<typeof startRun>>[] = [];
  for (let i = 0; i < runs; i++) {
    npm.push(await startRun(true, n, i));
    direct.push(await startRun(false, n, i));
  }
  const of = (xs: typeof npm) => ({
    queryableMs: summary(xs.map((r) => r.queryableMs)),
    listeningMs: summary(xs.map((r) => r.listeningMs)),
    cpuMs: summary(xs.map((r) => r.cpuMs)),
    rssMiB: summary(xs.map((r) => r.rssMiB)),
  });
  result = { components: n, 'npm start': of(npm), 'portal start': of(direct), runs: { npm, direct } };
} else {
  let db = values.db;
  if (!db) {
    db = `file:${path.join(work, 'serve.db')}`;
    execFileSync(process.execPath, [BIN, '--db', db, 'ingest', root], { env: env(), stdio: 'ignore' });
  }
  const all: Awaited<ReturnType<typeof serveRun>>[] = [];
  for (let i = 0; i < runs; i++) all.push(await serveRun(db));
  const pick = (k: keyof (typeof all)[number]) => summary(all.map((r) => r[k]));
  result = {
    components: all[0].components,
    readyMs: pick('readyMs'),
    listeningMs: pick('listeningMs'),
    readyCpuMs: pick('readyCpuMs'),
    rssAtReadyMiB: pick('rssAtReadyMiB'),
    rssAfterQueriesMiB: pick('rssAfterQueriesMiB'),
    peakRssMiB: pick('peakRssMiB'),
    firstImpactMs: pick('firstImpactMs'),
    impactMedianMs: pick('impactMedianMs'),
    runs: all,
  };
}
rmSync(work, { recursive: true, force: true });
process.stdout.write(
  `${JSON.stringify(
    {
      bench: `serve-start ${mode}`,
      root: path.relative(REPO, root) || '.',
      node: process.version,
      when: new Date().toISOString(),
      loadavgBefore: loadBefore,
      loadavgAfter: loadavg().map((l) => Number(l.toFixed(2))),
      'node -e 0': summary(nodeE0),
      ...result,
    },
    null,
    2,
  )}\n`,
);
