/**
 * The built-in actions. Every action supports dry-run: fetch actions only ever write the in-memory
 * workspace; publish and register compute what they would do, and do it only in a real run, each
 * registering its compensation with the task's transaction first.
 */
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  ANNOTATION,
  checkReferences,
  closestRefs,
  computeRelations,
  DNS_LABEL,
  type Entity,
  entityRef,
  parseDescriptor,
  parseRef,
  stringifyRef,
  validateEntity,
} from '@bank/catalog';
import { buildGraphIndex, forEachCallOf, relationTargets } from '@bank/graph';
import { ConflictError, InputError } from '@bank/plugin-kit';
import { parseAllDocuments } from 'yaml';
import { compileTemplate, renderTemplate } from './expr/render.ts';
import {
  commitOnCurrentBranch,
  currentBranch,
  type FileForCommit,
  gitTopLevel,
  repoWebUrl,
  undoCommit,
} from './git.ts';
import { parseManifests, validateManifests } from './manifests.ts';
import { isInside, PathError, resolveSafeChildPath, safeRelative } from './paths.ts';
import type { Action, ActionContext } from './types.ts';

const MAX_SKELETON_FILE = 1024 * 1024;

export class ActionError extends InputError {}

function str(ctx: ActionContext, key: string, opts: { required?: boolean; fallback?: string } = {}): string {
  const v = ctx.input[key];
  if (v === undefined || v === null || v === '') {
    if (opts.required) throw new ActionError(`${ctx.field}.${key}: is required`);
    return opts.fallback ?? '';
  }
  if (typeof v !== 'string') throw new ActionError(`${ctx.field}.${key}: must be a string, got ${typeof v}`);
  return v;
}

function strList(ctx: ActionContext, key: string): string[] {
  const v = ctx.input[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
    throw new ActionError(`${ctx.field}.${key}: must be a list of strings`);
  return v as string[];
}

/** `**`, `*` and `?` globs to a RegExp over POSIX paths. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') {
      if (glob[i + 1] === '*') {
        re += glob[i + 2] === '/' ? '(?:.*/)?' : '.*';
        i += glob[i + 2] === '/' ? 2 : 1;
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re.replace(/^\.\//, '')}$`);
}

interface SkeletonEntry {
  rel: string;
  kind: 'file' | 'symlink';
  abs: string;
  target?: string;
  executable?: boolean;
}

/**
 * The files of a skeleton directory, not following links. A symlink is kept as a link only when it is
 * relative, resolves (whole chain) inside the skeleton, and is not dangling; otherwise the template is refused.
 */
export function readSkeleton(dir: string, shownAs: string): SkeletonEntry[] {
  const root = realpathSync(dir);
  const out: SkeletonEntry[] = [];
  const walk = (abs: string, rel: string) => {
    for (const d of readdirSync(abs, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const childAbs = path.join(abs, d.name);
      const childRel = rel ? `${rel}/${d.name}` : d.name;
      const st = lstatSync(childAbs);
      if (st.isSymbolicLink()) {
        const target = readlinkSync(childAbs);
        const shown = `${shownAs}/${childRel}`;
        if (path.isAbsolute(target))
          throw new PathError(
            `${shown}: symbolic link to an absolute path (${target}) is not allowed in a skeleton`,
          );
        const lexical = path.resolve(path.dirname(childAbs), target);
        if (!isInside(root, lexical))
          throw new PathError(`${shown}: symbolic link points outside the template (→ ${target})`);
        let real: string;
        try {
          real = realpathSync(childAbs);
        } catch {
          throw new PathError(`${shown}: dangling symbolic link (→ ${target})`);
        }
        if (!isInside(root, real))
          throw new PathError(`${shown}: symbolic link chain leads outside the template (→ ${real})`);
        out.push({ rel: childRel, kind: 'symlink', abs: childAbs, target });
      } else if (st.isDirectory()) walk(childAbs, childRel);
      else if (st.isFile()) {
        if (st.size > MAX_SKELETON_FILE)
          throw new PathError(`${shownAs}/${childRel}: larger than ${MAX_SKELETON_FILE} bytes`);
        out.push({ rel: childRel, kind: 'file', abs: childAbs, executable: (st.mode & 0o100) !== 0 });
      } else
        throw new PathError(
          `${shownAs}/${childRel}: only files, directories and links are allowed in a skeleton`,
        );
    }
  };
  walk(root, '');
  return out;
}

function isBinary(buf: Buffer): boolean {
  return buf.subarray(0, 8000).includes(0);
}

/** Render a path's `${{ }}` segments; returns undefined for paths Backstage skips ("", "/…", "//"). */
function renderPath(rel: string, scope: Record<string, unknown>, field: string): string | undefined {
  if (!rel.includes('${{')) return rel;
  const out = renderTemplate(compileTemplate(rel, field), scope);
  if (out === '' || out.startsWith('/') || out.includes('//')) return undefined;
  return out;
}

function fetchAction(id: 'fetch:template' | 'fetch:plain'): Action {
  return {
    id,
    description:
      id === 'fetch:template'
        ? 'Render a skeleton directory of the template into the workspace (url, targetPath, values, copyWithoutTemplating, templateFileExtension, replace)'
        : 'Copy a directory of the template into the workspace as-is (url, targetPath)',
    async handler(ctx) {
      const url = str(ctx, 'url', { required: true });
      if (/^[a-z][a-z0-9+.-]*:/i.test(url))
        throw new PathError(`${ctx.field}.url: "${url}": only paths inside the template are allowed`);
      const srcRel = safeRelative(url, `${ctx.field}.url`);
      const src = resolveSafeChildPath(ctx.template.dir, srcRel, `${ctx.field}.url`);
      const target = safeRelative(str(ctx, 'targetPath', { fallback: '.' }), `${ctx.field}.targetPath`);
      const replace = ctx.input.replace === true;
      const values = (ctx.input.values ?? {}) as Record<string, unknown>;
      if (typeof values !== 'object' || Array.isArray(values))
        throw new ActionError(`${ctx.field}.values: must be a mapping`);
      const raw = [...strList(ctx, 'copyWithoutTemplating'), ...strList(ctx, 'copyWithoutRender')].map(
        globToRegExp,
      );
      const extOpt = ctx.input.templateFileExtension;
      const ext =
        extOpt === true
          ? '.njk'
          : typeof extOpt === 'string' && extOpt
            ? extOpt.startsWith('.')
              ? extOpt
              : `.${extOpt}`
            : undefined;
      const shown = `templates/${ctx.template.dirName}/${srcRel}`;
      let entries: SkeletonEntry[];
      if (lstatSync(src).isFile()) {
        entries = [{ rel: path.basename(src), kind: 'file', abs: src }];
      } else entries = readSkeleton(src, shown);
      const scope = { values };
      let rendered = 0;
      for (const e of entries) {
        const field = `${shown}/${e.rel}`;
        let rel: string | undefined = e.rel;
        const templated =
          id === 'fetch:template' && !raw.some((r) => r.test(e.rel)) && (!ext || e.rel.endsWith(ext));
        if (id === 'fetch:template') {
          rel = renderPath(e.rel, scope, field);
          if (rel === undefined) {
            ctx.log(`skipped ${e.rel}: its path renders empty`);
            continue;
          }
          if (ext && rel.endsWith(ext)) rel = rel.slice(0, -ext.length);
        }
        const dest = target ? `${target}/${rel}` : rel;
        safeRelative(dest, field);
        if (e.kind === 'symlink') {
          ctx.workspace.symlink(dest, e.target as string, { replace, field });
          continue;
        }
        const bytes = readFileSync(e.abs);
        if (templated && !isBinary(bytes)) {
          const text = renderTemplate(compileTemplate(bytes.toString('utf8'), field), scope);
          ctx.workspace.write(dest, text, { executable: e.executable, replace, field });
          rendered++;
        } else ctx.workspace.write(dest, bytes, { executable: e.executable, replace, field });
      }
      ctx.log(`${id}: ${entries.length} entries from ${shown} into ./${target} (${rendered} rendered)`);
    },
  };
}

const debugLog: Action = {
  id: 'debug:log',
  description: 'Write a message to the task log; listWorkspace: true lists the workspace files',
  async handler(ctx) {
    const message = ctx.input.message;
    if (message !== undefined) ctx.log(typeof message === 'string' ? message : JSON.stringify(message));
    if (ctx.input.listWorkspace === true) {
      for (const f of ctx.workspace.list())
        ctx.log(`  ${f.path}${f.entry.kind === 'symlink' ? ` -> ${f.entry.target}` : ''}`);
    }
  },
};

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

const networkPeers: Action = {
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
    forEachCallOf(index, self, 'in', (a, ref) => {
      if (a.kinds.length === 0) return; // observed only: not a declared caller
      const e = view.byRef.get(ref);
      if (e?.kind.toLowerCase() !== 'component') return;
      callers.push({ ref, name: e.metadata.name, serviceId: serviceIdOf(e.metadata.name, e) });
    });
    callers.sort((a, b) => String(a.name).localeCompare(String(b.name)));
    // The owning squad's collective, for the app.kubernetes.io/part-of label.
    const owner = str(ctx, 'owner');
    let collective = owner ? parseRef(owner, { kind: 'group' }).name : '';
    if (owner) {
      const parent = (
        view.byRef.get(stringifyRef(parseRef(owner, { kind: 'group' })))?.spec as
          | { parent?: unknown }
          | undefined
      )?.parent;
      if (typeof parent === 'string') collective = parseRef(parent, { kind: 'group' }).name;
    }
    ctx.output('collective', collective);
    // The owner's on-call rota and channel, so the new service's page says who answers for it.
    const ownerAnnotations = owner
      ? (view.byRef.get(stringifyRef(parseRef(owner, { kind: 'group' })))?.metadata.annotations ?? {})
      : {};
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

/**
 * A callee's ingress policy, re-rendered to admit a new caller: when `text` holds a scaffolder-managed
 * ingress NetworkPolicy, the caller's pod name joins its `app.kubernetes.io/name In […]` rule (sorted,
 * once), or a rule is added; comments and the rest of the file stay. Undefined when not ours to change.
 */
interface MatchExpression {
  key?: string;
  operator?: string;
  values?: string[];
}
interface PolicyDoc {
  kind?: string;
  metadata?: { labels?: Record<string, string> };
  spec?: {
    policyTypes?: string[];
    ingress?: { from?: { podSelector?: { matchExpressions?: MatchExpression[] } }[] }[];
  };
}

export function admitCaller(text: string, callerId: string): string | undefined {
  const docs = parseAllDocuments(text, { merge: false, uniqueKeys: true });
  if (!Array.isArray(docs) || docs.some((d) => d.errors.length > 0)) return undefined;
  let changed = false;
  const isName = (e: MatchExpression) => e.key === 'app.kubernetes.io/name';
  for (const doc of docs) {
    const o = doc.toJS({ maxAliasCount: 10 }) as PolicyDoc | null;
    if (
      o?.kind !== 'NetworkPolicy' ||
      o.metadata?.labels?.['app.kubernetes.io/managed-by'] !== 'portal-scaffolder'
    )
      continue;
    const ingress = o.spec?.ingress;
    if (!o.spec?.policyTypes?.includes('Ingress') || !Array.isArray(ingress)) continue;
    const at = ingress.findIndex((r) =>
      (r.from ?? []).some((p) =>
        (p.podSelector?.matchExpressions ?? []).some((e) => isName(e) && e.operator === 'In'),
      ),
    );
    if (at === -1) {
      const seq = doc.getIn(['spec', 'ingress']) as { items: unknown[] };
      seq.items.unshift(
        doc.createNode({
          from: [
            {
              podSelector: {
                matchExpressions: [{ key: 'app.kubernetes.io/name', operator: 'In', values: [callerId] }],
              },
            },
          ],
          ports: [{ port: 'http', protocol: 'TCP' }],
        }),
      );
      changed = true;
      continue;
    }
    const from = ingress[at].from ?? [];
    const pi = from.findIndex((p) => (p.podSelector?.matchExpressions ?? []).some(isName));
    const expressions = from[pi].podSelector?.matchExpressions ?? [];
    const ei = expressions.findIndex(isName);
    const path = ['spec', 'ingress', at, 'from', pi, 'podSelector', 'matchExpressions', ei, 'values'];
    const values = expressions[ei].values ?? [];
    if (values.includes(callerId)) continue;
    doc.setIn(path, doc.createNode([...values, callerId].sort()));
    changed = true;
  }
  if (!changed) return undefined;
  return docs.map((d) => d.toString({ lineWidth: 0, flowCollectionPadding: false })).join('');
}

function camel(s: string): string {
  const parts = s.split(/[^A-Za-z0-9]+/).filter(Boolean);
  const id = parts
    .map((w, i) => (i === 0 ? w.toLowerCase() : w.charAt(0).toUpperCase() + w.slice(1).toLowerCase()))
    .join('');
  return /^[0-9]/.test(id) ? `s${id}` : id;
}

const kubernetesValidate: Action = {
  id: 'kubernetes:validate',
  description:
    'Validate the Kubernetes manifests in a workspace directory offline (kubernetes-models) plus the bank checks (path, default k8s)',
  async handler(ctx) {
    const dir = safeRelative(str(ctx, 'path', { fallback: 'k8s' }), `${ctx.field}.path`);
    const files = ctx.workspace
      .list(dir)
      .filter((f) => f.entry.kind === 'file' && /\.ya?ml$/.test(f.path))
      .map((f) => ({
        path: `${dir}/${f.path}`,
        text: (f.entry as { content: Buffer }).content.toString('utf8'),
      }));
    if (files.length === 0) throw new ActionError(`${ctx.field}.path: no manifests under ./${dir}`);
    const { objects, errors } = parseManifests(files);
    const reports = [...errors, ...(await validateManifests(objects))];
    ctx.output('manifests', reports);
    const bad = reports.filter((r) => r.errors.length > 0);
    if (bad.length > 0) {
      throw new ActionError(
        `Kubernetes manifests are invalid: ${bad.map((r) => `${r.file} ${r.kind}/${r.name}: ${r.errors.join('; ')}`).join(' | ')}`,
      );
    }
    ctx.log(
      `${objects.length} Kubernetes objects valid: ${objects.map((o) => `${o.kind}/${o.name}`).join(', ')}`,
    );
  },
};

/** publish:monorepo `alsoWrite`: files outside the new directory (callee policies), each checked and confined. */
function alsoWrite(
  ctx: ActionContext,
  relDir: string,
): { path: string; abs: string; content: string; sha256: string }[] {
  const raw = ctx.input.alsoWrite;
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw))
    throw new ActionError(`${ctx.field}.alsoWrite: must be a list of {path, content, sha256}`);
  return raw.map((item, i) => {
    const f = `${ctx.field}.alsoWrite[${i}]`;
    const it = item as { path?: unknown; content?: unknown; sha256?: unknown };
    if (typeof it?.path !== 'string' || typeof it.content !== 'string' || typeof it.sha256 !== 'string') {
      throw new ActionError(`${f}: must be {path, content, sha256}`);
    }
    const rel = safeRelative(it.path, `${f}.path`);
    const services = path.relative(ctx.env.repoRoot, ctx.env.servicesDir).split(path.sep).join('/');
    // Only Kubernetes manifests of other services: never the new one, never anything else in the repository.
    if (
      !rel.startsWith(`${services}/`) ||
      rel.startsWith(`${relDir}/`) ||
      !/\/k8s\/[^/]+\.ya?ml$/.test(rel)
    ) {
      throw new PathError(`${f}.path: "${rel}" is not another service's k8s/ manifest`);
    }
    const abs = resolveSafeChildPath(ctx.env.repoRoot, rel, `${f}.path`);
    if (!existsSync(abs)) throw new ActionError(`${f}.path: ${rel} does not exist`);
    return { path: rel, abs, content: it.content, sha256: it.sha256 };
  });
}

const publishMonorepo: Action = {
  id: 'publish:monorepo',
  description:
    'Write the workspace into services/<name> of the monorepo (atomically, via a staging directory) and commit it on the checked-out branch when the repository is a git repository (so nothing is left untracked)',
  async handler(ctx) {
    const name = str(ctx, 'name', { required: true });
    if (!DNS_LABEL.test(name) || name.length > 63)
      throw new PathError(`${ctx.field}.name: "${name}" is not a DNS label (no paths)`);
    const source = safeRelative(str(ctx, 'sourcePath', { fallback: '.' }), `${ctx.field}.sourcePath`);
    const relDir = path.posix.join(
      path.relative(ctx.env.repoRoot, ctx.env.servicesDir).split(path.sep).join('/'),
      name,
    );
    const message = str(ctx, 'commitMessage', {
      fallback: `Scaffold ${name} from template ${ctx.template.name} ${ctx.template.version}`,
    });
    const files = ctx.workspace.list(source);
    if (files.length === 0)
      throw new ActionError(`${ctx.field}.sourcePath: the workspace has no files under ./${source}`);
    const dir = resolveSafeChildPath(ctx.env.repoRoot, relDir, `${ctx.field}.name`);
    if (existsSync(dir)) throw new ConflictError(`${ctx.field}.name: ${relDir} already exists`);
    const repo = await gitTopLevel(ctx.env.repoRoot);
    const branch = repo ? await currentBranch(repo) : undefined;
    const also = alsoWrite(ctx, relDir);
    ctx.published.set(relDir, source);
    ctx.output('dir', relDir);
    ctx.output(
      'modified',
      also.map((a) => ({ path: a.path, content: a.content })),
    );
    ctx.output('branch', branch);
    ctx.output('repoUrl', repo ? repoWebUrl() : undefined);
    ctx.output('repoContentsUrl', `file:${relDir}`);
    ctx.output(
      'files',
      files.map((f) => f.path),
    );
    if (ctx.dryRun) {
      ctx.log(
        `would write ${files.length} files into ${relDir}${also.length ? `, update ${also.map((a) => a.path).join(', ')}` : ''}${repo ? ` and commit them on ${branch ? `branch ${branch}` : 'the detached HEAD'}` : ''}`,
      );
      return;
    }
    // Stage beside the target (same file system, so rename is atomic); dot-directories are not ingested.
    const staging = resolveSafeChildPath(ctx.env.servicesDir, `.scaffold-${ctx.taskId}`, 'staging');
    await mkdir(staging);
    ctx.tx.onUndo(`remove staging ${path.basename(staging)}`, () =>
      rm(staging, { recursive: true, force: true }),
    );
    for (const f of files) {
      const abs = resolveSafeChildPath(staging, f.path, `${ctx.field} file ${f.path}`);
      await mkdir(path.dirname(abs), { recursive: true });
      // Re-check now that parents exist: nothing may have been linked in between.
      resolveSafeChildPath(staging, f.path, `${ctx.field} file ${f.path}`);
      if (f.entry.kind === 'symlink') {
        if (
          path.isAbsolute(f.entry.target) ||
          !isInside(staging, path.resolve(path.dirname(abs), f.entry.target))
        ) {
          throw new PathError(`${f.path}: symbolic link points outside the service`);
        }
        await symlink(f.entry.target, abs);
      } else {
        await writeFile(abs, f.entry.content, { flag: 'wx', mode: f.entry.executable ? 0o755 : 0o644 });
      }
    }
    try {
      await mkdir(dir);
    } catch {
      throw new ConflictError(`${ctx.field}.name: ${relDir} already exists`);
    }
    ctx.tx.onUndo(`remove ${relDir}`, () => rm(dir, { recursive: true, force: true }));
    await rename(staging, dir);
    ctx.log(`wrote ${files.length} files into ${relDir}`);
    for (const a of also) {
      // Unchanged since it was read (else someone edited it meanwhile: refuse rather than overwrite).
      const now = readFileSync(a.abs);
      if (createHash('sha256').update(now).digest('hex') !== a.sha256) {
        throw new ConflictError(`${a.path} changed while scaffolding; run it again`);
      }
      const tmp = `${a.abs}.scaffold-${ctx.taskId}`;
      await writeFile(tmp, a.content, { flag: 'wx' });
      ctx.tx.onUndo(`restore ${a.path}`, async () => {
        await rm(tmp, { force: true });
        await writeFile(a.abs, now);
      });
      await rename(tmp, a.abs);
      ctx.log(`updated ${a.path} to admit ${name}`);
    }
    if (repo) {
      const commitFiles: FileForCommit[] = [
        ...also.map((a) => ({
          path: path.relative(repo, a.abs).split(path.sep).join('/'),
          mode: '100644' as const,
          content: Buffer.from(a.content),
        })),
        ...files.map((f) => ({
          path: path.posix.join(path.relative(repo, dir).split(path.sep).join('/'), f.path),
          mode: (f.entry.kind === 'symlink'
            ? '120000'
            : f.entry.executable
              ? '100755'
              : '100644') as FileForCommit['mode'],
          content: f.entry.kind === 'symlink' ? Buffer.from(f.entry.target) : f.entry.content,
        })),
      ];
      const who = ctx.actor.id.replace(/^[a-z]+:(default\/)?/, '');
      // The commit runs while the next steps (registration) do: the task completes only once it has landed,
      // and fails (rolling everything back) if it does not.
      const committing = commitOnCurrentBranch(repo, commitFiles, message, {
        name: `${who} (portal scaffolder)`,
        email: `${who.replace(/[^A-Za-z0-9._-]/g, '-')}@portal.bank.internal`,
      });
      ctx.tx.onUndo(`undo the commit on ${branch ?? 'HEAD'}`, async () => {
        const done = await committing.catch(() => undefined);
        if (done)
          await undoCommit(
            repo,
            done,
            commitFiles.map((f) => f.path),
          );
      });
      ctx.tx.defer(
        ctx.stepId,
        committing.then((done) => {
          ctx.output('commitHash', done.commit);
          ctx.output('branch', done.branch);
          ctx.log(
            `committed ${done.commit.slice(0, 12)} on ${done.branch ? `branch ${done.branch}` : 'HEAD'}`,
          );
        }),
      );
    }
  },
};

export interface CatalogDiff {
  added: { ref: string; kind: string; title?: string; relations: { type: string; targetRef: string }[] }[];
  /** Relations the new entities add to entities already in the catalogue (the reverse side). */
  relationsAdded: { source: string; type: string; targetRef: string }[];
}

const catalogRegister: Action = {
  id: 'catalog:register',
  description:
    'Register the service descriptor in the catalogue now (validated, references checked, ingested incrementally); in a dry-run, compute the catalogue diff (catalogInfoPath, or repoContentsUrl + catalogInfoPath)',
  async handler(ctx) {
    const contents = str(ctx, 'repoContentsUrl');
    let rel = str(ctx, 'catalogInfoPath', { fallback: contents ? 'catalog-info.yaml' : '' });
    if (!rel)
      throw new ActionError(
        `${ctx.field}.catalogInfoPath: is required, e.g. services/<name>/catalog-info.yaml`,
      );
    if (contents) {
      if (!contents.startsWith('file:'))
        throw new ActionError(
          `${ctx.field}.repoContentsUrl: only file: URLs from publish:monorepo are supported`,
        );
      rel = path.posix.join(contents.slice(5), rel.replace(/^\//, ''));
    } else if (ctx.dryRun) {
      // Backstage writes catalogInfoPath from the repository's root ("/catalog-info.yaml").
      rel = rel.replace(/^\/+/, '');
    }
    rel = safeRelative(rel, `${ctx.field}.catalogInfoPath`);
    // The bytes: from the workspace (dry-run, or before publish) or the published file.
    let bytes: Buffer | undefined;
    let dirRel: string | undefined;
    for (const [pub, source] of ctx.published) {
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
    if (!ctx.dryRun) {
      const abs = resolveSafeChildPath(ctx.env.repoRoot, rel, `${ctx.field}.catalogInfoPath`);
      if (!existsSync(abs))
        throw new ActionError(`${ctx.field}.catalogInfoPath: ${rel} does not exist; publish it first`);
      bytes = readFileSync(abs);
    }
    if (!bytes)
      throw new ActionError(`${ctx.field}.catalogInfoPath: ${rel} is neither published nor in the workspace`);
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
    const view = await ctx.env.catalog.view();
    const newRefs = entities.map(entityRef);
    for (const r of newRefs)
      if (view.refs.has(r)) throw new ConflictError(`${rel}: ${r} already exists in the catalogue`);
    const known = new Set([...view.refs, ...newRefs]);
    // The bank's rules (an owner is a Group) for what is published into the bank's estate; a Backstage
    // template publishing elsewhere (publish:github…) is checked as Backstage checks it (any kind of owner).
    const bankEstate = ctx.template.steps.some((s) => s.action === 'publish:monorepo');
    for (const e of entities) {
      const problems = checkReferences(
        e,
        known,
        (raw, kind) => {
          try {
            const k = parseRef(raw, { kind: kind ?? 'component' }).kind;
            return closestRefs(
              raw,
              [...known].filter((r) => r.startsWith(`${k}:`)),
              3,
            );
          } catch {
            return [];
          }
        },
        { targetKinds: bankEstate },
      );
      if (problems.length)
        throw new ActionError(
          `${rel}: ${problems.map((p) => `${p.path.join('.')}: ${p.message}`).join('; ')}`,
        );
    }
    // The diff: relations among the new entities and the entities they name.
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
    const main = entities.find((e) => e.kind.toLowerCase() === 'component') ?? entities[0];
    ctx.output('entityRef', entityRef(main));
    ctx.output('catalogInfoUrl', `file:${rel}`);
    ctx.output('diff', diff);
    if (ctx.dryRun) {
      ctx.log(
        `would register ${newRefs.join(', ')} with ${diff.added.reduce((n, a) => n + a.relations.length, 0)} relations`,
      );
      return;
    }
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
  },
};

export function builtinActions(): Action[] {
  return [
    fetchAction('fetch:template'),
    fetchAction('fetch:plain'),
    debugLog,
    networkPeers,
    kubernetesValidate,
    publishMonorepo,
    catalogRegister,
  ];
}
