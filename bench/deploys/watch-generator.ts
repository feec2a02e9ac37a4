/**
 * The generator of bench/deploys/watch.ts alone: the cluster process (watch-cluster.ts, the Kubernetes API
 * TEST DOUBLE and its event generator) with three plain HTTP watches that read and drop what they get
 * instead of the portal, so that its CPU per event is measured without a watcher competing for the cores.
 * Prints JSON on stdout.
 *
 *   node --import tsx bench/deploys/watch-generator.ts [--deployments 1000] [--rate 10] [--seconds 30] [--check]
 *                                                    [--profile <dir>]
 *
 * `--profile <dir>` writes a V8 CPU profile of the cluster process. `--check` also parses every line the watches get (this process's CPU, not the generator's) and fails on
 * one that is not a watch event of the right kind.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    deployments: { type: 'string', default: '1000' },
    rate: { type: 'string', default: '10' },
    seconds: { type: 'string', default: '30' },
    check: { type: 'boolean', default: false },
    profile: { type: 'string' },
  },
});
const DEPLOYMENTS = Number(values.deployments);
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);

// biome-ignore lint/suspicious/noExplicitAny: answers of the child process, read field by field
type Msg = Record<string, any>;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const proc = spawn(
  process.execPath,
  [
    // --profile <dir>: a V8 CPU profile of the cluster process, written when it exits.
    ...(values.profile ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(values.profile)}`] : []),
    '--import',
    'tsx',
    path.join(import.meta.dirname, 'watch-cluster.ts'),
    '--deployments',
    String(DEPLOYMENTS),
  ],
  { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
);
let nextId = 1;
const waiting = new Map<number, (m: Msg) => void>();
const ready = new Promise<Msg>((resolve, reject) => {
  proc.on('message', (m: Msg) => {
    if (m.ready) resolve(m);
    else waiting.get(m.id)?.(m);
    waiting.delete(m.id);
  });
  proc.on('exit', (code) => reject(new Error(`watch-cluster.ts exited ${code}`)));
});
const ask = (op: string, o: Msg = {}) =>
  new Promise<Msg>((resolve) => {
    const id = nextId++;
    waiting.set(id, resolve);
    proc.send({ id, op, ...o });
  });

const KINDS: Record<string, string> = {
  '/apis/apps/v1/deployments': 'Deployment',
  '/apis/apps/v1/replicasets': 'ReplicaSet',
  '/api/v1/pods': 'Pod',
};
const got = { bytes: 0, lines: 0, bad: 0 };

function watch(url: string, p: string): http.ClientRequest {
  const req = http.get(`${url}${p}?watch=true&resourceVersion=0`, (res) => {
    let rest = '';
    res.setEncoding('utf8');
    res.on('data', (s: string) => {
      got.bytes += Buffer.byteLength(s);
      if (!values.check) {
        for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) got.lines++;
        return;
      }
      const lines = (rest + s).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        got.lines++;
        const e = JSON.parse(line);
        if (!['ADDED', 'MODIFIED', 'DELETED'].includes(e.type) || e.object?.kind !== KINDS[p]) got.bad++;
      }
    });
  });
  req.on('error', () => {});
  return req;
}

async function main() {
  const c = await ready;
  const reqs = Object.keys(KINDS).map((p) => watch(c.url, p));
  while (!Object.values((await ask('stats')).watches).every((n) => (n as number) > 0)) await sleep(50);
  const { emittedBefore } = await ask('run', { rate: RATE * DEPLOYMENTS, seconds: SECONDS });
  await sleep(SECONDS * 1000 + 200);
  const sent = await ask('halt');
  const stats = await ask('stats');
  await sleep(500);
  for (const r of reqs) r.destroy();
  const out = {
    bench: 'deploys/watch-generator',
    at: new Date().toISOString(),
    node: process.version,
    deployments: DEPLOYMENTS,
    targetEventsPerSecond: RATE * DEPLOYMENTS,
    seconds: +sent.seconds.toFixed(1),
    sent: sent.emitted,
    sentPerSecond: Math.round(sent.emitted / sent.seconds),
    bytesPerEventAvg: Math.round(stats.bytes / Math.max(1, stats.emitted - emittedBefore)),
    heldBackTicks: stats.heldBack,
    received: got,
    generatorCpu: {
      ms: Math.round(sent.cpuMs),
      shareOfOneCore: +(sent.cpuMs / 1000 / sent.seconds).toFixed(2),
      microsPerEventSent: +((sent.cpuMs * 1000) / Math.max(1, sent.emitted)).toFixed(1),
    },
  };
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  await Promise.race([ask('exit'), sleep(3000)]);
  proc.kill();
  if (got.bad || (values.check && got.lines !== sent.emitted)) process.exit(1);
}

main().catch((err) => {
  process.stderr.write(`${err.stack ?? err}\n`);
  proc.kill();
  process.exit(1);
});
