import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { ANNOTATION } from '@bank/catalog';
import type { CatalogView } from '@bank/plugin-catalog';
import { parseAllDocuments } from 'yaml';

/** The desired state of one workload as its manifests declare it. */
export interface K8sWorkload {
  kind: string;
  name: string;
  namespace: string | null;
  replicas: number | null;
  containers: {
    name: string;
    image: string | null;
    requests: Record<string, string>;
    limits: Record<string, string>;
    ports: number[];
  }[];
  file: string;
}

export interface K8sObject {
  kind: string;
  name: string;
  file: string;
}

export interface K8sState {
  /** The manifests folder as the annotation names it. */
  dir: string;
  workloads: K8sWorkload[];
  /** Every other object (Service, HPA, ConfigMap, …) by kind and name. */
  objects: K8sObject[];
  /** Problems reading the manifests: the page shows them, never a blank. */
  problems: string[];
}

/** GET /api/entity/:kind/:namespace/:name/k8s: the desired state, null when the entity names no manifests. */
export interface K8sAnswer {
  ref: string;
  k8s: K8sState | null;
}

const MAX_FILES = 50;
const MAX_BYTES = 512 * 1024;
const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob']);

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const strings = (v: unknown): Record<string, string> =>
  Object.fromEntries(Object.entries(obj(v)).map(([k, x]) => [k, String(x)]));

function within(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * Reads the manifests named by `bank.io/k8s-manifests` (relative to the descriptor's folder). The folder
 * must resolve (symlinks included) inside the descriptor's folder and inside a catalogue root; files are
 * capped in number and size, and YAML aliases are not expanded beyond the parser's default limit.
 */
export async function readDesiredState(
  descriptorFile: string,
  annotation: string,
  roots: string[],
): Promise<K8sState> {
  const state: K8sState = { dir: annotation, workloads: [], objects: [], problems: [] };
  if (annotation.includes('\0') || path.isAbsolute(annotation)) {
    state.problems.push(`bank.io/k8s-manifests must be a relative folder, got ${JSON.stringify(annotation)}`);
    return state;
  }
  let base: string;
  let dir: string;
  try {
    base = await realpath(path.dirname(descriptorFile));
    dir = await realpath(path.resolve(base, annotation));
  } catch {
    state.problems.push(`No manifests folder at ${annotation} next to the descriptor`);
    return state;
  }
  const realRoots = await Promise.all(roots.map((r) => realpath(r).catch(() => path.resolve(r))));
  if (!within(base, dir) || !realRoots.some((r) => within(r, dir))) {
    state.problems.push(
      `bank.io/k8s-manifests (${annotation}) points outside the service's folder; not read`,
    );
    return state;
  }
  const files = (await readdir(dir)).filter((f) => /\.ya?ml$/.test(f)).sort();
  if (files.length > MAX_FILES)
    state.problems.push(`Only the first ${MAX_FILES} of ${files.length} manifest files are read`);
  for (const file of files.slice(0, MAX_FILES)) {
    const full = path.join(dir, file);
    try {
      const real = await realpath(full);
      if (!within(dir, real)) {
        state.problems.push(`${file}: a link out of the manifests folder; not read`);
        continue;
      }
      if ((await stat(real)).size > MAX_BYTES) {
        state.problems.push(`${file}: larger than ${MAX_BYTES / 1024} KiB; not read`);
        continue;
      }
      const docs = parseAllDocuments(await readFile(real, 'utf8'), { merge: false });
      for (const doc of Array.isArray(docs) ? docs : [docs]) {
        if (doc.errors.length > 0) {
          state.problems.push(`${file}: ${doc.errors[0].message.split('\n')[0]}`);
          continue;
        }
        const o = obj(doc.toJS({ maxAliasCount: 100 }));
        if (Object.keys(o).length === 0) continue;
        const kind = String(o.kind ?? 'Unknown');
        const meta = obj(o.metadata);
        const name = String(meta.name ?? '(unnamed)');
        if (!WORKLOADS.has(kind)) {
          state.objects.push({ kind, name, file });
          continue;
        }
        const spec = obj(o.spec);
        const podSpec =
          kind === 'CronJob'
            ? obj(obj(obj(obj(spec.jobTemplate).spec).template).spec)
            : obj(obj(spec.template).spec);
        const containers = (Array.isArray(podSpec.containers) ? podSpec.containers : []).map((raw) => {
          const c = obj(raw);
          const res = obj(c.resources);
          return {
            name: String(c.name ?? ''),
            image: typeof c.image === 'string' ? c.image : null,
            requests: strings(res.requests),
            limits: strings(res.limits),
            ports: (Array.isArray(c.ports) ? c.ports : [])
              .map((p) => Number(obj(p).containerPort))
              .filter((n) => Number.isInteger(n)),
          };
        });
        state.workloads.push({
          kind,
          name,
          namespace: typeof meta.namespace === 'string' ? meta.namespace : null,
          replicas:
            typeof spec.replicas === 'number'
              ? spec.replicas
              : kind === 'Deployment' || kind === 'StatefulSet'
                ? 1
                : null,
          containers,
          file,
        });
      }
    } catch (err) {
      state.problems.push(`${file}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  return state;
}

const perView = new WeakMap<CatalogView, Map<string, Promise<K8sState | null>>>();

/**
 * The desired state of an entity in a catalogue view, read once per view (a new ingest makes a new view):
 * the entity card's Kubernetes section and the deploys plugin's desired-vs-deployed-vs-live both read it
 * here. Null when the entity names no manifests folder or was not read from a file.
 */
export function desiredStateOf(view: CatalogView, ref: string, roots: string[]): Promise<K8sState | null> {
  let cache = perView.get(view);
  if (!cache) {
    cache = new Map();
    perView.set(view, cache);
  }
  let pending = cache.get(ref);
  if (!pending) {
    const e = view.byRef.get(ref);
    const annotation = e?.metadata.annotations?.[ANNOTATION.k8sManifests];
    const location = e?.metadata.annotations?.[ANNOTATION.managedByLocation];
    pending =
      annotation && location?.startsWith('file:')
        ? readDesiredState(location.slice(5), annotation, roots)
        : Promise.resolve(null);
    cache.set(ref, pending);
  }
  return pending;
}
