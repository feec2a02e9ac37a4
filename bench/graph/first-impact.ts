/**
 * The cold cost of impact at 35,000 services: the first call after a build (cold JIT too), a warm call
 * (after 20 calls), and the first call after a change (a version bump: every cached node card is checked
 * again). Prints JSON.
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
for (let i = 0; i < 20; i++) impact(index, 'notifications'); // let the JIT settle
const warm = time(() => impact(index, 'notifications'));
index.version++; // what any change does to the caches
const firstAfterChange = time(() => impact(index, 'notifications'));
// Again, now that the code path of a changed version has been run (and compiled) once.
for (let i = 0; i < 5; i++) {
  index.version++;
  impact(index, 'notifications');
}
index.version++;
const laterChange = time(() => impact(index, 'notifications'));
process.stdout.write(
  `${JSON.stringify({ command: 'node --import tsx bench/graph/first-impact.ts', loadAverage: { before: loadBefore, after: os.loadavg() }, hub: 'notifications (22,908 dependents)', firstAfterBuild, warm, firstAfterChange, laterChange }, null, 2)}\n`,
);
