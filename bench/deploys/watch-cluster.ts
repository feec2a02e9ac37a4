/**
 * The cluster side of bench/deploys/watch.ts, run in its own process (`--import tsx`, with an IPC channel)
 * so that its memory is not the watcher's: the Kubernetes API TEST DOUBLE (FakeKubeApi; no API server can
 * run here) holding the objects of watch-model.ts (one Deployment per service, its ReplicaSets and Pods,
 * shaped as the API server returns them), and a generator that sends each Deployment's cycle of watch
 * events at a rate, every 10 ms in one chunk per watch, the lines made by watch-model.ts's EventEncoder
 * (JSON templates per object shape rather than JSON.stringify per event).
 *
 * Messages (request `{ id, op, … }`, answer `{ id, … }`): `run` (rate in events/s, seconds), `halt`,
 * `stats`, `lag` (how old the first event is that the watcher has not applied), `expected` (what the
 * portal should show for some Deployments, worked out from this model, not from the objects).
 */
import { parseArgs } from 'node:util';
import { FakeKubeApi } from '@bank/plugin-deploys/testing';
import { type EstateService, generateEstate } from '../estate/generate.ts';
import {
  DEP_RING,
  type Event,
  EventEncoder,
  expected,
  next,
  type Obj,
  PATHS,
  type Workload,
  workload,
} from './watch-model.ts';

/** Emit times kept per event: how far back the lag over all watches can be told. */
const RING = 1 << 22;
const now = () => performance.timeOrigin + performance.now();

async function main() {
  const { values } = parseArgs({
    options: { deployments: { type: 'string', default: '1000' }, seed: { type: 'string', default: '42' } },
  });
  const want = Number(values.deployments);
  let size = Math.ceil(want * 1.2);
  let deployable: EstateService[] = [];
  for (;;) {
    deployable = generateEstate({ services: size, seed: Number(values.seed) }).services.filter(
      (s) => s.type !== 'library',
    );
    if (deployable.length >= want) break;
    size = Math.ceil(size * 1.1);
  }
  const workloads = deployable.slice(0, want).map(workload);
  const api = new FakeKubeApi();
  for (const w of workloads) {
    api.deployments.set(`${w.ns}/${w.name}`, w.dep);
    api.replicaSets.set(`${w.ns}/${w.rsOld.metadata.name}`, w.rsOld);
    api.replicaSets.set(`${w.ns}/${w.rsNew.metadata.name}`, w.rsNew);
    for (const p of w.pods) api.pods.set(`${w.ns}/${p.metadata.name}`, p);
  }
  await api.start();

  const encoder = new EventEncoder();
  const times = new Float64Array(RING);
  const depTimes = new Float64Array(workloads.length * DEP_RING);
  let emitted = 0;
  let bytes = 0;
  let heldBack = 0;
  let cursor = 0;
  let run:
    | { timer: NodeJS.Timeout; t0: number; rate: number; until: number; cpu: NodeJS.CpuUsage; at: number }
    | undefined;
  let last = { emitted: 0, seconds: 0, cpuMs: 0 };

  const tick = () => {
    if (!run) return;
    const t = now();
    if (t >= run.until) return halt();
    // Events due by the clock; a late timer sends what it owes (at most half a second's worth at once).
    let due = Math.min(Math.floor(((t - run.t0) / 1000) * run.rate) - (emitted - run.at), run.rate / 2);
    // The watcher not reading (64 MiB unread): hold back and count it, rather than buffer without end.
    if (api.unread() > 64 * 1024 * 1024) {
      heldBack++;
      return;
    }
    const batches: Record<keyof typeof PATHS, { w: Workload; kind: keyof typeof PATHS; event: Event }[]> = {
      d: [],
      r: [],
      p: [],
    };
    for (; due > 0; due--) {
      const w = workloads[cursor++ % workloads.length];
      times[emitted % RING] = t;
      emitted++;
      const [kind, ev] = next(w, t, depTimes);
      batches[kind].push({ w, kind, event: ev });
      const key = `${w.ns}/${ev.object.metadata.name}`;
      const store = kind === 'd' ? api.deployments : kind === 'r' ? api.replicaSets : api.pods;
      if (ev.type === 'DELETED') store.delete(key);
      else store.set(key, ev.object);
    }
    for (const kind of ['d', 'r', 'p'] as const) {
      if (!batches[kind].length) continue;
      const { chunk, release } = encoder.encode(batches[kind], api);
      bytes += api.sendSerialized(PATHS[kind], chunk, release);
    }
  };
  const halt = () => {
    if (!run) return;
    clearInterval(run.timer);
    const cpu = process.cpuUsage(run.cpu);
    last = {
      emitted: emitted - run.at,
      seconds: (now() - run.t0) / 1000,
      cpuMs: (cpu.user + cpu.system) / 1000,
    };
    run = undefined;
  };

  process.on('message', (m: Obj) => {
    const answer = (o: Obj) => process.send?.({ id: m.id, ...o });
    if (m.op === 'run') {
      run = {
        timer: setInterval(tick, 10),
        t0: now(),
        rate: m.rate,
        until: now() + m.seconds * 1000,
        cpu: process.cpuUsage(),
        at: emitted,
      };
      answer({ t0: run.t0, emittedBefore: emitted });
    } else if (m.op === 'halt') {
      halt();
      answer(last);
    } else if (m.op === 'stats') {
      const watches = Object.fromEntries(
        Object.values(PATHS).map((p) => [p, api.watches.get(p)?.length ?? 0]),
      );
      answer({
        emitted,
        bytes,
        unread: api.unread(),
        heldBack,
        lists: api.lists.length,
        watches,
        running: !!run,
        last,
        templateChecks: encoder.checked,
        rss: process.memoryUsage().rss,
      });
    } else if (m.op === 'lag') {
      // `applied` events of the run are in the watcher's state; the next one is the oldest it lacks.
      const behind = (k: number, at: number) =>
        k < emitted && times[k % RING] <= at ? at - times[k % RING] : 0;
      const perDeployment = (m.deployments as { i: number; seq: number }[]).map(({ i, seq }) =>
        seq < workloads[i].seq && depTimes[i * DEP_RING + ((seq + 1) % DEP_RING)] <= m.at
          ? m.at - depTimes[i * DEP_RING + ((seq + 1) % DEP_RING)]
          : 0,
      );
      answer({
        lagMs: behind(m.applied, m.at),
        backlog: Math.max(0, emitted - m.applied),
        perDeployment,
        outOfRing: emitted - m.applied > RING,
      });
    } else if (m.op === 'expected') {
      answer({ workloads: (m.indices as number[]).map((i) => expected(workloads[i])) });
    } else if (m.op === 'exit') {
      halt();
      void api.stop().finally(() => process.exit(0));
    }
  });
  process.send?.({
    ready: true,
    url: api.url,
    services: workloads.map((w) => w.s.name),
    objects: { deployments: api.deployments.size, replicaSets: api.replicaSets.size, pods: api.pods.size },
    listBytes: {
      deployments: JSON.stringify([...api.deployments.values()]).length,
      replicaSets: JSON.stringify([...api.replicaSets.values()]).length,
      pods: JSON.stringify([...api.pods.values()]).length,
    },
  });
}

void main();
