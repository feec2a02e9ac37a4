/**
 * Committing a scaffolded service where it was written: on the checked-out branch, built with git plumbing
 * (hash-object, a throwaway index, write-tree, commit-tree, update-ref with the old value), so nothing
 * else a person has staged or changed is swept into the commit. git runs with argument arrays and a
 * minimal environment; nothing a template or a parameter says reaches git's configuration.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface GitIdentity {
  name: string;
  email: string;
}

function run(
  cwd: string,
  args: string[],
  env: Record<string, string> = {},
  input?: string | Buffer,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'git',
      ['-c', 'core.hooksPath=/dev/null', '-c', 'commit.gpgSign=false', ...args],
      {
        cwd,
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: process.env.HOME ?? '/tmp',
          LANG: 'C',
          GIT_TERMINAL_PROMPT: '0',
          ...env,
        } as unknown as NodeJS.ProcessEnv,
        maxBuffer: 64 * 1024 * 1024,
      },
      (err: Error | null, stdout: string, stderr: string) => {
        if (err) reject(new Error(`git ${args[0]} failed: ${stderr.trim() || err.message}`));
        else resolve(stdout);
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

const topLevels = new Map<string, string | undefined>();

/** The repository's top level if `dir` is the top of a git work tree, else undefined (cached per directory). */
export async function gitTopLevel(dir: string): Promise<string | undefined> {
  if (topLevels.has(dir)) return topLevels.get(dir);
  let found: string | undefined;
  try {
    const top = (await run(dir, ['rev-parse', '--show-toplevel'])).trim();
    found = realpathSync(top) === realpathSync(dir) ? top : undefined;
  } catch {
    found = undefined;
  }
  topLevels.set(dir, found);
  return found;
}

export interface FileForCommit {
  /** Path inside the repository, POSIX. */
  path: string;
  mode: '100644' | '100755' | '120000';
  /** File bytes, or the link target for a symlink. */
  content: Buffer;
}

export interface CommitResult {
  /** The branch HEAD is on (its short name), or undefined when HEAD is detached. */
  branch: string | undefined;
  commit: string;
  /** HEAD before the commit (undefined in a repository without commits). */
  parent: string | undefined;
}

/**
 * Commit `files` on top of HEAD, on the branch that is checked out, so the files written into the working
 * tree are committed where they are and nothing is left untracked. The tree is built in a throwaway index
 * (the rest of the tree as HEAD has it, so someone's unrelated staged work is not swept into the commit);
 * the branch moves only if it still points where it did (update-ref with the old value); then the real
 * index takes the new files' entries, so `git status` shows them committed and leaves other changes as
 * they were.
 */
export async function commitOnCurrentBranch(
  repo: string,
  files: FileForCommit[],
  message: string,
  who: GitIdentity,
): Promise<CommitResult> {
  const tmp = mkdtempSync(path.join(tmpdir(), 'scaffold-index-'));
  const env = {
    GIT_INDEX_FILE: path.join(tmp, 'index'),
    GIT_AUTHOR_NAME: who.name,
    GIT_AUTHOR_EMAIL: who.email,
    GIT_COMMITTER_NAME: who.name,
    GIT_COMMITTER_EMAIL: who.email,
  };
  try {
    // Blobs in one process: each file's bytes go to a temp file, hashed with --stdin-paths.
    const blobDir = path.join(tmp, 'blobs');
    mkdirSync(blobDir);
    const paths = files.map((f, i) => {
      const p = path.join(blobDir, String(i));
      writeFileSync(p, f.content);
      return p;
    });
    const [parentOut, branchOut, hashes] = await Promise.all([
      run(repo, ['rev-parse', '--verify', '--quiet', 'HEAD^{commit}']).catch(() => ''),
      run(repo, ['symbolic-ref', '--quiet', '--short', 'HEAD']).catch(() => ''),
      run(repo, ['hash-object', '-w', '--no-filters', '--stdin-paths'], {}, `${paths.join('\n')}\n`),
    ]);
    const parent = parentOut.trim() || undefined;
    const branch = branchOut.trim() || undefined;
    const shas = hashes.trim().split('\n');
    if (parent) await run(repo, ['read-tree', parent], env);
    const lines = files.map((f, i) => `${f.mode} ${shas[i]}\t${f.path}`);
    await run(repo, ['update-index', '--add', '--index-info'], env, `${lines.join('\n')}\n`);
    const tree = (await run(repo, ['write-tree'], env)).trim();
    const commit = (
      await run(repo, ['commit-tree', tree, ...(parent ? ['-p', parent] : []), '-m', message], env)
    ).trim();
    // The old value makes update-ref fail if someone committed meanwhile (all zeros: no commit yet).
    await run(repo, ['update-ref', '-m', 'portal scaffolder', 'HEAD', commit, parent ?? '0'.repeat(40)]);
    await run(repo, ['update-index', '--add', '--index-info'], {}, `${lines.join('\n')}\n`);
    return { branch, commit, parent };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Undo: move the branch back to `parent`, only if it still points at our commit, and give the index back
 * the entries `parent` has for those paths (none for new files).
 */
export async function undoCommit(repo: string, done: CommitResult, paths: string[]): Promise<void> {
  if (done.parent)
    await run(repo, ['update-ref', '-m', 'portal scaffolder: rolled back', 'HEAD', done.parent, done.commit]);
  else await run(repo, ['update-ref', '-d', 'HEAD', done.commit]);
  if (paths.length === 0) return;
  if (done.parent) await run(repo, ['reset', '-q', done.parent, '--', ...paths]);
  else await run(repo, ['rm', '-q', '--cached', '--ignore-unmatch', '-r', '--', ...paths]);
}

/** The checked-out branch's short name, or undefined when HEAD is detached. */
export async function currentBranch(repo: string): Promise<string | undefined> {
  return (
    (await run(repo, ['symbolic-ref', '--quiet', '--short', 'HEAD']).catch(() => '')).trim() || undefined
  );
}

/**
 * The repository's web address for links to a branch and a commit (`PORTAL_REPO_URL`, e.g.
 * https://git.bank.internal/bank/estate); undefined when unset or not http(s).
 */
export function repoWebUrl(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const raw = env.PORTAL_REPO_URL?.trim();
  if (!raw) return undefined;
  try {
    const u = new URL(raw);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') return undefined;
    return u.href.replace(/\/+$/, '');
  } catch {
    return undefined;
  }
}

/**
 * Push `files` as the first commit of `branch` to an empty remote repository (publish:github/gitlab).
 * The commit is built in a throwaway repository with plumbing; the credentials travel only as an
 * `http.extraHeader` set through git's environment (never in the URL, the argument list, a config file
 * or the log), and no system or global git configuration, hook or credential helper is read.
 */
export async function pushInitialCommit(opts: {
  remote: string;
  branch: string;
  files: FileForCommit[];
  message: string;
  who: GitIdentity;
  /** The full header value, e.g. `Basic …`. */
  authorization?: string;
}): Promise<string> {
  const tmp = mkdtempSync(path.join(tmpdir(), 'scaffold-push-'));
  const env: Record<string, string> = {
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_AUTHOR_NAME: opts.who.name,
    GIT_AUTHOR_EMAIL: opts.who.email,
    GIT_COMMITTER_NAME: opts.who.name,
    GIT_COMMITTER_EMAIL: opts.who.email,
    GIT_CONFIG_COUNT: opts.authorization ? '2' : '1',
    GIT_CONFIG_KEY_0: 'credential.helper',
    GIT_CONFIG_VALUE_0: '',
    ...(opts.authorization
      ? { GIT_CONFIG_KEY_1: 'http.extraHeader', GIT_CONFIG_VALUE_1: `Authorization: ${opts.authorization}` }
      : {}),
  };
  try {
    await run(tmp, ['init', '-q', '--bare', '.'], env);
    const blobDir = path.join(tmp, 'scaffold-blobs');
    mkdirSync(blobDir);
    const paths = opts.files.map((f, i) => {
      const p = path.join(blobDir, String(i));
      writeFileSync(p, f.content);
      return p;
    });
    const hashes = opts.files.length
      ? await run(tmp, ['hash-object', '-w', '--no-filters', '--stdin-paths'], env, `${paths.join('\n')}\n`)
      : '';
    const shas = hashes.trim().split('\n');
    const lines = opts.files.map((f, i) => `${f.mode} ${shas[i]}\t${f.path}`);
    const idx = { ...env, GIT_INDEX_FILE: path.join(tmp, 'scaffold-index') };
    await run(tmp, ['update-index', '--add', '--index-info'], idx, `${lines.join('\n')}\n`);
    const tree = (await run(tmp, ['write-tree'], idx)).trim();
    const commit = (await run(tmp, ['commit-tree', tree, '-m', opts.message], env)).trim();
    // An empty new repository: the branch must not exist there yet (no force, so nothing is overwritten).
    await run(
      tmp,
      ['push', '--quiet', '--porcelain', opts.remote, `${commit}:refs/heads/${opts.branch}`],
      env,
    );
    return commit;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
