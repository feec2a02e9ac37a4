import type { Entity } from '@backstage/catalog-model';
import { ANNOTATION } from '@bank/catalog/model';

/** Inverse of each forward relation, as Backstage pairs them. */
const INVERSE: Record<string, string> = {
  ownedBy: 'ownerOf',
  dependsOn: 'dependencyOf',
  providesApi: 'apiProvidedBy',
  consumesApi: 'apiConsumedBy',
  partOf: 'hasPart',
  childOf: 'parentOf',
  memberOf: 'hasMember',
};

export interface EntitySpec {
  kind: 'Component' | 'Resource' | 'API' | 'Group' | 'User' | 'System';
  name: string;
  namespace?: string;
  title?: string;
  tier?: number;
  oncall?: string;
  runbook?: string;
  slack?: string;
  type?: string;
  owner?: string;
  parent?: string;
  memberOf?: string[];
  dependsOn?: string[];
  providesApis?: string[];
  consumesApis?: string[];
  system?: string;
}

export function refOf(kind: string, name: string, namespace = 'default'): string {
  return `${kind.toLowerCase()}:${namespace}/${name}`;
}

/**
 * Turns compact specs into Backstage entities with relations computed in both directions, as the catalogue
 * hands them to the graph. Targets are refs (`kind:namespace/name`).
 */
export function toEntities(specs: readonly EntitySpec[]): Entity[] {
  const relations = new Map<string, { type: string; targetRef: string }[]>();
  const add = (source: string, type: string, target: string) => {
    const list = relations.get(source) ?? [];
    if (!list.some((r) => r.type === type && r.targetRef === target)) list.push({ type, targetRef: target });
    relations.set(source, list);
  };
  const pair = (source: string, type: string, target: string) => {
    add(source, type, target);
    add(target, INVERSE[type], source);
  };
  for (const s of specs) {
    const ref = refOf(s.kind, s.name, s.namespace);
    if (!relations.has(ref)) relations.set(ref, []);
    if (s.owner) pair(ref, 'ownedBy', s.owner);
    if (s.parent) pair(ref, 'childOf', s.parent);
    for (const g of s.memberOf ?? []) pair(ref, 'memberOf', g);
    for (const d of s.dependsOn ?? []) pair(ref, 'dependsOn', d);
    for (const a of s.providesApis ?? []) pair(ref, 'providesApi', a);
    for (const a of s.consumesApis ?? []) pair(ref, 'consumesApi', a);
    if (s.system) pair(ref, 'partOf', s.system);
  }
  return specs.map((s) => {
    const ref = refOf(s.kind, s.name, s.namespace);
    const annotations: Record<string, string> = {};
    if (s.tier !== undefined) annotations[ANNOTATION.tier] = String(s.tier);
    if (s.oncall) annotations[ANNOTATION.oncall] = s.oncall;
    if (s.runbook) annotations[ANNOTATION.runbook] = s.runbook;
    if (s.slack) annotations[ANNOTATION.slack] = s.slack;
    const spec: Record<string, string> = {};
    if (s.type) spec.type = s.type;
    return {
      apiVersion: 'backstage.io/v1alpha1',
      kind: s.kind,
      metadata: {
        name: s.name,
        ...(s.namespace ? { namespace: s.namespace } : {}),
        ...(s.title ? { title: s.title } : {}),
        annotations,
      },
      spec,
      relations: relations.get(ref) ?? [],
    } as Entity;
  });
}
