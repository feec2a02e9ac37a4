import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Entity } from '@backstage/catalog-model';
import type { AppliedPolicy } from '../model/policy.ts';
import { entityRef } from '../model/ref.ts';
import { validateEntity } from '../model/validate.ts';
import { type ParseProblem, type Position, parseDescriptor } from './parse.ts';
import { MAX_PLACEHOLDER_TOTAL_BYTES, resolvePlaceholders } from './placeholders.ts';
import { urlLocationAnnotations } from './url-reader.ts';

/** One document of a descriptor file, parsed, validated on its own and normalised. */
export interface PreparedDocument {
  /** Its entity ref, when kind and name can be read. */
  ref?: string;
  /** Where the document starts. */
  position: Position;
  /** What is wrong with it on its own, each with the position of the field concerned. */
  problems: ParseProblem[];
  /** What its policy reports as warnings only (the bank's rules at level `warning`): the entity is kept. */
  warnings: ParseProblem[];
  /** The entity as the store keeps it (namespace, managed-by annotations, etag; `uid` still empty), when valid. */
  entity?: Entity;
}

export interface PreparedFile {
  /** Problems with the file as a whole (not YAML, too big, not UTF-8 …). */
  problems: ParseProblem[];
  documents: PreparedDocument[];
}

/**
 * The per-file half of ingest, which needs nothing but the file: parse, validate each document, normalise the
 * valid ones. A pure function of its input, so it can be tested (and timed) alone; everything that needs the
 * whole catalogue stays in the ingester.
 */
export async function prepareFile(
  abs: string,
  bytes: Uint8Array,
  /** `managed-by-origin-location`: the registered location (or root) that brought this file in. */
  origin = `file:${abs}`,
  policy: AppliedPolicy = { name: 'backstage', level: 'error' },
  /** What `$text` / `$json` / `$yaml` placeholders may read: the tree the descriptor was found in. */
  confine: string = path.dirname(abs),
  /** `managed-by-location`: `url:<url>` for the local copy of a URL, else the file. */
  location = `file:${abs}`,
): Promise<PreparedFile> {
  const parsed = parseDescriptor(bytes);
  const documents: PreparedDocument[] = [];
  const budget = { bytes: MAX_PLACEHOLDER_TOTAL_BYTES };
  for (const doc of parsed.documents) {
    const unresolved = resolvePlaceholders(doc.data, abs, confine, budget);
    // An unresolved placeholder is the problem to report; validating the mapping left in its place would only
    // add a confusing second message ("/spec/definition must be string").
    const found = unresolved.length > 0 ? unresolved : await validateEntity(doc.data, policy.name);
    const warn = (p: (typeof found)[number]) => policy.level === 'warning' && p.policy === 'bank';
    const problems = found.filter((p) => !warn(p));
    const ref = refOf(doc.data);
    documents.push({
      ...(ref ? { ref } : {}),
      position: doc.position,
      problems: problems.map((p) => ({ ...doc.positionOf(p.path), message: p.message })),
      warnings: found.filter(warn).map((p) => ({ ...doc.positionOf(p.path), message: p.message })),
      ...(problems.length === 0 ? { entity: normalise(doc.data as Entity, location, origin) } : {}),
    });
  }
  return { problems: parsed.problems, documents };
}

function refOf(data: unknown): string | undefined {
  const e = data as Partial<Entity> | null;
  if (!e || typeof e.kind !== 'string' || typeof e.metadata?.name !== 'string') return undefined;
  try {
    return entityRef(e as Entity);
  } catch {
    return undefined;
  }
}

/**
 * Fill what Backstage fills: the default namespace, the location annotations and an etag of the content.
 * The uid is left empty for the ingester, which keeps an entity's uid across versions.
 */
function normalise(raw: Entity, location: string, origin: string): Entity {
  const metadata = { ...raw.metadata };
  metadata.namespace = metadata.namespace ?? 'default';
  delete metadata.uid;
  delete metadata.etag;
  const annotations = { ...(metadata.annotations ?? {}) };
  annotations['backstage.io/managed-by-location'] = location;
  annotations['backstage.io/managed-by-origin-location'] =
    annotations['backstage.io/managed-by-origin-location'] ?? origin;
  // Read from a URL: where to view it (and on GitHub/GitLab, edit it), unless the descriptor says.
  if (location.startsWith('url:'))
    for (const [k, v] of Object.entries(urlLocationAnnotations(location.slice(4)))) annotations[k] ??= v;
  // The orphan mark is the catalogue's to set, never the descriptor's.
  delete annotations['backstage.io/orphan'];
  metadata.annotations = annotations;
  // One JSON text serves twice: its hash is the etag, and parsing it gives the stored copy. A copy, not the
  // parsed document itself: the parser's strings are slices of the whole file text and would keep every
  // descriptor file in memory for as long as the entity lives.
  const text = JSON.stringify({ ...raw, metadata });
  const entity = JSON.parse(text) as Entity;
  entity.metadata.uid = '';
  entity.metadata.etag = createHash('sha1').update(text).digest('hex');
  return entity;
}
