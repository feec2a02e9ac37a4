import type { Entity } from '@backstage/catalog-model';
import { type EntitySpec, refOf, toEntities } from './entities.ts';

const g = (name: string) => refOf('group', name);
const c = (name: string) => refOf('component', name);

/**
 * A hand-made estate small enough to reason about: two collectives, three squads (one without people),
 * the chain card-api → card-processing → ledger → cassandra-ledger, feed via an API, a cycle, an orphan,
 * a tier inversion, and a Group that shares a name with a Component.
 */
export function smallEstateSpecs(): EntitySpec[] {
  return [
    { kind: 'Group', name: 'bank', type: 'organization' },
    { kind: 'Group', name: 'payments', type: 'collective', parent: g('bank') },
    { kind: 'Group', name: 'core-banking', type: 'collective', parent: g('bank') },
    { kind: 'Group', name: 'card-processing', type: 'squad', parent: g('payments') },
    { kind: 'Group', name: 'ledger', type: 'squad', parent: g('core-banking'), slack: '#squad-ledger' },
    { kind: 'Group', name: 'ghosts', type: 'squad', parent: g('core-banking') },
    { kind: 'User', name: 'ana', memberOf: [g('card-processing')] },
    { kind: 'User', name: 'bo', memberOf: [g('ledger')] },
    {
      kind: 'Component',
      name: 'card-api',
      title: 'Card API',
      tier: 1,
      owner: g('card-processing'),
      oncall: 'payments-card',
      runbook: 'https://runbooks.bank.example/card-api',
      slack: '#card-api',
      dependsOn: [c('card-processing')],
    },
    {
      kind: 'Component',
      name: 'card-processing',
      tier: 1,
      owner: g('card-processing'),
      dependsOn: [c('ledger'), c('fraud-scoring')],
      consumesApis: [refOf('api', 'feed-rpc')],
    },
    {
      kind: 'Component',
      name: 'ledger',
      tier: 1,
      owner: g('ledger'),
      dependsOn: [refOf('resource', 'cassandra-ledger'), c('audit')],
      providesApis: [refOf('api', 'ledger-rpc')],
    },
    { kind: 'Component', name: 'audit', tier: 4, owner: g('ghosts'), dependsOn: [c('ledger')] },
    { kind: 'Component', name: 'fraud-scoring', tier: 2, owner: g('ledger') },
    {
      kind: 'Component',
      name: 'feed',
      tier: 2,
      owner: g('card-processing'),
      providesApis: [refOf('api', 'feed-rpc')],
    },
    { kind: 'Component', name: 'lonely', tier: 3 },
    { kind: 'Resource', name: 'cassandra-ledger', owner: g('ledger'), type: 'database' },
    { kind: 'API', name: 'feed-rpc', owner: g('card-processing') },
    { kind: 'API', name: 'ledger-rpc', owner: g('ledger') },
  ];
}

export function smallEstate(): Entity[] {
  return toEntities(smallEstateSpecs());
}
