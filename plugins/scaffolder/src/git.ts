/**
 * Committing a scaffolded service on a new branch without touching anyone's checkout: the commit is built
 * with git plumbing (hash-object, a throwaway index, write-tree, commit-tree, update-ref), so HEAD, the
 * index and the working tree of the repository stay as they were. git runs with argument arrays and a
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

export async function branchExists(repo: string, branch: string): Promise<boolean> {
  try {
    await run(repo, ['show-ref', '--verify', '--quiet', `refs/heads/${branch}`]);
    return true;
  } catch {
    return false;
  }
}

export interface FileForCommit {
  /** Path inside the repository, POSIX. */
  path: string;
  mode: '100644' | '100755' | '120000';
  /** File bytes, or the link target for a symlink. */
  content: Buffer;
}

/**
 * Commit `files` on top of HEAD (the rest of the tree unchanged) as a new branch. Fails if the branch
 * exists. Returns the commit hash.
 */
export async function commitOnNewBranch(
  repo: string,
  branch: string,
  files: FileForCommit[],
  message: string,
  who: GitIdentity,
): Promise<string> {
  if (
    !/^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(branch) ||
    branch.includes('..') ||
    branch.endsWith('/') ||
    branch.endsWith('.lock')
  ) {
    throw new Error(`"${branch}" is not a branch name the scaffolder creates`);
  }
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
    const [parentOut, hashes] = await Promise.all([
      run(repo, ['rev-parse', '--verify', '--quiet', 'HEAD^{commit}']).catch(() => ''),
      run(repo, ['hash-object', '-w', '--no-filters', '--stdin-paths'], {}, `${paths.join('\n')}\n`),
    ]);
    const parent = parentOut.trim() || undefined;
    const shas = hashes.trim().split('\n');
    if (parent) await run(repo, ['read-tree', parent], env);
    const lines = files.map((f, i) => `${f.mode} ${shas[i]}\t${f.path}`);
    await run(repo, ['update-index', '--add', '--index-info'], env, `${lines.join('\n')}\n`);
    const tree = (await run(repo, ['write-tree'], env)).trim();
    const commit = (
      await run(repo, ['commit-tree', tree, ...(parent ? ['-p', parent] : []), '-m', message], env)
    ).trim();
    // The all-zero old value makes update-ref fail if someone created the branch meanwhile.
    await run(repo, ['update-ref', `refs/heads/${branch}`, commit, '0'.repeat(40)]);
    return commit;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Undo: delete the branch, only if it still points at our commit. */
export async function deleteBranch(repo: string, branch: string, commit: string): Promise<void> {
  await run(repo, ['update-ref', '-d', `refs/heads/${branch}`, commit]);
}
