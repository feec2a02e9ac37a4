import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  ANNOTATION,
  closestRefs,
  DNS_LABEL,
  type Entity,
  entityRef,
  parseRef,
  stringifyRef,
} from '@bank/catalog';
import { buildGraphIndex, collectiveOf, declaredCalls, relationTargets } from '@bank/graph';
import { resolveSafeChildPath } from '../paths.ts';
import type { Action } from '../types.ts';
import { ActionError, str, strList } from './input.ts';
import { admitCaller } from './network-policy.ts';

/** Datastore kinds → the port their clients use, for egress policies. */
export const DATASTORE_PORTS: Record<string, number[]> = {
  'cassandra-keyspace': [9042],
  'postgres-database': [5432],
  'kafka-topic': [9092],
  'elasticsearch-index': [9200],
  's3-bucket': [443],
  queue: [5672],
};

/** The Monzo-style id: `api-x` → `service.api.x`, else `service.<name>`. */
export function serviceIdOf(name: string, entity?: Entity): string {
  const annotated = entity?.metadata.annotations?.[ANNOTATION.serviceId];
  if (annotated) return annotated;
  return name.startsWith('api-') ? `service.api.${name.slice(4)}` : `service.${name}`;
}

function camel(s: string): string {
  const parts = s.split(/[^A-Za-z0-9]+/).filter(Boolean);
  const id = parts
    .map((w, i) => (i === 0 ? w.toLowerCase() : w.charAt(0).toUpperCase() + w.slice(1).toLowerCase()))
    .join('');
  return /^[0-9]/.test(id) ? `s${id}` : id;
}

export const networkPeers: Action = {
  id: 'bank:network-peers',
  description:
    "Look up network peers in the catalogue for NetworkPolicies and the descriptor: the callees (dependsOn components) with the APIs they provide, datastores (resources), known callers (from the graph, with the new service providing providesApis) and the owner's collective (name, owner, dependsOn, datastores, topics, providesApis, datastoreCidr)",
  async handler(ctx) {
    const name = str(ctx, 'name', { required: true });
    if (!DNS_LABEL.test(name)) throw new ActionError(`${ctx.field}.name: "${name}" is not a DNS label`);
    const cidr = str(ctx, 'datastoreCidr', { fallback: '10.20.0.0/16' });
    if (!/^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/.test(cidr))
      throw new ActionError(`${ctx.field}.datastoreCidr: "${cidr}" is not an IPv4 CIDR`);
    const view = await ctx.env.catalog.view();
    const self = `component:default/${name}`;
    const dependencies: Record<string, unknown>[] = [];
    const datastores: Record<string, unknown>[] = [];
    for (const ref of [
      ...new Set([...strList(ctx, 'dependsOn'), ...strList(ctx, 'datastores'), ...strList(ctx, 'topics')]),
    ].sort()) {
      const e = view.byRef.get(ref);
      if (!e) {
        throw new ActionError(
          `${ctx.field}.dependsOn: "${ref}" is not in the catalogue; did you mean ${closestRefs(ref, view.refs, 3).join(', ')}?`,
        );
      }
      const n = e.metadata.name;
      if (e.kind.toLowerCase() === 'component') {
        dependencies.push({
          ref,
          name: n,
          serviceId: serviceIdOf(n, e),
          identifier: camel(n),
          type: (e.spec as { type?: string })?.type ?? 'service',
        });
      } else if (e.kind.toLowerCase() === 'resource') {
        const type = String((e.spec as { type?: string })?.type ?? '');
        datastores.push({ ref, name: n, type, cidr, ports: DATASTORE_PORTS[type] ?? [] });
      }
    }
    // Who calls whom is the graph's to say (declared dependsOn, and consumesApi resolved to the provider):
    // the catalogue as it would be with the new service providing its APIs, asked for the service's callers
    // and each callee's APIs. No naming convention is assumed.
    const provides = strList(ctx, 'providesApis').map((a) =>
      stringifyRef(parseRef(a, { kind: 'api', namespace: 'default' })),
    );
    const index = buildGraphIndex([
      ...[...view.byRef.values()].filter((e) => entityRef(e) !== self),
      {
        apiVersion: 'backstage.io/v1alpha1',
        kind: 'Component',
        metadata: { name, namespace: 'default' },
        spec: { type: 'service', lifecycle: 'experimental', owner: 'unknown', providesApis: provides },
        relations: provides.map((targetRef) => ({ type: 'providesApi', targetRef })),
      },
    ]);
    const consumedApis: string[] = [];
    const dependsOn: string[] = [];
    for (const d of dependencies) {
      const apis = relationTargets(index, String(d.ref), 'providesApi').sort();
      d.apis = apis;
      // A callee without an API can only be named as a dependency; the graph draws the same edge either way.
      if (apis.length) consumedApis.push(...apis);
      else dependsOn.push(String(d.ref));
    }
    dependsOn.push(...datastores.map((s) => String(s.ref)));
    const callers: Record<string, unknown>[] = [];
    for (const { ref } of declaredCalls(index, self, 'in')) {
      const e = view.byRef.get(ref);
      if (e?.kind.toLowerCase() !== 'component') continue;
      callers.push({ ref, name: e.metadata.name, serviceId: serviceIdOf(e.metadata.name, e) });
    }
    callers.sort((a, b) => String(a.name).localeCompare(String(b.name)));
    // The collective above the owning squad (the graph's rule), for the app.kubernetes.io/part-of label;
    // the squad itself when it is in no collective.
    const owner = str(ctx, 'owner');
    const ownerRef = owner ? stringifyRef(parseRef(owner, { kind: 'group' })) : undefined;
    const collective = ownerRef ? parseRef(collectiveOf(index, ownerRef) ?? ownerRef).name : '';
    ctx.output('collective', collective);
    // The owner's on-call rota and channel, so the new service's page says who answers for it.
    const ownerAnnotations = ownerRef ? (view.byRef.get(ownerRef)?.metadata.annotations ?? {}) : {};
    ctx.output('oncall', ownerAnnotations[ANNOTATION.oncall] ?? '');
    ctx.output('slack', ownerAnnotations[ANNOTATION.slack] ?? '');
    ctx.output('self', { name, serviceId: serviceIdOf(name) });
    ctx.output('dependencies', dependencies);
    ctx.output('consumesApis', [...new Set(consumedApis)].sort());
    ctx.output('dependsOn', [...new Set(dependsOn)].sort());
    ctx.output('calleeIds', dependencies.map((d) => d.serviceId).sort());
    ctx.output('callers', callers);
    ctx.output('callerIds', callers.map((c) => c.serviceId).sort());
    ctx.output('datastores', datastores);
    // The callees this template scaffolded admit the new caller in their ingress policy (published with it).
    const calleePolicies: { path: string; content: string; sha256: string }[] = [];
    const selfId = serviceIdOf(name);
    for (const d of dependencies) {
      const rel = path.posix.join(
        path.relative(ctx.env.repoRoot, ctx.env.servicesDir).split(path.sep).join('/'),
        String(d.name),
        'k8s',
        'networkpolicy.yaml',
      );
      let abs: string;
      try {
        abs = resolveSafeChildPath(ctx.env.repoRoot, rel, `${ctx.field}.dependsOn`);
      } catch {
        continue;
      }
      if (!existsSync(abs)) continue;
      const before = readFileSync(abs);
      const after = admitCaller(before.toString('utf8'), selfId);
      if (after !== undefined)
        calleePolicies.push({
          path: rel,
          content: after,
          sha256: createHash('sha256').update(before).digest('hex'),
        });
    }
    ctx.output('calleePolicies', calleePolicies);
    ctx.log(
      `network peers of ${name}: ${dependencies.length} callees, ${callers.length} known callers, ${datastores.length} datastores`,
    );
  },
};
