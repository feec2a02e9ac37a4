import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import {
  checkReferences,
  closestOfKind,
  computeRelations,
  type Entity,
  entityRef,
  parseDescriptor,
  validateEntity,
} from '@bank/catalog';
import { ConflictError } from '@bank/plugin-kit';
import { resolveSafeChildPath, safeRelative } from '../paths.ts';
import type { Action, ActionContext } from '../types.ts';
import { ActionError, str } from './input.ts';

export interface CatalogDiff {
  added: { ref: string; kind: string; title?: string; relations: { type: string; targetRef: string }[] }[];
  /** Relations the new entities add to entities already in the catalogue (the reverse side). */
  relationsAdded: { source: string; type: string; targetRef: string }[];
}

export const catalogRegister: Action = {
  id: 'catalog:register',
  description:
    'Register the service descriptor in the catalogue now (validated, references checked, ingested incrementally); in a dry-run, compute the catalogue diff (catalogInfoPath, or repoContentsUrl + catalogInfoPath)',
  async handler(ctx) {
    const descriptor = locateDescriptor(ctx);
    const { rel, urlTarget } = descriptor;
    const entities = await readEntities(rel, descriptor.bytes);
    const view = await ctx.env.catalog.view();
    const newRefs = entities.map(entityRef);
    for (const r of newRefs)
      if (view.refs.has(r)) throw new ConflictError(`${rel}: ${r} already exists in the catalogue`);
    const known = new Set([...view.refs, ...newRefs]);
    checkNewReferences(ctx, rel, entities, known);
    const diff = catalogDiff(entities, newRefs, known, view);
    const main = entities.find((e) => e.kind.toLowerCase() === 'component') ?? entities[0];
    ctx.output('entityRef', entityRef(main));
    ctx.output('catalogInfoUrl', urlTarget ?? `file:${rel}`);
    ctx.output('diff', diff);
    if (urlTarget) {
      if (ctx.dryRun) {
        ctx.log(`would register the URL location ${urlTarget} (${newRefs.join(', ')})`);
        return;
      }
      if (!ctx.env.catalog.addLocation)
        throw new ActionError(`${ctx.field}: this catalogue cannot register URL locations`);
      await ctx.env.catalog.addLocation(urlTarget, { type: 'url', onConflict: 'refresh' });
      ctx.log(`registered the URL location ${urlTarget} (${newRefs.join(', ')})`);
      return;
    }
    if (ctx.dryRun) {
      ctx.log(
        `would register ${newRefs.join(', ')} with ${diff.added.reduce((n, a) => n + a.relations.length, 0)} relations`,
      );
      return;
    }
    await ingestDescriptor(ctx, descriptor, newRefs);
  },
};

/** Where the descriptor is and its bytes, as far as they can be known before a real run publishes them. */
interface Descriptor {
  /** Repo-relative path of the descriptor (or its path in the pushed repository, with urlTarget). */
  rel: string;
  /** The URL location to register: what publish:github/gitlab pushed (Backstage's repoContentsUrl). */
  urlTarget?: string;
  /** The published directory holding it (publish:monorepo), if any. */
  dirRel?: string;
  bytes: Buffer;
}

/**
 * catalogInfoPath (and repoContentsUrl) to the descriptor: what publish:github/gitlab pushed is read from the
 * workspace that was pushed, then registered as a URL location (read back through the allow-listed URL
 * reader); a monorepo descriptor from the workspace (dry-run, or before publish) or the published file.
 */
function locateDescriptor(ctx: ActionContext): Descriptor {
  const contents = str(ctx, 'repoContentsUrl');
  let rel = str(ctx, 'catalogInfoPath', { fallback: contents ? 'catalog-info.yaml' : '' });
  if (!rel)
    throw new ActionError(
      `${ctx.field}.catalogInfoPath: is required, e.g. services/<name>/catalog-info.yaml`,
    );
  let urlTarget: string | undefined;
  let bytes: Buffer | undefined;
  if (contents && /^https?:\/\//.test(contents)) {
    rel = safeRelative(rel.replace(/^\/+/, ''), `${ctx.field}.catalogInfoPath`);
    urlTarget = `${contents.replace(/\/+$/, '')}/${rel}`;
    const source = ctx.published.get(contents);
    const e = source === undefined ? undefined : ctx.workspace.get(path.posix.join(source || '.', rel));
    if (e?.kind !== 'file')
      throw new ActionError(
        `${ctx.field}.repoContentsUrl: ${contents} was not published by this task with ${rel} in it`,
      );
    bytes = e.content;
  } else if (contents) {
    if (!contents.startsWith('file:'))
      throw new ActionError(
        `${ctx.field}.repoContentsUrl: only file: URLs from publish:monorepo and http(s) URLs from publish:github/gitlab are supported`,
      );
    rel = path.posix.join(contents.slice(5), rel.replace(/^\//, ''));
  } else if (ctx.dryRun) {
    // Backstage writes catalogInfoPath from the repository's root ("/catalog-info.yaml").
    rel = rel.replace(/^\/+/, '');
  }
  rel = safeRelative(rel, `${ctx.field}.catalogInfoPath`);
  // The bytes: from the workspace (dry-run, or before publish) or the published file.
  let dirRel: string | undefined;
  for (const [pub, source] of urlTarget ? [] : ctx.published) {
    if (rel.startsWith(`${pub}/`)) {
      dirRel = pub;
      const inWs = path.posix.join(source, rel.slice(pub.length + 1));
      const e = ctx.workspace.get(inWs);
      if (e?.kind === 'file') bytes = e.content;
    }
  }
  // A dry-run of a template that publishes elsewhere (publish:github, skipped here): the descriptor as
  // it stands in the workspace.
  if (!bytes && ctx.dryRun && dirRel === undefined) {
    const e = ctx.workspace.get(rel);
    if (e?.kind === 'file') bytes = e.content;
  }
  if (!ctx.dryRun && !urlTarget) {
    const abs = resolveSafeChildPath(ctx.env.repoRoot, rel, `${ctx.field}.catalogInfoPath`);
    if (!existsSync(abs))
      throw new ActionError(`${ctx.field}.catalogInfoPath: ${rel} does not exist; publish it first`);
    bytes = readFileSync(abs);
  }
  if (!bytes)
    throw new ActionError(`${ctx.field}.catalogInfoPath: ${rel} is neither published nor in the workspace`);
  return { rel, urlTarget, dirRel, bytes };
}

/** The descriptor's entities, each valid; the first problem named with its line. */
async function readEntities(rel: string, bytes: Buffer): Promise<Entity[]> {
  const parsed = parseDescriptor(bytes);
  if (parsed.problems.length)
    throw new ActionError(`${rel}:${parsed.problems[0].line}: ${parsed.problems[0].message}`);
  const entities: Entity[] = [];
  for (const doc of parsed.documents) {
    const problems = await validateEntity(doc.data);
    if (problems.length) {
      const p = problems[0];
      throw new ActionError(`${rel}:${doc.positionOf(p.path).line}: ${p.path.join('.')}: ${p.message}`);
    }
    entities.push(doc.data as Entity);
  }
  if (entities.length === 0) throw new ActionError(`${rel}: holds no entities`);
  return entities;
}

/**
 * Every reference of the new entities names a known entity (suggesting the closest). The bank's rules (an
 * owner is a Group) for what is published into the bank's estate; a Backstage template publishing elsewhere
 * (publish:github…) is checked as Backstage checks it (any kind of owner).
 */
function checkNewReferences(ctx: ActionContext, rel: string, entities: Entity[], known: Set<string>): void {
  const bankEstate = ctx.template.steps.some((s) => s.action === 'publish:monorepo');
  for (const e of entities) {
    const problems = checkReferences(e, known, (raw, kind) => closestOfKind(raw, known, kind), {
      targetKinds: bankEstate,
    });
    if (problems.length)
      throw new ActionError(`${rel}: ${problems.map((p) => `${p.path.join('.')}: ${p.message}`).join('; ')}`);
  }
}

/** The diff: relations among the new entities and the entities they name (the reverse side included). */
function catalogDiff(
  entities: Entity[],
  newRefs: string[],
  known: Set<string>,
  view: { readonly byRef: ReadonlyMap<string, Entity> },
): CatalogDiff {
  const named = new Set<string>();
  const involved: Entity[] = [...entities];
  const relations = computeRelations(entities, known);
  for (const list of relations.values()) for (const r of list) named.add(r.targetRef);
  for (const r of named) {
    const e = view.byRef.get(r);
    if (e) involved.push(e);
  }
  const all = computeRelations(involved, known);
  const diff: CatalogDiff = {
    added: entities.map((e) => ({
      ref: entityRef(e),
      kind: e.kind,
      title: e.metadata.title,
      relations: (all.get(entityRef(e)) ?? []).map((r) => ({ type: r.type, targetRef: r.targetRef })),
    })),
    relationsAdded: [],
  };
  for (const [source, list] of all) {
    if (newRefs.includes(source)) continue;
    for (const r of list)
      if (newRefs.includes(r.targetRef))
        diff.relationsAdded.push({ source, type: r.type, targetRef: r.targetRef });
  }
  return diff;
}

/** A real run into the monorepo: ingest the descriptor's folder now (undone on rollback), then check it took. */
async function ingestDescriptor(
  ctx: ActionContext,
  { rel, dirRel }: Descriptor,
  newRefs: string[],
): Promise<void> {
  const dirAbs = resolveSafeChildPath(
    ctx.env.repoRoot,
    dirRel ?? path.posix.dirname(rel),
    `${ctx.field}.catalogInfoPath`,
  );
  const fileAbs = resolveSafeChildPath(ctx.env.repoRoot, rel, `${ctx.field}.catalogInfoPath`);
  ctx.tx.onUndo(`unregister ${newRefs.join(', ')}`, async () => {
    await rm(fileAbs, { force: true });
    if (existsSync(dirAbs)) await ctx.env.catalog.ingest([dirAbs]);
  });
  const result = await ctx.env.catalog.ingest([dirAbs]);
  const mine = result.errors.filter(
    (e) => path.resolve(e.file).startsWith(dirAbs) || newRefs.includes(e.entityRef ?? ''),
  );
  if (mine.length)
    throw new ActionError(
      `catalogue rejected ${rel}: ${mine.map((e) => `${e.line}: ${e.message}`).join('; ')}`,
    );
  const after = await ctx.env.catalog.view();
  const missing = newRefs.filter((r) => !after.refs.has(r));
  if (missing.length) throw new ActionError(`catalogue did not register ${missing.join(', ')}`);
  ctx.log(`registered ${newRefs.join(', ')} in ${result.durationMs} ms`);
}
