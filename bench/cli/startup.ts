/**
 * How long a `portal` command takes, whole process, as a person at a terminal waits for it: `portal --help`
 * and `portal path card-api feed` on the 350-service estate (ingested once into a throwaway SQLite store),
 * with `node -e 0` measured in the same run, so a busy machine shows as a slow baseline rather than as a
 * slow portal.
 *
 *   npx tsx bench/cli/startup.ts [--runs 10]
 *
 * Prints JSON: per command the median, min and max wall time in ms over the runs, and the load average.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = path.join(REPO, 'portal', 'bin', 'portal.mjs');
const { values } = parseArgs({ options: { runs: { type: 'string', default: '10' } } });
const runs = Number(values.runs);
const db = `file:${path.join(mkdtempSync(path.join(tmpdir(), 'bench-cli-')), 'portal.db')}`;
const env = { ...process.env, NODE_TEST_CONTEXT: undefined, PORTAL_API_URL: undefined };
execFileSync(process.execPath, [BIN, '--db', db, 'ingest', path.join(REPO, 'services')], {
  env,
  stdio: 'ignore',
});

const commands: Record<string, string[]> = {
  'node -e 0': ['-e', '0'],
  'portal --help': [BIN, '--help'],
  'portal path card-api feed': [BIN, '--db', db, 'path', 'card-api', 'feed'],
};
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const results: Record<string, { medianMs: number; minMs: number; maxMs: number }> = {};
for (const [name, args] of Object.entries(commands)) {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, args, { env, encoding: 'utf8' });
    times.push(performance.now() - t0);
    if (r.status !== 0) throw new Error(`${name} exited ${r.status}: ${r.stderr}`);
  }
  results[name] = {
    medianMs: Math.round(median(times)),
    minMs: Math.round(Math.min(...times)),
    maxMs: Math.round(Math.max(...times)),
  };
}
process.stdout.write(
  `${JSON.stringify({ runs, node: process.version, loadavg: loadavg().map((l) => Number(l.toFixed(2))), results }, null, 2)}\n`,
);
