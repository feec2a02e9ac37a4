/**
 * The facts checks read about one service, gathered from what the portal already has: the entity, its
 * owner in the graph, and its k8s/ manifests (parsed with the scaffolder's reader, so one home for what a
 * manifest set means). Manifests are read once per folder and kept until a file in it changes.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Entity } from '@bank/catalog';
import { type ManifestObject, parseManifests } from '@bank/plugin-scaffolder/manifests.ts';

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
  const loc = entity.metadata.annotations?.[MANAGED_BY];
  return loc?.startsWith('file:') ? loc.slice('file:'.length) : undefined;
}

/** The folder of an entity's Kubernetes manifests: bank.io/k8s-manifests relative to its descriptor. */
export function manifestFolder(entity: Entity): string | undefined {
  // Entities in a catalogue view are not changed in place (a change is a new object): one answer each.
  if (folders.has(entity)) return folders.get(entity);
  const folder = findManifestFolder(entity);
  folders.set(entity, folder);
  return folder;
}
const folders = new WeakMap<Entity, string | undefined>();

function findManifestFolder(entity: Entity): string | undefined {
  const file = descriptorFile(entity);
  const rel = entity.metadata.annotations?.[K8S_ANNOTATION];
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
    if (!statSync(folder).isDirectory()) return null;
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
