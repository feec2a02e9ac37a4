import type { Entity } from '@backstage/catalog-model';
import { type EntitySpec, refOf, toEntities } from '@bank/graph/testing';
import type { Estate } from '../estate/generate.ts';

/**
 * The generator's estate as catalogue entities (relations in both directions), built in memory with the
 * same owners, tiers, on-call rotas, APIs, resources and call edges that `writeEstate` puts in the
 * descriptor files. Reading 35,000 services' files through the catalogue takes minutes on these machines,
 * and what the graph bench measures starts at the entities.
 */
export function estateEntities(estate: Estate): Entity[] {
  const g = (name: string) => refOf('group', name);
  const squads = new Map(estate.squads.map((s) => [s.name, s]));
  const specs: EntitySpec[] = [{ kind: 'Group', name: 'bank', type: 'organization' }];
  for (const c of estate.collectives)
    specs.push({ kind: 'Group', name: c.name, type: 'collective', parent: g('bank') });
  for (const s of estate.squads)
    specs.push({ kind: 'Group', name: s.name, type: 'squad', parent: g(s.collective), oncall: s.oncallRota });
  for (const u of estate.users) specs.push({ kind: 'User', name: u.name, memberOf: u.memberOf.map(g) });
  for (const s of estate.systems) specs.push({ kind: 'System', name: s.name, owner: g(s.squad) });
  const calls = new Map<string, { dependsOn: string[]; consumesApis: string[] }>();
  for (const e of estate.edges) {
    const c = calls.get(e.from) ?? { dependsOn: [], consumesApis: [] };
    if (e.via === 'consumesApi') c.consumesApis.push(refOf('api', `${e.to}-rpc`));
    else c.dependsOn.push(refOf('component', e.to));
    calls.set(e.from, c);
  }
  for (const s of estate.services) {
    const c = calls.get(s.name) ?? { dependsOn: [], consumesApis: [] };
    specs.push({
      kind: 'Component',
      name: s.name,
      title: s.title,
      type: s.type,
      tier: s.tier,
      owner: g(s.squad),
      system: refOf('system', s.system),
      oncall: squads.get(s.squad)?.oncallRota ?? s.squad,
      runbook: `https://runbooks.bank.internal/${s.name}`,
      dependsOn: [...c.dependsOn, ...s.resources.map((r) => refOf('resource', r))],
      consumesApis: c.consumesApis,
      providesApis: s.type === 'service' ? [refOf('api', `${s.name}-rpc`)] : [],
    });
    if (s.type === 'service')
      specs.push({
        kind: 'API',
        name: `${s.name}-rpc`,
        owner: g(s.squad),
        system: refOf('system', s.system),
      });
  }
  for (const r of estate.resources)
    specs.push({
      kind: 'Resource',
      name: r.name,
      type: r.type,
      owner: g(r.squad),
      system: refOf('system', r.system),
    });
  return toEntities(specs);
}
