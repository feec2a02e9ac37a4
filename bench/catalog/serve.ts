/**
 * The portal as people use it, per estate size: the real `portal serve` on a filled SQLite store. How long it
 * takes to start, how much memory it holds, how quickly it answers the catalogue, entity, search and path
 * queries, and how soon it serves what another writer (`portal ingest` in a terminal) put in its database.
 *
 *   npx tsx bench/catalog/serve.ts [--sizes 350,3500,35000] [--requests 30]
 *
 * Prints JSON. Uses the web UI build if there is one (`npm run build -w @bank/portal`); the figures are the
 * API's either way.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = path.join(REPO, 'portal', 'bin', 'portal.mjs');
const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '350,3500,35000' },
    requests: { type: 'string', default: '30' },
  },
});
const sizes = values.sizes.split(',').map(Number);
const requests = Number(values.requests);
const work = mkdtempSync(path.join(tmpdir(), 'bench-serve-'));
const env = () => {
  const e = { ...process.env };
  delete e.NODE_TEST_CONTEXT;
  return e;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `portal ingest` in its own process, as a person in a terminal would run it. */
function ingest(url: string, root: string): void {
  execFileSync(process.execPath, [BIN, '--db', url, 'ingest', root, '--json'], {
    cwd: REPO,
    env: env(),
    stdio: ['ignore', 'ignore', 'inherit'],
    maxBuffer: 256 * 1024 * 1024,
  });
}

/** Resident and peak resident memory of a process, from /proc (Linux). */
function memoryMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rss: Math.round(kib('VmRSS') / 1024), peak: Math.round(kib('VmHWM') / 1024) };
}

async function startServe(url: string, root: string): Promise<{ child: ChildProcess; base: string }> {
  const child = spawn(process.execPath, [BIN, '--db', url, 'serve', '--port', '0', '--no-watch'], {
    cwd: REPO,
    env: { ...env(), PORTAL_CATALOG_ROOT: root },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const base = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`portal serve exited ${code}`)));
  });
  return { child, base };
}

/** p50 and p95 of `n` sequential requests, after one unmeasured warm-up. */
async function latency(url: string, n: number): Promise<{ p50Ms: number; p95Ms: number; status: number }> {
  let status = (await fetch(url)).status;
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const res = await fetch(url);
    await res.arrayBuffer();
    times.push(performance.now() - t);
    status = res.status;
  }
  times.sort((a, b) => a - b);
  const at = (q: number) =>
    Math.round(times[Math.min(times.length - 1, Math.floor(q * times.length))] * 10) / 10;
  return { p50Ms: at(0.5), p95Ms: at(0.95), status };
}

const results: Record<string, unknown>[] = [];
for (const n of sizes) {
  const estate = path.join(work, `estate-${n}`);
  execFileSync(
    process.execPath,
    ['--import', 'tsx', path.join(REPO, 'bench/estate/cli.ts'), '--services', String(n), '--out', estate],
    { cwd: REPO, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const url = `file:${path.join(work, `serve-${n}.db`)}`;
  ingest(url, estate);

  const t0 = performance.now();
  const { child, base } = await startServe(url, estate);
  const startMs = Math.round(performance.now() - t0);
  const pid = child.pid as number;
  const atStart = memoryMiB(pid);
  try {
    const api = `${base}/api`;
    const queries = {
      catalogApiPage: `${api}/catalog/entities/by-query?filter=kind=component&limit=50&orderField=metadata.name,asc`,
      catalogueTable: `${api}/search/catalogue?kind=component`,
      entityByName: `${api}/catalog/entities/by-name/component/default/card-api`,
      entityPage: `${api}/entity/component/default/card-api`,
      search: `${api}/search?q=card`,
      pathCardApiToFeed: `${api}/graph/paths?from=card-api&to=feed`,
      impactOfLedger: `${api}/graph/impact?ref=ledger`,
    };
    const latencies: Record<string, unknown> = {};
    for (const [name, q] of Object.entries(queries)) latencies[name] = await latency(q, requests);
    const afterQueries = memoryMiB(pid);

    // Another writer: `portal ingest` in a terminal edits ledger's tier; how soon the running portal serves it.
    const ledgerFile = path.join(estate, 'ledger', 'catalog-info.yaml');
    writeFileSync(
      ledgerFile,
      readFileSync(ledgerFile, 'utf8').replace(/bank\.io\/tier: "?\d"?/, 'bank.io/tier: "4"'),
    );
    ingest(url, estate);
    const written = performance.now();
    const tier = async () => {
      const body = (await (await fetch(queries.entityByName.replace('card-api', 'ledger'))).json()) as {
        metadata: { annotations?: Record<string, string> };
      };
      return body.metadata.annotations?.['bank.io/tier'];
    };
    while ((await tier()) !== '4' && performance.now() - written < 120_000) await sleep(50);
    const otherWriterVisibleMs = Math.round(performance.now() - written);
    results.push({
      services: n,
      loadAverage: loadavg()[0],
      startMs,
      rssAtStartMiB: atStart.rss,
      rssAfterQueriesMiB: afterQueries.rss,
      latencies,
      otherWriterVisibleMs,
      peakRssMiB: memoryMiB(pid).peak,
    });
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}
process.stdout.write(
  `${JSON.stringify(
    {
      bench: 'catalog-serve',
      command: 'npx tsx bench/catalog/serve.ts',
      node: process.version,
      when: new Date().toISOString(),
      note: 'startMs: spawn to "listening" (store load, view, graph index); otherWriterVisibleMs: from the end of another process\'s ingest to the running portal serving it (it asks the store’s generation every second, then reads the changed rows from the change log)',
      results,
    },
    null,
    2,
  )}\n`,
);
