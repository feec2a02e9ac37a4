/**
 * Path and impact queries with observed edges next to declared-only (issue 13: within 20 %). The estate comes
 * from the real generator (bench/estate), as bench/graph/queries.ts builds it. A declared-only index next to
 * declared + observed ones (three scenarios, see `observedEdges`; placeholder nodes `component:unknown/…`
 * as plugins/traffic makes them), the observed edges merged with `mergeObserved` as the portal does. Times: p50 / p99 wall and mean CPU per query, and the ratio of the
 * declared + observed index (via any, the default) to the declared-only one. Prints JSON.
 *
 *   node --import tsx bench/traffic/queries.ts [--services 3500] [--seed 42]
 *
 * Without --services it runs the 350 and the 35,000 estate.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import {
  buildGraphIndex,
  type GraphIndex,
  impact,
  mergeObserved,
  type ObservedEdgeInput,
  paths,
} from '@bank/graph';
import { generateEstate } from '../estate/generate.ts';
import { estateEntities } from '../graph/estate-entities.ts';

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

function timeIt(runs: number, fn: () => unknown) {
  for (let i = 0; i < Math.min(50, runs); i++) fn();
  const times: number[] = [];
  const cpu0 = cpuMs();
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  const cpuMean = (cpuMs() - cpu0) / runs;
  times.sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 1000) / 1000;
  const at = (p: number) => times[Math.min(times.length - 1, Math.ceil(p * times.length) - 1)];
  return { p50: r(at(0.5)), p99: r(at(0.99)), cpuMean: r(cpuMean), runs };
}

/** A small deterministic generator (mulberry32), so both indexes and every run see the same edges. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function biggestHub(index: GraphIndex): string {
  let best = { ref: '', n: -1 };
  for (const [ref, id] of index.calls.ids) {
    const n = index.calls.inn[id].length;
    if (n > best.n || (n === best.n && ref < best.ref)) best = { ref, n };
  }
  return best.ref;
}

type Scenario = 'same' | 'shortcuts' | 'random';

/**
 * What traces saw, three ways:
 * - `same`: exactly the declared edges (each now declared + observed): the cost of carrying observed marks;
 * - `shortcuts`: 90 % of the declared edges, 10 % more undeclared calls from a service to one its callee
 *   calls (the typical undeclared call, like cards → feed in the demo), and 2 % of the services calling a
 *   name the catalogue does not know;
 * - `random`: the same, but the undeclared calls go anywhere in the estate (the worst case: long-range edges
 *   make the graph far more connected, so a hub's blast radius and the paths between two services grow).
 */
function observedEdges(index: GraphIndex, seed: number, scenario: Scenario): ObservedEdgeInput[] {
  const rnd = random(seed);
  const now = new Date().toISOString();
  const out: ObservedEdgeInput[] = [];
  const declared: [string, string][] = [];
  const callees = new Map<string, string[]>();
  index.calls.forEachEdge((_a, src, dst) => {
    declared.push([src, dst]);
    const list = callees.get(src);
    if (list) list.push(dst);
    else callees.set(src, [dst]);
  });
  const seen = (from: string, to: string, count: number) =>
    out.push({ from, to, count, firstSeen: now, lastSeen: now });
  if (scenario === 'same') {
    for (const [from, to] of declared) seen(from, to, 1 + Math.floor(rnd() * 1000));
    return out;
  }
  for (const [from, to] of declared) if (rnd() < 0.9) seen(from, to, 1 + Math.floor(rnd() * 1000));
  const services = [...index.calls.ids.keys()].filter((r) => r.startsWith('component:'));
  const callers = [...callees.keys()];
  for (let i = 0; i < Math.round(declared.length * 0.1); i++) {
    if (scenario === 'random') {
      const from = services[Math.floor(rnd() * services.length)];
      const to = services[Math.floor(rnd() * services.length)];
      if (from !== to) seen(from, to, 1);
      continue;
    }
    const from = callers[Math.floor(rnd() * callers.length)];
    const via = callees.get(from) ?? [];
    const mid = via[Math.floor(rnd() * via.length)];
    const next = callees.get(mid) ?? [];
    const to = next[Math.floor(rnd() * next.length)];
    if (to && to !== from) seen(from, to, 1);
  }
  for (let i = 0; i < Math.round(services.length * 0.02); i++)
    seen(services[Math.floor(rnd() * services.length)], `component:unknown/uninstrumented-${i}`, 1);
  return out;
}

function run(services: number, seed: number) {
  const entities = estateEntities(generateEstate({ services, seed }));
  const declaredOnly = buildGraphIndex(entities);
  const hub = biggestHub(declaredOnly);
  const runs = services > 5000 ? 200 : 1000;
  const impactRuns = services > 5000 ? 30 : 200;
  // Each pair measured twice, alternately (A B A B), the second round kept: the JIT and the caches warm on
  // both before anything counts, and neither index always goes first.
  const pair = (n: number, a: () => unknown, b: () => unknown) => {
    timeIt(n, a);
    timeIt(n, b);
    return [timeIt(n, a), timeIt(n, b)] as const;
  };
  const ratio = (a: { cpuMean: number }, b: { cpuMean: number }) =>
    Math.round((a.cpuMean / b.cpuMean) * 100) / 100;
  const scenarios = (['same', 'shortcuts', 'random'] as const).map((scenario) => {
    const both = buildGraphIndex(entities);
    const observed = observedEdges(both, seed, scenario);
    const m0 = performance.now();
    const merged = mergeObserved(both, observed);
    const mergeMs = Math.round(performance.now() - m0);
    const [pathsDeclared, pathsAny] = pair(
      runs,
      () => paths(declaredOnly, 'card-api', 'feed'),
      () => paths(both, 'card-api', 'feed'),
    );
    const [pathsViaDeclared, pathsViaObserved] = pair(
      runs,
      () => paths(both, 'card-api', 'feed', { via: 'declared' }),
      () => paths(both, 'card-api', 'feed', { via: 'observed' }),
    );
    const [impactDeclared, impactAny] = pair(
      impactRuns,
      () => impact(declaredOnly, hub),
      () => impact(both, hub),
    );
    const impactViaDeclared = timeIt(impactRuns, () => impact(both, hub, { via: 'declared' }));
    return {
      scenario,
      callEdges: { declaredOnly: declaredOnly.calls.size, declaredPlusObserved: both.calls.size },
      observedEdgesMerged: observed.length,
      observedMarked: merged.observedEdges,
      mergeObservedMs: mergeMs,
      hubDependents: { declaredOnly: impact(declaredOnly, hub).total, withObserved: impact(both, hub).total },
      pathsCardApiToFeedMs: {
        declaredOnlyIndex: pathsDeclared,
        withObserved: pathsAny,
        withObservedViaDeclared: pathsViaDeclared,
        withObservedViaObserved: pathsViaObserved,
      },
      hubImpactMs: {
        declaredOnlyIndex: impactDeclared,
        withObserved: impactAny,
        withObservedViaDeclared: impactViaDeclared,
      },
      cpuRatioWithObservedToDeclaredOnly: {
        paths: ratio(pathsAny, pathsDeclared),
        pathsViaDeclared: ratio(pathsViaDeclared, pathsDeclared),
        impact: ratio(impactAny, impactDeclared),
        impactViaDeclared: ratio(impactViaDeclared, impactDeclared),
      },
    };
  });
  return { services, hub, scenarios };
}

const { values } = parseArgs({
  options: { services: { type: 'string' }, seed: { type: 'string', default: '42' } },
});
const sizes = values.services ? [Number(values.services)] : [350, 35_000];
const loadBefore = os.loadavg();
const results = sizes.map((n) => run(n, Number(values.seed)));
process.stdout.write(
  `${JSON.stringify(
    {
      command: `node --import tsx bench/traffic/queries.ts${values.services ? ` --services ${values.services}` : ''}`,
      node: process.version,
      cores: os.cpus().length,
      loadAverage: { before: loadBefore, after: os.loadavg() },
      results,
    },
    null,
    2,
  )}\n`,
);
