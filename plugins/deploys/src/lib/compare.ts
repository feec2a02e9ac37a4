import type { LiveEnvironment } from './k8s-live.ts';
import type { Deploy } from './model.ts';

/**
 * The desired state of a service as its repo's k8s/ manifests declare it: the shape plugins/entity's
 * `readDesiredState` answers (the one reader of manifests for the portal; the portal wires it in).
 */
export interface DesiredManifests {
  dir: string;
  workloads: {
    kind: string;
    name: string;
    replicas: number | null;
    containers: { name: string; image: string | null }[];
    file: string;
  }[];
  problems: string[];
}

/** The one workload of the manifests compared: its image (the container named like it, else the first). */
export interface DesiredWorkload {
  dir: string;
  workload: string | null;
  file: string | null;
  image: string | null;
  replicas: number | null;
  problems: string[];
}

export interface DeployedNow {
  id: string;
  version: string;
  image: string | null;
  at: string;
  actor: string | null;
}

export interface LiveNow {
  state: LiveEnvironment['state'];
  since: string;
  error?: string;
  /** The Deployment compared (named like the manifests' one, else the first labelled one); null if none. */
  workload: string | null;
  images: string[];
  desired: number | null;
  ready: number | null;
  rolloutComplete: boolean | null;
}

/** One environment, side by side: the repo's manifests, the last successful deploy, the cluster. */
export interface EnvironmentComparison {
  environment: string;
  desired: DesiredWorkload | null;
  deployed: DeployedNow | null;
  /** Null when no cluster is watched for this environment (PORTAL_K8S_CONTEXTS). */
  live: LiveNow | null;
  /** What disagrees, in words a person acts on; empty when the three agree (as far as they are known). */
  mismatches: string[];
}

/** The first Deployment (else StatefulSet, else any workload) of the manifests, reduced to image and replicas. */
export function desiredWorkload(m: DesiredManifests): DesiredWorkload {
  const w =
    m.workloads.find((x) => x.kind === 'Deployment') ??
    m.workloads.find((x) => x.kind === 'StatefulSet') ??
    m.workloads[0];
  const container = w?.containers.find((c) => c.name === w.name) ?? w?.containers[0];
  return {
    dir: m.dir,
    workload: w?.name ?? null,
    file: w?.file ?? null,
    image: container?.image ?? null,
    replicas: w?.replicas ?? null,
    problems: m.problems,
  };
}

/**
 * Desired (manifests) vs deployed (last successful deploy) vs live (the cluster), for one environment.
 * A cluster whose state is unknown is said so, never compared as "0 replicas"; an unknown value on either
 * side is not a mismatch.
 */
export function compareEnvironment(
  environment: string,
  desired: DesiredWorkload | null,
  running: Deploy | null,
  liveEnv: LiveEnvironment | undefined,
): EnvironmentComparison {
  const deployed: DeployedNow | null = running
    ? {
        id: running.id,
        version: running.version,
        image: running.image,
        at: running.finishedAt ?? running.startedAt,
        actor: running.actor,
      }
    : null;
  let live: LiveNow | null = null;
  if (liveEnv) {
    const w =
      liveEnv.workloads.find((x) => desired?.workload && x.name === desired.workload) ?? liveEnv.workloads[0];
    live = {
      state: liveEnv.state,
      since: liveEnv.since,
      ...(liveEnv.error ? { error: liveEnv.error } : {}),
      workload: w?.name ?? null,
      images: w?.images ?? [],
      desired: w ? w.desired : null,
      ready: w ? w.ready : null,
      rolloutComplete: w ? w.rolloutComplete : null,
    };
  }
  const mismatches: string[] = [];
  if (desired?.image && deployed?.image && desired.image !== deployed.image)
    mismatches.push(
      `the last successful deploy (${deployed.version}) shipped ${deployed.image}; the manifests in ${desired.dir} say ${desired.image}`,
    );
  if (live?.state === 'live') {
    if (!live.workload) {
      if (deployed)
        mismatches.push(`deployed ${deployed.version}, but the cluster runs no matching Deployment`);
    } else {
      if (deployed?.image && !live.images.includes(deployed.image))
        mismatches.push(
          `the cluster runs ${live.images.join(', ') || 'no image'}; the last successful deploy (${deployed.version}) shipped ${deployed.image}`,
        );
      if (desired?.image && !live.images.includes(desired.image))
        mismatches.push(
          `the cluster runs ${live.images.join(', ') || 'no image'}; the manifests say ${desired.image}`,
        );
      if (desired?.replicas != null && live.desired !== null && live.desired !== desired.replicas)
        mismatches.push(`the cluster wants ${live.desired} replicas; the manifests say ${desired.replicas}`);
    }
  }
  return { environment, desired, deployed, live, mismatches };
}
