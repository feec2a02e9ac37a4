import type { Entity } from '@backstage/catalog-model';
import { type EntitySpec, refOf, toEntities } from './entities.ts';

/** The talk's chain, present as real dependsOn edges in every synthetic estate. */
export const CANONICAL_CHAIN = [
  'api',
  'card-api',
  'card-processing',
  'cards',
  'transactions',
  'balance',
  'transaction-enrichment',
  'merchant',
  'feed-generator',
  'feed',
  'apns',
];

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A deterministic synthetic estate for tests and benchmarks until the real generator exists: collectives,
 * squads, people, services with tiers and owners, ~6 call edges per service mostly inside a collective and
 * towards hubs, APIs, resources, and the canonical chain.
 */
export function syntheticEstate(options: { services: number; seed?: number }): Entity[] {
  const random = mulberry32(options.seed ?? 1);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const n = Math.max(options.services, CANONICAL_CHAIN.length);
  const collectives = Math.max(2, Math.round(9 * Math.sqrt(n / 350)));
  const squadsPer = Math.max(2, Math.round((37 / 9) * Math.sqrt(n / 350)));
  const specs: EntitySpec[] = [{ kind: 'Group', name: 'bank', type: 'organization' }];
  const squads: string[][] = [];
  for (let c = 0; c < collectives; c++) {
    specs.push({
      kind: 'Group',
      name: `collective-${c}`,
      type: 'collective',
      parent: refOf('group', 'bank'),
    });
    squads.push([]);
    for (let s = 0; s < squadsPer; s++) {
      const name = `squad-${c}-${s}`;
      specs.push({ kind: 'Group', name, type: 'squad', parent: refOf('group', `collective-${c}`) });
      squads[c].push(refOf('group', name));
      const people = s === squadsPer - 1 && c === 0 ? 0 : 3 + Math.floor(random() * 4);
      for (let p = 0; p < people; p++)
        specs.push({ kind: 'User', name: `person-${c}-${s}-${p}`, memberOf: [refOf('group', name)] });
    }
  }
  const names = [...CANONICAL_CHAIN];
  for (let i = names.length; i < n; i++) names.push(`svc-${i}`);
  const collectiveOf = names.map((_, i) => i % collectives);
  const byCollective: number[][] = Array.from({ length: collectives }, () => []);
  names.forEach((_, i) => {
    byCollective[collectiveOf[i]].push(i);
  });
  const hubs = names.map((_, i) => i).filter((i) => i >= CANONICAL_CHAIN.length && i % 37 === 0);
  const services: EntitySpec[] = names.map((name, i) => ({
    kind: 'Component',
    name,
    type: 'service',
    tier: 1 + Math.floor(random() * 4),
    owner: pick(squads[collectiveOf[i]]),
    oncall: `rota-${name}`,
    runbook: `https://runbooks.bank.example/${name}`,
    dependsOn: [],
    providesApis: [],
    consumesApis: [],
  }));
  for (let i = 0; i + 1 < CANONICAL_CHAIN.length; i++)
    services[i].dependsOn?.push(refOf('component', names[i + 1]));
  for (let i = CANONICAL_CHAIN.length; i < n; i++) {
    const edges = 3 + Math.floor(random() * 5);
    const targets = new Set<number>();
    for (let e = 0; e < edges; e++) {
      const r = random();
      let j: number;
      if (r < 0.25 && hubs.length > 0) j = pick(hubs);
      else if (r < 0.8) j = pick(byCollective[collectiveOf[i]]);
      else j = Math.floor(random() * n);
      if (j !== i) targets.add(j);
    }
    for (const j of targets) services[i].dependsOn?.push(refOf('component', names[j]));
    if (i % 5 === 0) {
      const resource = `${names[i]}-db`;
      specs.push({ kind: 'Resource', name: resource, type: 'database', owner: services[i].owner });
      services[i].dependsOn?.push(refOf('resource', resource));
    }
    if (i % 10 === 0) {
      const api = `${names[i]}-rpc`;
      specs.push({ kind: 'API', name: api, type: 'grpc', owner: services[i].owner });
      services[i].providesApis?.push(refOf('api', api));
      for (let c = 0; c < 3; c++) {
        const consumer = pick(byCollective[collectiveOf[i]]);
        if (consumer !== i) services[consumer].consumesApis?.push(refOf('api', api));
      }
    }
  }
  return toEntities([...specs, ...services]);
}
