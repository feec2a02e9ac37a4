/**
 * publish:github:pull-request, as Backstage's: the workspace (sourcePath) is committed onto a new branch
 * of an existing repository (at targetPath) and a pull request opened against targetBranchName (default:
 * the repository's default branch). Built entirely with GitHub's REST API (git data: blobs, a tree on the
 * base commit's tree, a commit, the branch ref; then the pull), as Backstage's octokit plugin does, so
 * nothing is cloned. A dry-run sends nothing and records every request it would send.
 */
import path from 'node:path';
import { safeRelative } from '../paths.ts';
import type { Action } from '../types.ts';
import {
  authorOf,
  branchInput,
  commitFilesOf,
  filesToPublish,
  integrationFor,
  logIgnored,
  ProviderClient,
  ProviderError,
  parseRepoUrlInput,
  tokenFor,
} from './providers.ts';

const KNOWN = [
  'repoUrl',
  'branchName',
  'title',
  'description',
  'targetBranchName',
  'draft',
  'targetPath',
  'sourcePath',
  'token',
  'reviewers',
  'teamReviewers',
  'commitMessage',
  'gitAuthorName',
  'gitAuthorEmail',
];

const names = (v: unknown, field: string): string[] => {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(x)))
    throw new ProviderError(`${field}: must be a list of GitHub logins`);
  return v as string[];
};

export const githubPullRequest: Action = {
  id: 'publish:github:pull-request',
  description:
    'Commit the workspace (sourcePath) into an existing GitHub repository (repoUrl) at targetPath on a new branch (branchName) and open a pull request (title, description, targetBranchName, draft, reviewers, teamReviewers) → remoteUrl, pullRequestNumber, targetBranchName',
  async handler(ctx) {
    const { host, owner, repo } = parseRepoUrlInput(ctx.input.repoUrl, `${ctx.field}.repoUrl`);
    const integration = integrationFor(ctx, 'github', host);
    const token = tokenFor(ctx, integration);
    const branch = branchInput(ctx, 'branchName', '');
    const title = ctx.input.title;
    if (typeof title !== 'string' || !title.trim())
      throw new ProviderError(`${ctx.field}.title: is required`);
    const description = typeof ctx.input.description === 'string' ? ctx.input.description : '';
    const targetPath = safeRelative(
      typeof ctx.input.targetPath === 'string' ? ctx.input.targetPath : '.',
      `${ctx.field}.targetPath`,
    );
    const reviewers = names(ctx.input.reviewers, `${ctx.field}.reviewers`);
    const teamReviewers = names(ctx.input.teamReviewers, `${ctx.field}.teamReviewers`);
    logIgnored(ctx, KNOWN);
    const files = commitFilesOf(filesToPublish(ctx));
    const author = authorOf(ctx);
    const message =
      typeof ctx.input.commitMessage === 'string' && ctx.input.commitMessage
        ? ctx.input.commitMessage
        : title;
    const gh = new ProviderClient(ctx, integration, token);
    const r = `/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}`;

    let base = ctx.input.targetBranchName ? branchInput(ctx, 'targetBranchName', '') : undefined;
    if (!base) {
      const info = await gh.send<{ default_branch?: string }>('GET', r);
      base = ctx.dryRun ? '<default branch>' : info?.default_branch;
      if (!base) throw new ProviderError(`${ctx.field}.repoUrl: ${owner}/${repo} answered no default branch`);
    }
    const ref = await gh.send<{ object?: { sha?: string } }>('GET', `${r}/git/ref/heads/${base}`);
    const baseSha = ctx.dryRun ? '<sha of the base branch>' : ref?.object?.sha;
    if (!baseSha)
      throw new ProviderError(`${ctx.field}.targetBranchName: branch ${base} not found in ${owner}/${repo}`);
    const baseCommit = await gh.send<{ tree?: { sha?: string } }>('GET', `${r}/git/commits/${baseSha}`);
    const baseTree = ctx.dryRun ? '<tree of the base commit>' : baseCommit?.tree?.sha;
    const tree: { path: string; mode: string; type: 'blob'; sha: string }[] = [];
    for (const f of files) {
      const blob = await gh.send<{ sha?: string }>(
        'POST',
        `${r}/git/blobs`,
        ctx.dryRun
          ? { encoding: 'base64', content: `<${f.content.length} bytes of ${f.path}, base64>` }
          : { encoding: 'base64', content: f.content.toString('base64') },
      );
      tree.push({
        path: targetPath ? path.posix.join(targetPath, f.path) : f.path,
        mode: f.mode,
        type: 'blob',
        sha: ctx.dryRun ? `<sha of the blob of ${f.path}>` : String(blob?.sha),
      });
    }
    const newTree = await gh.send<{ sha?: string }>('POST', `${r}/git/trees`, { base_tree: baseTree, tree });
    const commit = await gh.send<{ sha?: string }>('POST', `${r}/git/commits`, {
      message,
      tree: ctx.dryRun ? '<the new tree>' : newTree?.sha,
      parents: [baseSha],
      author: { name: author.name, email: author.email },
    });
    const commitSha = ctx.dryRun ? '<the new commit>' : commit?.sha;
    await gh.send('POST', `${r}/git/refs`, { ref: `refs/heads/${branch}`, sha: commitSha });
    if (!ctx.dryRun)
      ctx.tx.onUndo(`delete branch ${branch} of ${owner}/${repo}`, async () => {
        await gh.send('DELETE', `${r}/git/refs/heads/${branch}`);
      });
    const pull = await gh.send<{ number?: number; html_url?: string }>('POST', `${r}/pulls`, {
      title,
      body: description,
      head: branch,
      base,
      draft: ctx.input.draft === true,
    });
    if (!ctx.dryRun && pull?.number !== undefined)
      ctx.tx.onUndo(`close pull request #${pull.number} of ${owner}/${repo}`, async () => {
        await gh.send('PATCH', `${r}/pulls/${pull.number}`, { state: 'closed' });
      });
    if (reviewers.length || teamReviewers.length)
      await gh.send('POST', `${r}/pulls/${ctx.dryRun ? '<number>' : pull?.number}/requested_reviewers`, {
        reviewers,
        team_reviewers: teamReviewers,
      });
    ctx.output('requests', gh.requests);
    ctx.output('targetBranchName', base);
    if (ctx.dryRun) {
      ctx.log(
        `would open a pull request from ${branch} into ${base} of ${owner}/${repo} with ${files.length} files`,
      );
      return;
    }
    ctx.output('remoteUrl', pull?.html_url);
    ctx.output('pullRequestNumber', pull?.number);
    ctx.output('commitHash', commitSha);
    ctx.log(`opened pull request #${pull?.number} (${pull?.html_url})`);
  },
};
