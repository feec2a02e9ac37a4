import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DNS_LABEL } from '@bank/catalog';
import { ConflictError } from '@bank/plugin-kit';
import {
  commitOnCurrentBranch,
  currentBranch,
  type FileForCommit,
  gitTopLevel,
  repoWebUrl,
  undoCommit,
} from '../git.ts';
import { isInside, PathError, resolveSafeChildPath, safeRelative } from '../paths.ts';
import type { Action, ActionContext } from '../types.ts';
import { ActionError, str } from './input.ts';

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

export const publishMonorepo: Action = {
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
