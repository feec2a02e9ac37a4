/**
 * The bank's facts about an entity live in annotations, so that plain Backstage descriptors stay valid.
 * One home for every key: the generator, validation, the graph and the UI all import from here.
 */
export const ANNOTATION = {
  /** Service tier, "1" (customer money moves through it) to "4" (internal tooling). */
  tier: 'bank.io/tier',
  /** Name of the on-call rota in the paging tool, e.g. "payments-card-processing". */
  oncall: 'bank.io/oncall-rota',
  /** Runbook URL (http/https only). */
  runbook: 'bank.io/runbook',
  /** Slack channel, with the leading '#'. */
  slack: 'bank.io/slack-channel',
  /** Implementation language: go, typescript, python, java. */
  language: 'bank.io/language',
  /** The Monzo-style service id, e.g. "service.card-processing" or "service.api.feed". */
  serviceId: 'bank.io/service-id',
  /** Scaffolder lineage: template name and version this service was created from. */
  template: 'bank.io/template',
  templateVersion: 'bank.io/template-version',
  /** Where the service's Kubernetes manifests live, relative to its catalog-info.yaml. */
  k8sManifests: 'bank.io/k8s-manifests',
  /** Backstage's own: source location and Kubernetes id. */
  sourceLocation: 'backstage.io/source-location',
  kubernetesId: 'backstage.io/kubernetes-id',
  managedByLocation: 'backstage.io/managed-by-location',
  managedByOriginLocation: 'backstage.io/managed-by-origin-location',
  /** Set to "true" on an entity its location no longer emits (Backstage's orphan mark); it is kept. */
  orphan: 'backstage.io/orphan',
} as const;

/** Group spec.type values used by the bank's org chart. */
export const GROUP_TYPE = {
  organisation: 'organization',
  collective: 'collective',
  squad: 'squad',
} as const;

export const TIERS = [1, 2, 3, 4] as const;
export type Tier = (typeof TIERS)[number];
