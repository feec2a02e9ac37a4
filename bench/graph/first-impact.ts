/**
 * The cold cost of impact at 35,000 services: the first call after a build, a warm call, and the first
 * call after a change (a version bump drops the node-card cache). Prints JSON.
 *
 *   node --import tsx bench/graph/first-impact.ts
 */
import os from 'node:os';
import { buildGraphIndex, impact } from '@bank/graph';
import { generateEstate } from '../estate/generate.ts';
import { estateEntities } from './estate-entities.ts';

const index = buildGraphIndex(estateEntities(generateEstate({ services: 35_000, seed: 42 })));
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const time = (fn: () => unknown) => {
  const c0 = cpuMs();
  const t0 = performance.now();
  fn();
  const r = (x: number) => Math.round(x * 10) / 10;
  return { ms: r(performance.now() - t0), cpuMs: r(cpuMs() - c0) };
};
const loadBefore = os.loadavg();
const firstAfterBuild = time(() => impact(index, 'notifications'));
const warm = time(() => impact(index, 'notifications'));
index.version++; // what any change does to the caches
const firstAfterChange = time(() => impact(index, 'notifications'));
process.stdout.write(
  `${JSON.stringify({ command: 'node --import tsx bench/graph/first-impact.ts', loadAverage: { before: loadBefore, after: os.loadavg() }, hub: 'notifications (22,908 dependents)', firstAfterBuild, warm, firstAfterChange }, null, 2)}\n`,
);
