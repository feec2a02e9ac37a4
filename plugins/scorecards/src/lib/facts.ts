/**
 * The facts checks read about one service, gathered from what the portal already has: the entity, its
 * owner in the graph, and its k8s/ manifests (parsed with the scaffolder's reader, so one home for what a
 * manifest set means). Manifests are read once per folder and kept until a file in it changes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Entity } from '@bank/catalog';
import { entityRef } from '@bank/catalog/model';
import { type ManifestObject, parseManifests } from '@bank/plugin-scaffolder';

export const MANAGED_BY = 'backstage.io/managed-by-location';
export const K8S_ANNOTATION = 'bank.io/k8s-manifests';

export interface ManifestFile {
  /** Absolute path. */
  path: string;
  text: string;
}

export interface ManifestSet {
  folder: string;
  files: ManifestFile[];
  objects: ManifestObject[];
  /** Files that could not be read as YAML (the checks that need them fail, saying so). */
  unreadable: string[];
}

/** The descriptor file an entity came from (`backstage.io/managed-by-location: file:/…`). */
export function descriptorFile(entity: Entity): string | undefined {
  return digest(entity).descriptor;
}

/** The folder of an entity's Kubernetes manifests: bank.io/k8s-manifests relative to its descriptor. */
export function manifestFolder(entity: Entity): string | undefined {
  return digest(entity).manifestFolder;
}

/**
 * What scoring reads of one entity, read once per stored entity. Its metadata, annotations and spec come in
 * many shapes, which makes each read of them slow: a full re-score reads them from here instead, per
 * service and per caller or callee of one. Stored entities are never changed in place (an ingest stores a
 * new object for a changed one), and each catalogue view serves an entity as a new object sharing the stored
 * one's metadata and spec: so a digest is kept by its metadata and holds while spec and kind are the same.
 */
export interface EntityDigest {
  /** `kind:namespace/name`. */
  ref: string;
  name: string;
  /** Lower case. */
  kind: string;
  /** spec.type and spec.lifecycle as text ('' when not set). */
  type: string;
  lifecycle: string;
  /** bank.io/tier when it is a whole number above 0. */
  tier: number | undefined;
  /** bank.io/service-id, else `service.<name>`. */
  serviceId: string;
  /** spec.owner when it is text. */
  owner: string | undefined;
  /** Every annotation. */
  annotations: ReadonlyMap<string, string>;
  spec: Readonly<Record<string, unknown>>;
  description: string | undefined;
  descriptor: string | undefined;
  manifestFolder: string | undefined;
  /** The entity's kind as written (what, with spec, the digest holds for). */
  writtenKind: string;
}

const digests = new WeakMap<Entity['metadata'], EntityDigest>();
const NO_SPEC = Object.freeze({});
export function digest(entity: Entity): EntityDigest {
  let d = digests.get(entity.metadata);
  if (!d || d.spec !== (entity.spec ?? NO_SPEC) || d.writtenKind !== entity.kind) {
    d = makeDigest(entity);
    digests.set(entity.metadata, d);
  }
  return d;
}

function makeDigest(entity: Entity): EntityDigest {
  const { metadata } = entity;
  const annotations = new Map(Object.entries(metadata.annotations ?? {}));
  const spec = (entity.spec ?? NO_SPEC) as Record<string, unknown>;
  const t = Number(annotations.get('bank.io/tier'));
  const loc = annotations.get(MANAGED_BY);
  const descriptor = loc?.startsWith('file:') ? loc.slice('file:'.length) : undefined;
  const kind = entity.kind.toLowerCase();
  return {
    ref: entityRef(entity),
    name: metadata.name,
    kind,
    type: String(spec.type ?? ''),
    lifecycle: String(spec.lifecycle ?? ''),
    tier: Number.isInteger(t) && t > 0 ? t : undefined,
    serviceId: annotations.get('bank.io/service-id') ?? `service.${metadata.name}`,
    owner: typeof spec.owner === 'string' ? spec.owner : undefined,
    annotations,
    spec,
    description: metadata.description,
    descriptor,
    manifestFolder: findManifestFolder(descriptor, annotations.get(K8S_ANNOTATION)),
    writtenKind: entity.kind,
  };
}

function findManifestFolder(file: string | undefined, rel: string | undefined): string | undefined {
  if (!file || !rel) return undefined;
  const folder = path.resolve(path.dirname(file), rel);
  // The manifests belong to the service's own folder; an annotation pointing elsewhere is not followed.
  return folder.startsWith(path.dirname(file)) ? folder : undefined;
}

/** Reads manifest folders, keeping each until `forget` is told a file in it changed. */
export class ManifestCache {
  private readonly sets = new Map<string, ManifestSet | null>();

  get(folder: string): ManifestSet | undefined {
    let set = this.sets.get(folder);
    if (set === undefined) {
      set = readManifestFolder(folder);
      this.sets.set(folder, set);
    }
    return set ?? undefined;
  }

  /** A file changed (or appeared, or went): its folder is read again next time. True if it was a manifest. */
  forget(file: string): boolean {
    const folder = path.dirname(file);
    return this.sets.delete(folder);
  }

  clear(): void {
    this.sets.clear();
  }
}

function readManifestFolder(folder: string): ManifestSet | null {
  let names: string[];
  try {
    // Not a folder (ENOTDIR), or not there (ENOENT): no manifests.
    names = readdirSync(folder)
      .filter((n) => /\.ya?ml$/.test(n))
      .sort();
  } catch {
    return null;
  }
  const files: ManifestFile[] = [];
  for (const n of names) {
    const p = path.join(folder, n);
    try {
      files.push({ path: p, text: readFileSync(p, 'utf8') });
    } catch {
      // vanished between readdir and read: as if it were not there
    }
  }
  const { objects, errors } = parseManifests(files);
  return { folder, files, objects, unreadable: [...new Set(errors.map((e) => e.file))] };
}

/** The 1-based line of the first line matching `pattern` in a file of the set (for "the line that decides"). */
export function lineOf(set: ManifestSet, file: string, pattern: RegExp): number | undefined {
  const text = set.files.find((f) => f.path === file)?.text;
  if (!text) return undefined;
  const lines = text.split('\n');
  const i = lines.findIndex((l) => pattern.test(l));
  return i >= 0 ? i + 1 : undefined;
}
