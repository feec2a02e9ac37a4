/**
 * Path queries over HTTP, with the server and the load generator in separate processes (so autocannon does
 * not take the server's event loop). Prints JSON on stdout; progress goes to stderr.
 *
 *   node --import tsx bench/graph/http.ts [--target portal|router] [--services 350] [--connections 50]
 *                                         [--duration 10] [--warmup 2] [--no-cache]
 *
 * --target portal (default): the real portal. `portal ingest` of the bank estate (services/) into a fresh
 *   SQLite file under the temp directory, then `node portal/bin/portal.mjs --db file:… serve --port 0
 *   --no-watch`: the whole server (every plugin, auth and logging middleware, the UI routes), its graph
 *   built from the store at start.
 * --target router: `createGraphRouter` alone on @hono/node-server (bench/graph/http-server.ts), on the
 *   generator's estate of --services services. With --no-cache the router's answer cache is off, so every
 *   request runs paths().
 *
 * The load: node_modules/.bin/autocannon -c <connections> -d <duration> --json against
 * /api/graph/paths?from=card-api&to=feed, after a --warmup run of the same kind that is not counted.
 * The server process's CPU time over the measured run comes from /proc/<pid>/stat.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    target: { type: 'string', default: 'portal' },
    services: { type: 'string', default: '350' },
    connections: { type: 'string', default: '50' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    'no-cache': { type: 'boolean' },
  },
});
const root = path.resolve(import.meta.dirname, '../..');
const log = (s: string) => process.stderr.write(`${s}\n`);

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}`)),
    );
  });
}

function startServer(cmd: string, args: string[]): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ child, url: m[1].replace(/\/$/, '') });
    });
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`server exited ${code} before listening:\n${out}`)));
  });
}

/** utime + stime of a process in ms, from /proc (Linux). */
function cpuOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return null;
  }
}

const target = values.target;
if (target !== 'portal' && target !== 'router') {
  log('--target must be portal or router');
  process.exit(2);
}
const tmp = mkdtempSync(path.join(os.tmpdir(), 'graph-http-bench-'));
let server: { child: ChildProcess; url: string } | null = null;
try {
  const node = process.execPath;
  if (target === 'portal') {
    const db = `file:${path.join(tmp, 'portal.db')}`;
    log(`ingest into ${db}`);
    await run(node, ['portal/bin/portal.mjs', '--db', db, 'ingest']);
    server = await startServer(node, [
      'portal/bin/portal.mjs',
      '--db',
      db,
      'serve',
      '--port',
      '0',
      '--no-watch',
    ]);
  } else {
    server = await startServer(node, [
      '--import',
      'tsx',
      'bench/graph/http-server.ts',
      '--services',
      values.services,
      ...(values['no-cache'] ? ['--no-cache'] : []),
    ]);
  }
  const url = `${server.url}/api/graph/paths?from=card-api&to=feed`;
  const check = await fetch(url);
  if (check.status !== 200) throw new Error(`GET ${url}: ${check.status} ${await check.text()}`);
  const sample = (await check.json()) as { paths: { length: number }[] };
  const autocannon = path.join(root, 'node_modules/.bin/autocannon');
  const load = (duration: string) =>
    run(autocannon, ['-c', values.connections, '-d', duration, '--json', url]).then(
      (out) => JSON.parse(out.slice(out.indexOf('{'))) as AutocannonJson,
    );
  if (Number(values.warmup) > 0) {
    log(`warm-up ${values.warmup} s`);
    await load(values.warmup);
  }
  const pid = server.child.pid as number;
  const loadBefore = os.loadavg();
  const serverCpu0 = cpuOf(pid);
  log(`measuring ${values.duration} s with ${values.connections} connections`);
  const r = await load(values.duration);
  const serverCpu1 = cpuOf(pid);
  const serverCpuMs = serverCpu0 === null || serverCpu1 === null ? null : serverCpu1 - serverCpu0;
  process.stdout.write(
    `${JSON.stringify(
      {
        command: `node --import tsx bench/graph/http.ts --target ${target}${target === 'router' ? ` --services ${values.services}${values['no-cache'] ? ' --no-cache' : ''}` : ''} --connections ${values.connections} --duration ${values.duration} --warmup ${values.warmup}`,
        server:
          target === 'portal'
            ? 'portal serve (real portal, estate from services/ via portal ingest), own process'
            : `createGraphRouter on @hono/node-server, generateEstate ${values.services} services seed 42, answer cache ${values['no-cache'] ? 'off' : 'on'}, own process`,
        loadGenerator: `node_modules/.bin/autocannon -c ${values.connections} -d ${values.duration} --json (own process)`,
        url: url.replace(/:\d+\//, ':PORT/'),
        pathsInAnswer: sample.paths.length,
        node: process.version,
        cores: os.cpus().length,
        loadAverage: { before: loadBefore, after: os.loadavg() },
        requestsPerSecond: { mean: r.requests.average, p50: r.requests.p50, min: r.requests.min },
        latencyMs: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max },
        requests: r.requests.total,
        errors: r.errors,
        timeouts: r.timeouts,
        non2xx: r.non2xx,
        serverCpuMs,
        serverCpuPerRequestMs:
          serverCpuMs === null ? null : Math.round((serverCpuMs / r.requests.total) * 1000) / 1000,
      },
      null,
      2,
    )}\n`,
  );
} finally {
  server?.child.kill('SIGTERM');
  rmSync(tmp, { recursive: true, force: true });
}

interface AutocannonJson {
  requests: { average: number; p50: number; min: number; total: number };
  latency: { p50: number; p90: number; p99: number; max: number };
  errors: number;
  timeouts: number;
  non2xx: number;
}
