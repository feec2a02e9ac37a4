/** Profiles the index build alone: node --cpu-prof --import tsx bench/graph/profile-build.ts [services] */
import { buildGraphIndex, impact } from '@bank/graph';
import { generateEstate } from '../estate/generate.ts';
import { estateEntities } from './estate-entities.ts';

const services = Number(process.argv[2] ?? 35_000);
const entities = estateEntities(generateEstate({ services, seed: 42 }));
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const c0 = cpu();
const t0 = performance.now();
const index = buildGraphIndex(entities);
const build = { wallMs: Math.round(performance.now() - t0), cpuMs: Math.round(cpu() - c0) };
const c1 = cpu();
for (let i = 0; i < Number(process.env.IMPACT_RUNS ?? 20); i++) impact(index, 'notifications');
process.stdout.write(
  `${JSON.stringify({ services, build, impactCpuMs: (cpu() - c1) / Number(process.env.IMPACT_RUNS ?? 20) })}\n`,
);
{
  let e = 0;
  const r = impact(index, 'notifications');
  for (const d of r.dependents) e += index.calls.inn[index.calls.ids.get(d.ref) as number].length;
  process.stdout.write(`${JSON.stringify({ dependents: r.total, inEdgesScanned: e, hub: r.ref })}\n`);
}
