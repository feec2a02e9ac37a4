/**
 * Graph query benchmark. Prints JSON.
 *
 *   node --expose-gc --import tsx bench/graph/queries.ts [--services N] [--seed S] [--synthetic]
 *
 * Without --services it runs the 350 and the 35,000 estate. The estate comes from the real generator
 * (bench/estate, `generateEstate`), turned into entities in memory; --synthetic uses the graph package's
 * own small generator instead.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import type { Entity } from '@backstage/catalog-model';
import {
  applyChanges,
  buildGraphIndex,
  cycles,
  type GraphIndex,
  impact,
  ownership,
  paths,
} from '@bank/graph';
import { syntheticEstate } from '@bank/graph/testing';
import { generateEstate } from '../estate/generate.ts';
import { estateEntities } from './estate-entities.ts';

const gc = (globalThis as { gc?: () => void }).gc;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/**
 * Wall-clock percentiles, plus the mean CPU time per run (this process, all threads). The CPU figure
 * shows the work done when other processes compete for the cores and stretch the wall clock.
 */
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
  return {
    p50: r(percentile(times, 50)),
    p99: r(percentile(times, 99)),
    max: r(times[times.length - 1]),
    cpuMean: r(cpuMean),
    runs,
  };
}

function biggestHub(index: GraphIndex): { ref: string; directDependents: number } {
  let best = { ref: '', directDependents: -1 };
  for (const [ref, id] of index.calls.ids) {
    const n = index.calls.inn[id].length;
    if (n > best.directDependents || (n === best.directDependents && ref < best.ref))
      best = { ref, directDependents: n };
  }
  return best;
}

function run(services: number, seed: number, synthetic: boolean) {
  const entities: Entity[] = synthetic
    ? syntheticEstate({ services, seed })
    : estateEntities(generateEstate({ services, seed }));
  gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const started = performance.now();
  const cpu0 = cpuMs();
  const index = buildGraphIndex(entities);
  const buildMs = performance.now() - started;
  const buildCpuMs = cpuMs() - cpu0;
  gc?.();
  const heapAfter = process.memoryUsage().heapUsed;

  const runs = services > 5000 ? 200 : 1000;
  const sample = paths(index, 'card-api', 'feed');
  const pathTimes = timeIt(runs, () => paths(index, 'card-api', 'feed'));
  const hub = biggestHub(index);
  // The first impact after a change also builds the flat reverse adjacency and the node-card cache.
  const firstCpu0 = cpuMs();
  const firstT0 = performance.now();
  const hubImpact = impact(index, hub.ref);
  const hubImpactFirst = {
    ms: Math.round((performance.now() - firstT0) * 10) / 10,
    cpuMs: Math.round((cpuMs() - firstCpu0) * 10) / 10,
  };
  const impactTimes = timeIt(services > 5000 ? 50 : 200, () => impact(index, hub.ref));

  // One changed entity: applyChanges touches it and its neighbours, not the whole index.
  const cardApi = entities.find((e) => e.kind === 'Component' && e.metadata.name === 'card-api');
  const incremental = cardApi ? timeIt(20, () => applyChanges(index, { upserted: [cardApi] })) : null;
  const t0 = performance.now();
  const foundCycles = cycles(index).cycles.length;
  const cyclesMs = performance.now() - t0;
  const t1 = performance.now();
  ownership(index);
  const ownershipMs = performance.now() - t1;

  return {
    services,
    source: synthetic ? 'synthetic (graph/src/testing)' : `bench/estate generateEstate seed ${seed}`,
    entities: entities.length,
    nodes: index.relations.order,
    callNodes: index.calls.order,
    callEdges: index.calls.size,
    buildMs: Math.round(buildMs),
    buildCpuMs: Math.round(buildCpuMs),
    indexHeapMB: gc ? Math.round((heapAfter - heapBefore) / 1e5) / 10 : null,
    pathsCardApiToFeedMs: {
      ...pathTimes,
      k: sample.k,
      maxHops: sample.maxHops,
      found: sample.paths.length,
      hops: sample.paths.map((p) => p.length),
    },
    hub: { ...hub, dependents: hubImpact.total },
    hubImpactFirstCall: hubImpactFirst,
    hubImpactMs: impactTimes,
    applyOneChangeMs: incremental,
    cyclesMs: Math.round(cyclesMs),
    cycles: foundCycles,
    ownershipMs: Math.round(ownershipMs),
  };
}

const { values } = parseArgs({
  options: {
    services: { type: 'string' },
    seed: { type: 'string', default: '42' },
    synthetic: { type: 'boolean' },
  },
});
const sizes = values.services ? [Number(values.services)] : [350, 35_000];
if (sizes.some((n) => !Number.isInteger(n) || n < 11)) {
  process.stderr.write('--services must be an integer ≥ 11\n');
  process.exit(2);
}
if (!gc) process.stderr.write('note: run with node --expose-gc --import tsx for the memory figure\n');
const loadBefore = os.loadavg();
const results = sizes.map((n) => run(n, Number(values.seed), values.synthetic === true));
process.stdout.write(
  `${JSON.stringify({ node: process.version, cores: os.cpus().length, loadAverage: { before: loadBefore, after: os.loadavg() }, command: `node --expose-gc --import tsx bench/graph/queries.ts${values.services ? ` --services ${values.services}` : ''}${values.synthetic ? ' --synthetic' : ''}`, results }, null, 2)}\n`,
);
