import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import type { EntityRelation, StoredEntity } from '@bank/catalog';

/**
 * The catalogue snapshot: what the catalogue view is made of (stored entities and their relations), as of
 * one store generation, in one JSON file beside the store. Whoever loads or changes the view writes it
 * (ingest, a running portal); a `portal path|impact|get` reads it instead of opening the store through
 * Prisma and reading every row, when its generation is the store's. A stale one (the store moved on) or an
 * unreadable one is rebuilt from the store: it is a cache, the store stays the truth, nothing is lost.
 */
export const SNAPSHOT_FORMAT = 'portal-catalogue-snapshot';
/** Bumped when the file's shape changes: an older file is then stale, never misread. */
export const SNAPSHOT_VERSION = 1;

export interface CatalogSnapshot {
  generation: number;
  entities: Map<string, StoredEntity>;
  relations: Map<string, EntityRelation[]>;
}

/** Why a snapshot file could not be used. `missing` is normal (never written); the others are said. */
export type SnapshotProblem = { kind: 'missing' } | { kind: 'corrupt' | 'old-format'; message: string };

/** Written to a temporary file and renamed over the old one: a reader sees the old file or the new, whole. */
export function writeSnapshot(file: string, snap: CatalogSnapshot): void {
  const body = JSON.stringify({
    format: SNAPSHOT_FORMAT,
    version: SNAPSHOT_VERSION,
    generation: snap.generation,
    writtenAt: new Date().toISOString(),
    entities: [...snap.entities.values()],
    relations: [...snap.relations],
  });
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(tmp, body);
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/**
 * The generation and time a snapshot file was written at, from its first bytes (writeSnapshot puts the
 * format, version, generation and time first); undefined when there is no readable file of this format.
 */
export function snapshotStamp(file: string): { generation: number; writtenAtMs: number } | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const head = Buffer.alloc(256);
    const text = head.toString('utf8', 0, readSync(fd, head, 0, head.length, 0));
    const m = /^\{"format":"([^"]*)","version":(\d+),"generation":(\d+),"writtenAt":"([^"]+)",/.exec(text);
    if (!m || m[1] !== SNAPSHOT_FORMAT || Number(m[2]) !== SNAPSHOT_VERSION) return undefined;
    const writtenAtMs = Date.parse(m[4]);
    return Number.isNaN(writtenAtMs) ? undefined : { generation: Number(m[3]), writtenAtMs };
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export function readSnapshot(file: string): CatalogSnapshot | SnapshotProblem {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    return { kind: 'corrupt', message: `cannot be read (${(err as Error).message})` };
  }
  let body: {
    format?: unknown;
    version?: unknown;
    generation?: unknown;
    entities?: unknown;
    relations?: unknown;
  };
  try {
    body = JSON.parse(text);
  } catch (err) {
    return { kind: 'corrupt', message: `is not valid JSON (${(err as Error).message})` };
  }
  if (body === null || typeof body !== 'object' || body.format !== SNAPSHOT_FORMAT)
    return { kind: 'corrupt', message: `is not a catalogue snapshot (no "format": "${SNAPSHOT_FORMAT}")` };
  if (body.version !== SNAPSHOT_VERSION)
    return {
      kind: 'old-format',
      message: `has format version ${JSON.stringify(body.version)}, this portal writes ${SNAPSHOT_VERSION}`,
    };
  if (
    typeof body.generation !== 'number' ||
    !Array.isArray(body.entities) ||
    !Array.isArray(body.relations) ||
    body.entities.some(
      (e) => typeof e?.ref !== 'string' || typeof e?.entity !== 'object' || e.entity === null,
    ) ||
    body.relations.some((r) => !Array.isArray(r) || typeof r[0] !== 'string' || !Array.isArray(r[1]))
  )
    return {
      kind: 'corrupt',
      message: 'is incomplete (generation, entities or relations missing or malformed)',
    };
  return {
    generation: body.generation,
    entities: new Map((body.entities as StoredEntity[]).map((e) => [e.ref, e])),
    relations: new Map(body.relations as [string, EntityRelation[]][]),
  };
}

export function isSnapshot(s: CatalogSnapshot | SnapshotProblem): s is CatalogSnapshot {
  return !('kind' in s);
}
