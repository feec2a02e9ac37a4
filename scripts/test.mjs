#!/usr/bin/env node
// `npm test`: every *.test.ts in the repo through Node's test runner (tsx loader), with a throwaway
// PostgreSQL started first so the store's suites run on SQLite and PostgreSQL. Ends with one line
// `N passed, N failed`. With CI=true a missing PostgreSQL or Chromium fails instead of skipping.
//   npm test                       all suites
//   npm test -- catalog graph      only test files whose path contains one of the words
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(import.meta.url), '..', '..');
const ci = process.env.CI === 'true';
const only = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const SKIP = new Set(['node_modules', '.git', '.next', 'data', 'skeleton', 'generated', 'test-results']);

function find(dir, out = []) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) {
      if (!SKIP.has(e.name)) find(join(dir, e.name), out);
    } else if (/\.test\.tsx?$/.test(e.name)) out.push(join(dir, e.name));
  }
  return out;
}

// Services scaffolded into services/<name> run their own tests (npm test inside them); the estate's
// folders have none. The library in services/lib is ours and is tested here.
let files = find(root)
  .map((f) => relative(root, f))
  .filter((f) => !/^services\/(?!lib\/)/.test(f))
  .filter((f) => only.length === 0 || only.some((w) => f.includes(w)))
  .sort();
// plugins/backstage-frontend is its own npm project: without its install its tests cannot load (a failure
// under CI=true, where `npm ci` installs it).
const { notInstalled } = await import('../plugins/backstage-frontend/scripts/installed.mjs');
const frontendMissing = notInstalled();
if (frontendMissing && files.some((f) => f.startsWith('plugins/backstage-frontend/'))) {
  if (ci) {
    console.error(frontendMissing);
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
  console.warn(`skipping the tests of ${frontendMissing}`);
  files = files.filter((f) => !f.startsWith('plugins/backstage-frontend/'));
}
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}

// The CLI tests run the compiled `portal` (portal/dist): compile it once here if a source changed, rather
// than in whichever test spawns it first.
await (await import('../portal/bin/build.mjs')).ensureBuilt();

const env = { ...process.env, NEXT_TELEMETRY_DISABLED: '1' };
let pg;
try {
  const { defaultDir, startPostgres, postgresUnavailableReason } = await import('./pg-harness.mjs');
  const why = postgresUnavailableReason();
  if (why) throw new Error(why);
  // TEST_PG_PORT gives a cluster of its own (its own folder too): a shared folder means a shared cluster,
  // which the first run to finish stops under the others.
  const port = process.env.TEST_PG_PORT;
  pg = await startPostgres({
    port: Number(port ?? 54329),
    ...(port ? { dir: `${defaultDir()}-${port}` } : {}),
  });
  env.TEST_PG_URL = pg.url;
  console.log(`PostgreSQL for tests: ${pg.url}`);
} catch (err) {
  if (ci) {
    console.error(`PostgreSQL is required in CI: ${err.message}`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
  console.warn(`PostgreSQL unavailable, its suites will be skipped: ${err.message}`);
}

const tap = join(mkdtempSync(join(tmpdir(), 'portal-test-')), 'report.tap');
const args = [
  '--import',
  'tsx',
  '--test',
  `--test-concurrency=${process.env.TEST_CONCURRENCY ?? 2}`,
  '--test-reporter=spec',
  '--test-reporter-destination=stdout',
  '--test-reporter=tap',
  `--test-reporter-destination=${tap}`,
  ...files,
];
console.log(`running ${files.length} test files`);
const code = await new Promise((resolve) => {
  const child = spawn(process.execPath, args, { cwd: root, env, stdio: 'inherit' });
  child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
});
if (pg?.started) await pg.stop();

let passed = 0;
let failed = 0;
if (existsSync(tap)) {
  const text = readFileSync(tap, 'utf8');
  passed = Number(/^# pass (\d+)/m.exec(text)?.[1] ?? 0);
  failed = Number(/^# fail (\d+)/m.exec(text)?.[1] ?? 0) + Number(/^# cancelled (\d+)/m.exec(text)?.[1] ?? 0);
  const skipped = Number(/^# skipped (\d+)/m.exec(text)?.[1] ?? 0);
  if (skipped > 0) console.log(`${skipped} skipped`);
}
if (code !== 0 && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed`);
process.exit(code === 0 && failed === 0 ? 0 : 1);
