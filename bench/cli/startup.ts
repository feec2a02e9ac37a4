/**
 * How long a `portal` command takes, whole process, as a person at a terminal waits for it: `portal --help`,
 * `portal path card-api feed` answered here (from the catalogue snapshot ingest wrote beside the store) and
 * answered by a running `portal serve` on the same store, on the 350-service estate (or `--root`, e.g. a
 * generated 35,000-service one) ingested once into a throwaway SQLite store, with `node -e 0` measured in
 * the same run, so a busy machine shows as a slow baseline rather than as a slow portal.
 *
 *   npx tsx bench/cli/startup.ts [--runs 10] [--root services]
 *
 * Prints JSON: per command the median, min and max wall time in ms over the runs, and the load average.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = path.join(REPO, 'portal', 'bin', 'portal.mjs');
const { values } = parseArgs({
  options: { runs: { type: 'string', default: '10' }, root: { type: 'string', default: 'services' } },
});
const runs = Number(values.runs);
const root = path.resolve(REPO, values.root);
const work = mkdtempSync(path.join(tmpdir(), 'bench-cli-'));
const db = `file:${path.join(work, 'portal.db')}`;
// PORTAL_URL=none: the local path is answered here even if a portal on this machine serves the same file.
const env = { ...process.env, NODE_TEST_CONTEXT: undefined, PORTAL_URL: 'none', PORTAL_CATALOG_ROOT: root };
execFileSync(process.execPath, [BIN, '--db', db, 'ingest', root], { env, stdio: 'ignore' });
// The ingest leaves hundreds of MB (store, snapshot, graph index at 35,000 services) for the kernel to write
// back: flushed now, not during the measurements.
execFileSync('sync');
// Started after the commands answered here have run: at 35,000 services its first scoring keeps a core busy
// for a minute, which would be measured as theirs.
let server: ReturnType<typeof spawn> | undefined;
async function startPortal(): Promise<string> {
  const child = spawn(process.execPath, [BIN, '--db', db, 'serve', '--port', '0', '--no-watch'], {
    env,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  server = child;
  return new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`portal serve exited ${code}`)));
  });
}

const commands: Record<string, string[]> = {
  'node -e 0': ['-e', '0'],
  'portal --help': [BIN, '--help'],
  'portal path card-api feed': [BIN, '--db', db, 'path', 'card-api', 'feed'],
  'portal path card-api feed (asking the running portal)': [BIN, '--db', db, 'path', 'card-api', 'feed'],
};
let portalUrl: string | undefined;
const envOf = async (name: string) => {
  if (!name.includes('running portal')) return env;
  portalUrl ??= await startPortal();
  return { ...env, PORTAL_URL: portalUrl };
};
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const results: Record<string, { medianMs: number; minMs: number; maxMs: number }> = {};
for (const [name, args] of Object.entries(commands)) {
  const times: number[] = [];
  const commandEnv = await envOf(name);
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, args, { env: commandEnv, encoding: 'utf8' });
    times.push(performance.now() - t0);
    if (r.status !== 0) throw new Error(`${name} exited ${r.status}: ${r.stderr}`);
  }
  results[name] = {
    medianMs: Math.round(median(times)),
    minMs: Math.round(Math.min(...times)),
    maxMs: Math.round(Math.max(...times)),
  };
}
server?.kill('SIGTERM');
// At 35,000 services the store, snapshot and index are ~600 MB.
rmSync(work, { recursive: true, force: true });
process.stdout.write(
  `${JSON.stringify({ runs, root: path.relative(REPO, root), node: process.version, loadavg: loadavg().map((l) => Number(l.toFixed(2))), results }, null, 2)}\n`,
);
