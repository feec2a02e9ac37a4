/**
 * The cold cost of impact at 35,000 services: the first call after a build (cold JIT too), a warm call
 * (after 20 calls), the first call after one service is re-ingested, and after a group is re-ingested
 * (every cached node card is forgotten; twice, the second time with that code path compiled). Prints JSON.
 *
 *   node --import tsx bench/graph/first-impact.ts
 */
import os from 'node:os';
import { applyChanges, buildGraphIndex, impact } from '@bank/graph';
import { generateEstate } from '../estate/generate.ts';
import { estateEntities } from './estate-entities.ts';

const entities = estateEntities(generateEstate({ services: 35_000, seed: 42 }));
const index = buildGraphIndex(entities);
const service = entities.find((e) => e.kind === 'Component' && e.metadata.name === 'card-api');
const squad = entities.find((e) => e.kind === 'Group' && e.spec?.type === 'squad');
if (!service || !squad) throw new Error('estate without card-api or a squad');
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
// A service re-ingested: only its own card is forgotten.
applyChanges(index, { upserted: [service] });
const afterServiceChange = time(() => impact(index, 'notifications'));
// A group re-ingested: owners and collectives may have moved, so every card is forgotten.
applyChanges(index, { upserted: [squad] });
const afterGroupChange = time(() => impact(index, 'notifications'));
applyChanges(index, { upserted: [squad] });
const afterSecondGroupChange = time(() => impact(index, 'notifications'));
process.stdout.write(
  `${JSON.stringify({ command: 'node --import tsx bench/graph/first-impact.ts', loadAverage: { before: loadBefore, after: os.loadavg() }, hub: 'notifications (22,908 dependents)', firstAfterBuild, warm, afterServiceChange, afterGroupChange, afterSecondGroupChange }, null, 2)}\n`,
);
