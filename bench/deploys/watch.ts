/**
 * Issue 12's last figure: "1,000 watched Deployments with 10 events/s each held with bounded memory".
 * Prints JSON on stdout, progress on stderr.
 *
 *   node --import tsx bench/deploys/watch.ts [--deployments 1000] [--rate 10] [--seconds 300] [--sample 5]
 *                                            [--probes 20] [--profile <dir>]
 *
 * Three processes, so that each one's memory is its own:
 * - the cluster (watch-cluster.ts): the Kubernetes API TEST DOUBLE (no API server can run here) holding
 *   one Deployment per service of a generated estate, two ReplicaSets each and the Pods, as the API server
 *   shapes them, and sending `--rate` watch events per second per Deployment (Deployment, ReplicaSet and Pod
 *   events, pods replaced under new names);
 * - the watcher (watch-portal.ts): the real portal server with the real informers (`ClusterWatch`,
 *   @kubernetes/client-node) on that cluster through a kubeconfig and PORTAL_K8S_CONTEXTS; its memory
 *   is sampled: RSS every second from /proc; the V8 heap right after V8's own full (mark-compact)
 *   collections, the smallest per `--sample` seconds (forcing collections would stop the watcher for up
 *   to a second each on this machine); a forced full collection only before the load and after it;
 * - this one: asks GET /api/deploys/live for `--probes` random Deployments every second. Lag is how old
 *   the first event is that the state does not have yet: from the environment's `changes` count (all three
 *   watches) and, per probed Deployment, from its image tag (`…-b<seq>`, one per Deployment update).
 * At the end the events stop, the watcher catches up, and every Deployment's live state over HTTP is
 * compared with what the cluster's model says it should be.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import { kubeconfigFor } from '@bank/plugin-deploys/testing';
import { generateEstate } from '../estate/generate.ts';
import { writeEstate } from '../estate/write.ts';

const { values } = parseArgs({
  options: {
    deployments: { type: 'string', default: '1000' },
    rate: { type: 'string', default: '10' },
    seconds: { type: 'string', default: '300' },
    sample: { type: 'string', default: '5' },
    probes: { type: 'string', default: '20' },
    profile: { type: 'string' },
  },
});
const DEPLOYMENTS = Number(values.deployments);
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const SAMPLE = Number(values.sample);
const PROBES = Number(values.probes);
for (const [k, v] of Object.entries({ DEPLOYMENTS, RATE, SECONDS, SAMPLE, PROBES }))
  if (!(v > 0)) throw new Error(`--${k.toLowerCase()} must be a positive number`);

const here = import.meta.dirname;
const log = (s: string) => process.stderr.write(`[watch] ${s}\n`);
const now = () => performance.timeOrigin + performance.now();
const MB = (b: number) => +(b / 1024 / 1024).toFixed(1);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const load = () => os.loadavg().map((l) => +l.toFixed(2));

// biome-ignore lint/suspicious/noExplicitAny: answers of the child processes, read field by field
type Msg = Record<string, any>;

/** A child process that answers `{ id, op }` messages; `ready` is its first message. */
function child(file: string, args: string[], env: NodeJS.ProcessEnv, nodeArgs: string[] = []) {
  // --profile <dir>: a V8 CPU profile of each child, written when it exits.
  if (values.profile)
    nodeArgs = [...nodeArgs, '--cpu-prof', `--cpu-prof-dir=${path.resolve(values.profile)}`];
  const proc: ChildProcess = spawn(
    process.execPath,
    [...nodeArgs, '--import', 'tsx', path.join(here, file), ...args],
    {
      env,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  let nextId = 1;
  const waiting = new Map<number, (m: Msg) => void>();
  const ready = new Promise<Msg>((resolve, reject) => {
    proc.on('message', (m: Msg) => {
      if (m.ready) resolve(m);
      else waiting.get(m.id)?.(m);
      waiting.delete(m.id);
    });
    proc.on('exit', (code) => reject(new Error(`${file} exited ${code}`)));
  });
  const ask = (op: string, o: Msg = {}) =>
    new Promise<Msg>((resolve) => {
      const id = nextId++;
      waiting.set(id, resolve);
      proc.send({ id, op, ...o });
    });
  return { proc, ready, ask };
}

interface LiveAnswer {
  environments: { state: string; changes: number; workloads: Msg[] }[];
}
async function live(url: string, service: string): Promise<LiveAnswer> {
  const res = await fetch(`${url}/api/deploys/live?service=${encodeURIComponent(service)}`);
  if (!res.ok) throw new Error(`GET /api/deploys/live?service=${service}: ${res.status} ${await res.text()}`);
  return (await res.json()) as LiveAnswer;
}
const rssOf = (pid: number) =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
const seqOf = (w: Msg | undefined) => Number(/-b(\d+)$/.exec(w?.images?.[0] ?? '')?.[1] ?? 0);

const quantiles = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) =>
    s.length ? +s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)].toFixed(1) : null;
  return { n: s.length, p50: q(0.5), p95: q(0.95), p99: q(0.99), max: q(1) };
};
/** Least-squares slope of y over t (seconds), per minute, and its standard error. */
function slopePerMinute(points: { t: number; y: number }[]): { slope: number; se: number } {
  const n = points.length;
  if (n < 3) return { slope: 0, se: Number.POSITIVE_INFINITY };
  const mt = points.reduce((a, p) => a + p.t, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  const sxx = points.reduce((a, p) => a + (p.t - mt) ** 2, 0);
  if (!sxx) return { slope: 0, se: Number.POSITIVE_INFINITY };
  const b = points.reduce((a, p) => a + (p.t - mt) * (p.y - my), 0) / sxx;
  const residuals = points.reduce((a, p) => a + (p.y - my - b * (p.t - mt)) ** 2, 0);
  return { slope: b * 60, se: Math.sqrt(residuals / (n - 2) / sxx) * 60 };
}

async function setup() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-watch-'));
  const cluster = child('watch-cluster.ts', ['--deployments', String(DEPLOYMENTS)], process.env);
  const c = await cluster.ready;
  log(`cluster test double at ${c.url}: ${JSON.stringify(c.objects)}`);
  // The catalogue: the same generated estate (the cluster picked its first deployable services).
  let size = Math.ceil(DEPLOYMENTS * 1.2);
  while (
    generateEstate({ services: size, seed: 42 }).services.filter((s) => s.type !== 'library').length <
    DEPLOYMENTS
  )
    size = Math.ceil(size * 1.1);
  writeEstate(generateEstate({ services: size, seed: 42 }), path.join(dir, 'estate'));
  const kubeconfig = path.join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, kubeconfigFor(c.url, 'bench-cluster'));
  const portal = child(
    'watch-portal.ts',
    ['--estate', path.join(dir, 'estate'), '--db', path.join(dir, 'portal.db')],
    { ...process.env, KUBECONFIG: kubeconfig, PORTAL_K8S_CONTEXTS: 'prod=bench-cluster' },
    ['--expose-gc'],
  );
  const p = await portal.ready;
  log(`portal at ${p.url}: ${p.entities} entities (ingest ${Math.round(p.ingestMs)} ms)`);
  return { dir, cluster, portal, c, p };
}

async function main() {
  const loadBefore = load();
  const { dir, cluster, portal, c, p } = await setup();
  const services: string[] = c.services;
  const url: string = p.url;
  try {
    // Wait until the informers have listed everything and the three watches are open.
    const t0 = Date.now();
    for (;;) {
      const s = await cluster.ask('stats');
      const env = (await live(url, services[0])).environments[0];
      if (
        env?.state === 'live' &&
        env.workloads.length === 1 &&
        Object.values(s.watches).every((n) => (n as number) > 0)
      )
        break;
      if (Date.now() - t0 > 120_000)
        throw new Error(`informers not live after 120 s: ${JSON.stringify(env)}`);
      await sleep(200);
    }
    const listedMs = Date.now() - t0;
    const start = await portal.ask('memory', { gc: true });
    const baseChanges = (await live(url, services[0])).environments[0].changes;
    log(
      `live after ${listedMs} ms; heap ${MB(start.heapUsed)} MB, rss ${MB(start.rss)} MB; load ${loadBefore}`,
    );
    const run = await runLoad(cluster, portal, url, services, baseChanges);
    const drained = await drain(cluster, url, services[0], baseChanges, run.emittedBefore);
    const end = await portal.ask('memory', { gc: true });
    const correctness = await check(cluster, url, services);
    report({ loadBefore, listedMs, start, end, run, drained, correctness, c });
  } finally {
    await Promise.race([Promise.all([portal.ask('exit'), cluster.ask('exit')]), sleep(5000)]);
    portal.proc.kill();
    cluster.proc.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

type Child = ReturnType<typeof child>;

/** Events at RATE per Deployment for SECONDS; memory every SAMPLE s, lag probes every second. */
async function runLoad(cluster: Child, portal: Child, url: string, services: string[], baseChanges: number) {
  const memory: Msg[] = [];
  const rss: { t: number; rss: number }[] = [];
  const lag: { at: number; lagMs: number; backlog: number }[] = [];
  const perDeployment: number[] = [];
  const cpu0 = (await portal.ask('memory', { gc: false })).cpuMs;
  const listsBefore = (await cluster.ask('stats')).lists;
  const { t0, emittedBefore } = await cluster.ask('run', { rate: RATE * services.length, seconds: SECONDS });
  let nextSample = t0;
  let nextLog = t0 + 30_000;
  let probeErrors = 0;
  while (now() < t0 + SECONDS * 1000) {
    const tick = now();
    rss.push({ t: (tick - t0) / 1000, rss: rssOf(portal.proc.pid ?? 0) });
    if (tick >= nextSample) {
      const m = await portal.ask('memory', { gc: false });
      memory.push({ ...m, t: (m.at - t0) / 1000 });
      nextSample += SAMPLE * 1000;
    }
    // Probes: the newest event the state has, per probed Deployment and over all watches.
    const picks = Array.from({ length: PROBES }, () => Math.floor(Math.random() * services.length));
    const at = now();
    const answers = await Promise.all(picks.map((i) => live(url, services[i]).catch(() => undefined)));
    const ok = answers.filter((a) => a?.environments[0]?.state === 'live') as LiveAnswer[];
    probeErrors += answers.length - ok.length;
    if (ok.length) {
      const applied = Math.min(...ok.map((a) => a.environments[0].changes)) - baseChanges;
      const deployments = picks.map((i, k) => ({ i, seq: seqOf(answers[k]?.environments[0]?.workloads[0]) }));
      const l = await cluster.ask('lag', { at, applied: emittedBefore + applied, deployments });
      lag.push({ at: (at - t0) / 1000, lagMs: l.lagMs, backlog: l.backlog });
      perDeployment.push(...l.perDeployment);
    }
    if (now() >= nextLog) {
      const last = memory[memory.length - 1];
      const s = await cluster.ask('stats');
      log(
        `${Math.round((now() - t0) / 1000)} s: ${s.emitted - emittedBefore} events sent, lag ${lag[lag.length - 1]?.lagMs.toFixed(0)} ms, heap after full gc ${MB(last.heapAfterMajorGc ?? 0)} MB, rss ${MB(last.rss)} MB, unread ${MB(s.unread)} MB, load ${load()}`,
      );
      nextLog += 30_000;
    }
    await sleep(Math.max(0, 1000 - (now() - tick)));
  }
  const sent = await cluster.ask('halt');
  const appliedAtStop = (await live(url, services[0])).environments[0].changes - baseChanges;
  const stats = await cluster.ask('stats');
  const cpu1 = (await portal.ask('memory', { gc: false })).cpuMs;
  return {
    memory,
    rss,
    lag,
    perDeployment,
    sent,
    appliedAtStop,
    stats,
    relists: stats.lists - listsBefore,
    emittedBefore,
    watcherCpuMs: cpu1 - cpu0,
    probeErrors,
    loadDuring: load(),
  };
}

/** After the events stop: how long until the state has every event. */
async function drain(
  cluster: Child,
  url: string,
  service: string,
  baseChanges: number,
  emittedBefore: number,
) {
  const t0 = now();
  const { emitted } = await cluster.ask('stats');
  for (;;) {
    const applied = (await live(url, service)).environments[0].changes - baseChanges;
    if (emittedBefore + applied >= emitted) return { ms: +(now() - t0).toFixed(0), applied, complete: true };
    if (now() - t0 > 120_000) return { ms: +(now() - t0).toFixed(0), applied, complete: false };
    await sleep(50);
  }
}

/** Every Deployment's live state over HTTP against the cluster's model. */
async function check(cluster: Child, url: string, services: string[]) {
  const { workloads: want } = await cluster.ask('expected', { indices: services.map((_, i) => i) });
  const mismatches: Msg[] = [];
  for (let i = 0; i < services.length; i++) {
    const env = (await live(url, services[i])).environments[0];
    const got = env.workloads.map((w) => ({ ...w, crashLooping: [...w.crashLooping].sort() }));
    if (!isDeepStrictEqual(got, [want[i]])) mismatches.push({ service: services[i], got, want: want[i] });
  }
  return { checked: services.length, mismatches: mismatches.length, first: mismatches.slice(0, 3) };
}

function report(r: {
  loadBefore: number[];
  listedMs: number;
  start: Msg;
  end: Msg;
  run: Awaited<ReturnType<typeof runLoad>>;
  drained: Awaited<ReturnType<typeof drain>>;
  correctness: Awaited<ReturnType<typeof check>>;
  c: Msg;
}) {
  const { run } = r;
  const mem = run.memory;
  const half = SECONDS / 2;
  /** Start, peak, end and the second half's trend of a series of (t s, bytes). */
  const trend = (points: { t: number; y: number }[], startBytes: number, afterDrainBytes: number) => {
    const second = points.filter((p) => p.t >= half);
    if (second.length < 2)
      return {
        startMB: MB(startBytes),
        afterDrainMB: MB(afterDrainBytes),
        secondHalf: { points: second.length, bounded: null, note: 'too few points for a trend' },
      };
    const { slope, se } = slopePerMinute(second.map((p) => ({ t: p.t, y: p.y / 1024 / 1024 })));
    return {
      startMB: MB(startBytes),
      peakMB: MB(Math.max(...points.map((p) => p.y))),
      endMB: MB(points[points.length - 1].y),
      afterDrainMB: MB(afterDrainBytes),
      secondHalf: {
        points: second.length,
        minMB: MB(Math.min(...second.map((p) => p.y))),
        maxMB: MB(Math.max(...second.map((p) => p.y))),
        slopeMBPerMin: +slope.toFixed(2),
        twoStandardErrorsMBPerMin: +(2 * se).toFixed(2),
        /** No upward trend: the slope is not more than two standard errors above zero. */
        bounded: slope - 2 * se <= 0,
      },
    };
  };
  const heap = trend(
    mem.filter((m) => m.heapAfterMajorGc !== null).map((m) => ({ t: m.t, y: m.heapAfterMajorGc })),
    r.start.heapUsed,
    r.end.heapUsed,
  );
  const rss = trend(
    run.rss.map((m) => ({ t: m.t, y: m.rss })),
    r.start.rss,
    r.end.rss,
  );
  const lagSecondHalf = run.lag.filter((l) => l.at >= half);
  // The lag's worst per 30 s: a lag that keeps growing is a watcher falling behind.
  const windows: number[] = [];
  for (const l of run.lag)
    windows[Math.floor(l.at / 30)] = Math.max(windows[Math.floor(l.at / 30)] ?? 0, l.lagMs);
  process.stdout.write(
    `${JSON.stringify(
      {
        bench: 'deploys/watch',
        at: new Date().toISOString(),
        node: process.version,
        cores: os.cpus().length,
        loadAverage: { before: r.loadBefore, endOfLoad: run.loadDuring, after: load() },
        cluster: {
          testDouble: 'FakeKubeApi (no Kubernetes API server can run here)',
          objects: r.c.objects,
          listJsonBytes: r.c.listBytes,
        },
        config: {
          deployments: DEPLOYMENTS,
          eventsPerSecondPerDeployment: RATE,
          targetEventsPerSecond: RATE * DEPLOYMENTS,
          seconds: SECONDS,
          sampleSeconds: SAMPLE,
          probesPerSecond: PROBES,
        },
        informersListedMs: r.listedMs,
        events: {
          sent: run.sent.emitted,
          sentPerSecond: +(run.sent.emitted / run.sent.seconds).toFixed(0),
          bytesPerEventAvg: Math.round(run.stats.bytes / run.stats.emitted),
          appliedPerSecond: +(run.appliedAtStop / run.sent.seconds).toFixed(0),
          appliedBeforeStop: run.appliedAtStop,
          generatorHeldBackTicks: run.stats.heldBack,
          relistsDuringRun: run.relists,
          drainAfterStopMs: r.drained.ms,
          allApplied: r.drained.complete,
        },
        watcherCpu: {
          ms: Math.round(run.watcherCpuMs),
          shareOfOneCore: +(run.watcherCpuMs / 1000 / run.sent.seconds).toFixed(2),
          microsPerEventApplied: +((run.watcherCpuMs * 1000) / Math.max(1, run.appliedAtStop)).toFixed(1),
          note: 'all of the portal process: informers, the probes answered, the forced collections',
        },
        generatorCpu: {
          ms: Math.round(run.sent.cpuMs),
          shareOfOneCore: +(run.sent.cpuMs / 1000 / run.sent.seconds).toFixed(2),
          microsPerEventSent: +((run.sent.cpuMs * 1000) / Math.max(1, run.sent.emitted)).toFixed(1),
        },
        lagMs: {
          overAllWatches: quantiles(run.lag.map((l) => l.lagMs)),
          overAllWatchesSecondHalf: quantiles(lagSecondHalf.map((l) => l.lagMs)),
          perProbedDeployment: quantiles(run.perDeployment),
          backlogEventsMax: Math.max(0, ...run.lag.map((l) => l.backlog)),
        },
        lagWorstPer30sMs: windows.map((w) => +(w ?? 0).toFixed(0)),
        memory: {
          note: 'the watcher (portal) process. heap: V8 heapUsed right after its own full collections (the smallest per `sampleSeconds`); startMB is after a forced full collection once the informers had listed, afterDrainMB after one once the events stopped and the watcher caught up. rss: from /proc every second',
          heap,
          rss,
          heapSamples: mem.filter((m) => m.heapAfterMajorGc !== null).length,
          fullCollectionsPerMinute: +(
            (mem.reduce((a, m) => a + m.majorGcs, 0) / Math.max(1, run.sent.seconds)) *
            60
          ).toFixed(1),
        },
        bounded: {
          rule: 'no upward trend over the second half: the least-squares slope is not more than two standard errors above zero',
          heap: heap.secondHalf.bounded,
          rss: rss.secondHalf.bounded,
          heapStartToAfterDrainMB: MB(r.end.heapUsed - r.start.heapUsed),
        },
        liveApiCorrectAfterDrain: r.correctness,
        probeErrors: run.probeErrors,
        series: mem.map((m) => ({
          t: +m.t.toFixed(1),
          heapAfterFullGcMB: m.heapAfterMajorGc === null ? null : MB(m.heapAfterMajorGc),
          rssMB: MB(m.rss),
        })),
      },
      null,
      2,
    )}\n`,
  );
}

main().catch((err) => {
  process.stderr.write(`${err.stack ?? err}\n`);
  process.exit(1);
});
