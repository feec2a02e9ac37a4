/**
 * Fixtures for scorecard tests: descriptors, manifests and scorecards written as real files. The descriptors
 * come from the shared test estate builder (@bank/catalog/testing); the manifests and scorecards are extra
 * files of the estate.
 */
import {
  componentSpec,
  descriptorText,
  type EntitySpec,
  estateFiles as filesOf,
  ORG_SPECS,
} from '@bank/catalog/testing';

/** A service as the scorecards see it: on-call rota, runbook (unless `runbook: false`), manifests in ./k8s. */
const serviceSpec = (
  name: string,
  opts: { tier?: number; dependsOn?: string[]; runbook?: boolean } = {},
): EntitySpec =>
  componentSpec(name, {
    tier: opts.tier ?? 2,
    oncall: 'core-banking-ledger',
    runbook: opts.runbook === false ? undefined : `https://runbooks.bank.example/${name}`,
    manifests: './k8s',
    dependsOn: opts.dependsOn?.map((d) => `component:${d}`),
  });

export const service = (
  name: string,
  opts: { tier?: number; dependsOn?: string[]; runbook?: boolean } = {},
) => descriptorText([serviceSpec(name, opts)]);

export const deployment = (name: string, replicas: number) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: service-${name}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app.kubernetes.io/name: service.${name}}
  template:
    metadata:
      labels: {app.kubernetes.io/name: service.${name}}
    spec:
      containers:
        - name: service-${name}
          image: registry.bank.example/${name}:v1
          resources: {requests: {cpu: 50m, memory: 64Mi}, limits: {memory: 128Mi}}
          readinessProbe: {httpGet: {path: /ping, port: http}}
          livenessProbe: {httpGet: {path: /ping, port: http}}
`;

export const pdb = (name: string, minAvailable: number) => `apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: service-${name}}
spec:
  minAvailable: ${minAvailable}
  selector: {matchLabels: {app.kubernetes.io/name: service.${name}}}
`;

export const policy = (name: string, egress: string[], ingress: string[]) => `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: service-${name}-ingress}
spec:
  podSelector: {matchLabels: {app.kubernetes.io/name: service.${name}}}
  policyTypes: [Ingress]
  ingress:
    - from:
        - podSelector: {matchExpressions: [{key: app.kubernetes.io/name, operator: In, values: [${ingress.map((i) => `service.${i}`).join(', ')}]}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: service-${name}-egress}
spec:
  podSelector: {matchLabels: {app.kubernetes.io/name: service.${name}}}
  policyTypes: [Egress]
  egress:
    - to: [{podSelector: {matchExpressions: [{key: app.kubernetes.io/name, operator: In, values: [${egress.map((i) => `service.${i}`).join(', ')}]}]}}]
`;

export const CARD = `apiVersion: bank.io/v1
kind: Scorecard
metadata:
  name: readiness
  title: Readiness
spec:
  scope: {types: [service]}
  checks:
    - name: has-oncall
      kind: fact
      fact: oncall
      present: true
    - name: has-runbook
      kind: fact
      fact: runbook
      present: true
    - name: replicas
      kind: replicas-by-tier
      atLeast: {1: 3, default: 2}
    - name: disruption-budget
      kind: disruption-budget
    - name: network-policy
      kind: network-policy
  levels:
    - name: bronze
      checks: [has-oncall, replicas]
    - name: silver
      checks: [has-runbook, disruption-budget, network-policy]
`;

export const SECOND = `apiVersion: bank.io/v1
kind: Scorecard
metadata:
  name: ownership
  title: Ownership
spec:
  checks:
    - name: has-owner
      kind: fact
      fact: owner.members
      atLeast: 1
  levels:
    - name: owned
      checks: [has-owner]
`;

/** A small estate: api → payments → ledger, fees; each with some of what production readiness asks. */
export function estateFiles(): Record<string, string | Uint8Array> {
  return filesOf({
    root: 'services',
    entities: [
      ...ORG_SPECS,
      serviceSpec('payments', { tier: 1, dependsOn: ['ledger', 'fees'] }),
      serviceSpec('ledger', { tier: 1 }),
      serviceSpec('fees', { runbook: false }),
      serviceSpec('api', { tier: 1, dependsOn: ['payments'] }),
    ],
    files: {
      'services/payments/k8s/deployment.yaml': deployment('payments', 3),
      'services/payments/k8s/pdb.yaml': pdb('payments', 2),
      // egress forgets fees, a declared call
      'services/payments/k8s/networkpolicy.yaml': policy('payments', ['ledger'], ['api']),
      'services/ledger/k8s/deployment.yaml': deployment('ledger', 3),
      'services/ledger/k8s/pdb.yaml': pdb('ledger', 3),
      'services/ledger/k8s/networkpolicy.yaml': policy('ledger', [], ['payments']),
      'services/fees/k8s/deployment.yaml': deployment('fees', 2),
      'services/fees/k8s/networkpolicy.yaml': policy('fees', [], ['payments']),
      'services/api/k8s/deployment.yaml': deployment('api', 1),
      'scorecards/readiness.yaml': CARD,
      'scorecards/ownership.yaml': SECOND,
    },
  });
}
