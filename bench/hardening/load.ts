/**
 * Reads at a steady rate while an attacker streams oversized bodies (issue 11: "1,000 req/s for 60 s with
 * 50 connections while an attacker streams oversized bodies on 10 more: 0 errors and RSS within 1.2× of the
 * quiet run"). Prints JSON on stdout; progress on stderr. Loopback only.
 *
 *   node --import tsx bench/hardening/load.ts [--rate 1000] [--connections 50] [--duration 60]
 *                                             [--attackers 10]
 *
 * The server: `portal ingest` of the bank estate (services/) into a fresh SQLite file, then
 * `portal serve --port 0 --no-watch --dev-sign-in` in its own process (the dev sign-in so /api/auth/sign-in
 * reads its body, the path of the original report). The load: node_modules/.bin/autocannon -c <connections>
 * -R <rate> -d <duration> --json in its own process, GET /api/catalog/entities/by-name/component/default/
 * card-api. Two runs: quiet (load only), then attacked (the same load, plus <attackers> connections from this
 * process that each stream a chunked body of zeros to /api/auth/sign-in or /api/catalog/entities/by-refs as
 * fast as the server takes it, and start again whenever the server answers or closes). The server's RSS is
 * sampled from /proc every 250 ms.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '1000' },
    connections: { type: 'string', default: '50' },
    duration: { type: 'string', default: '60' },
    attackers: { type: 'string', default: '10' },
  },
});
const root = path.resolve(import.meta.dirname, '../..');
const log = (s: string) => process.stderr.write(`${s}\n`);

interface AutocannonJson {
  requests: { average: number; total: number };
  latency: { p50: number; p90: number; p99: number; max: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
}

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

function startServer(args: string[]): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ child, url: m[1].replace(/\/$/, '') });
    });
    child.on('exit', (code) => reject(new Error(`server exited ${code} before listening:\n${out}`)));
  });
}

const rssOf = (pid: number) =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;

/** RSS samples of `pid` every 250 ms until stopped: peak and mean in MB. */
function sampleRss(pid: number) {
  const samples: number[] = [];
  const timer = setInterval(() => samples.push(rssOf(pid)), 250);
  return () => {
    clearInterval(timer);
    const mb = (b: number) => Math.round((b / 1048576) * 10) / 10;
    return {
      peakMb: mb(Math.max(...samples)),
      meanMb: mb(samples.reduce((a, b) => a + b, 0) / samples.length),
      samples: samples.length,
    };
  };
}

/** One attacker connection, over and over: a chunked body of zeros, as fast as the server reads it. */
function attacker(
  port: number,
  pathname: string,
  stats: { bodies: number; bytes: number; answers: Record<string, number> },
) {
  let stopped = false;
  const chunk = Buffer.alloc(64 * 1024, 0x30);
  const once = () =>
    new Promise<void>((resolve) => {
      const req = http.request({
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: pathname,
        agent: false,
        headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      });
      let done = false;
      const finish = (label: string) => {
        if (done) return;
        done = true;
        stats.answers[label] = (stats.answers[label] ?? 0) + 1;
        req.destroy();
        resolve();
      };
      req.on('response', (res) => {
        res.resume();
        finish(String(res.statusCode));
      });
      req.on('error', () => finish('closed'));
      req.write('{"user":"');
      stats.bodies++;
      const pump = () => {
        while (!done && !stopped) {
          stats.bytes += chunk.length;
          if (!req.write(chunk)) {
            req.once('drain', pump);
            return;
          }
        }
      };
      pump();
    });
  const loop = (async () => {
    while (!stopped) await once();
  })();
  return async () => {
    stopped = true;
    await loop;
  };
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'hardening-load-'));
let server: { child: ChildProcess; url: string } | null = null;
try {
  const db = `file:${path.join(tmp, 'portal.db')}`;
  log(`ingest the estate into ${db}`);
  await run(process.execPath, ['portal/bin/portal.mjs', '--db', db, 'ingest']);
  server = await startServer([
    'portal/bin/portal.mjs',
    '--db',
    db,
    'serve',
    '--port',
    '0',
    '--no-watch',
    '--dev-sign-in',
  ]);
  const port = Number(new URL(server.url).port);
  const url = `${server.url}/api/catalog/entities/by-name/component/default/card-api`;
  const check = await fetch(url);
  if (check.status !== 200) throw new Error(`GET ${url}: ${check.status}`);
  const pid = server.child.pid as number;
  const autocannon = path.join(root, 'node_modules/.bin/autocannon');
  const load = (duration: string) =>
    run(autocannon, ['-c', values.connections, '-R', values.rate, '-d', duration, '--json', url]).then(
      (out) => JSON.parse(out.slice(out.indexOf('{'))) as AutocannonJson,
    );
  log('warm-up 5 s');
  await load('5');

  log(`quiet run: ${values.rate} req/s, ${values.connections} connections, ${values.duration} s`);
  let stopRss = sampleRss(pid);
  const quiet = await load(values.duration);
  const quietRss = stopRss();

  log(`attacked run: the same, plus ${values.attackers} connections streaming oversized bodies`);
  const stats = { bodies: 0, bytes: 0, answers: {} as Record<string, number> };
  const stops = Array.from({ length: Number(values.attackers) }, (_, i) =>
    attacker(port, i % 2 === 0 ? '/api/auth/sign-in' : '/api/catalog/entities/by-refs', stats),
  );
  stopRss = sampleRss(pid);
  const attacked = await load(values.duration);
  const attackedRss = stopRss();
  await Promise.all(stops.map((s) => s()));

  const summary = (r: AutocannonJson) => ({
    requests: r.requests.total,
    requestsPerSecond: r.requests.average,
    latencyMs: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max },
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
  });
  process.stdout.write(
    `${JSON.stringify(
      {
        command: `node --import tsx bench/hardening/load.ts --rate ${values.rate} --connections ${values.connections} --duration ${values.duration} --attackers ${values.attackers}`,
        server:
          'portal serve --no-watch --dev-sign-in (estate from services/ via portal ingest, SQLite), own process',
        loadGenerator: `autocannon -c ${values.connections} -R ${values.rate} -d ${values.duration} (own process), GET by-name card-api`,
        node: process.version,
        cores: os.cpus().length,
        loadAverage: os.loadavg(),
        quiet: { ...summary(quiet), rss: quietRss },
        attacked: {
          ...summary(attacked),
          rss: attackedRss,
          attack: {
            connections: Number(values.attackers),
            bodiesStarted: stats.bodies,
            mbOffered: Math.round(stats.bytes / 1048576),
            answers: stats.answers,
          },
        },
        rssPeakRatio: Math.round((attackedRss.peakMb / quietRss.peakMb) * 100) / 100,
      },
      null,
      2,
    )}\n`,
  );
} finally {
  server?.child.kill('SIGTERM');
  rmSync(tmp, { recursive: true, force: true });
}
