/**
 * publish:github, as Backstage's: create the repository (in the organisation, or for the token's user when
 * the owner is a user) through GitHub's REST API, then push the workspace as its first commit over HTTPS.
 * A dry-run sends nothing and records every request it would send.
 */
import { pushInitialCommit } from '../git.ts';
import type { Action } from '../types.ts';
import {
  authorOf,
  branchInput,
  checkRemote,
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
  'description',
  'homepage',
  'defaultBranch',
  'repoVisibility',
  'sourcePath',
  'gitCommitMessage',
  'gitAuthorName',
  'gitAuthorEmail',
  'topics',
  'token',
  'deleteBranchOnMerge',
  'allowMergeCommit',
  'allowSquashMerge',
  'allowRebaseMerge',
  'hasIssues',
  'hasWiki',
  'hasProjects',
];

export const publishGithub: Action = {
  id: 'publish:github',
  description:
    'Create a GitHub repository (repoUrl "github.com?owner=o&repo=r", description, repoVisibility private|internal|public, defaultBranch, topics, homepage) and push the workspace (sourcePath) as its first commit → remoteUrl, repoContentsUrl, commitHash',
  async handler(ctx) {
    const { host, owner, repo } = parseRepoUrlInput(ctx.input.repoUrl, `${ctx.field}.repoUrl`);
    const integration = integrationFor(ctx, 'github', host);
    const token = tokenFor(ctx, integration);
    const branch = branchInput(ctx, 'defaultBranch', 'master');
    const visibility = ctx.input.repoVisibility ?? 'private';
    if (visibility !== 'private' && visibility !== 'internal' && visibility !== 'public')
      throw new ProviderError(`${ctx.field}.repoVisibility: must be private, internal or public`);
    const topics = ctx.input.topics ?? [];
    if (
      !Array.isArray(topics) ||
      topics.some((t) => typeof t !== 'string' || !/^[a-z0-9][a-z0-9-]{0,49}$/.test(t))
    )
      throw new ProviderError(
        `${ctx.field}.topics: must be a list of GitHub topics (lower case, digits, "-")`,
      );
    logIgnored(ctx, KNOWN);
    const files = filesToPublish(ctx);
    const author = authorOf(ctx);
    const message =
      typeof ctx.input.gitCommitMessage === 'string' ? ctx.input.gitCommitMessage : 'initial commit';
    const gh = new ProviderClient(ctx, integration, token);
    const body: Record<string, unknown> = {
      name: repo,
      private: visibility !== 'public',
      ...(visibility === 'internal' ? { visibility: 'internal' } : {}),
      description: typeof ctx.input.description === 'string' ? ctx.input.description : '',
      ...(typeof ctx.input.homepage === 'string' ? { homepage: ctx.input.homepage } : {}),
      ...Object.fromEntries(
        [
          'deleteBranchOnMerge',
          'allowMergeCommit',
          'allowSquashMerge',
          'allowRebaseMerge',
          'hasIssues',
          'hasWiki',
          'hasProjects',
        ]
          .filter((k) => typeof ctx.input[k] === 'boolean')
          .map((k) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), ctx.input[k]]),
      ),
    };
    // Backstage asks whether the owner is an organisation or a user; the answer picks the endpoint.
    const who = await gh.send<{ type?: string }>('GET', `/users/${encodeURIComponent(owner)}`);
    const isOrg = ctx.dryRun ? true : who?.type === 'Organization';
    if (!ctx.dryRun && who?.type === 'User') {
      const me = await gh.send<{ login?: string }>('GET', '/user');
      if (me?.login?.toLowerCase() !== owner.toLowerCase())
        throw new ProviderError(
          `${ctx.field}.repoUrl: ${owner} is a user other than the token's (${me?.login}); GitHub creates user repositories only for the token's user`,
        );
    }
    const created = await gh.send<{ clone_url?: string; html_url?: string; full_name?: string }>(
      'POST',
      isOrg ? `/orgs/${encodeURIComponent(owner)}/repos` : '/user/repos',
      body,
      ctx.dryRun ? { note: `if ${owner} is a user: POST ${gh.url('/user/repos')}` } : {},
    );
    if (topics.length)
      await gh.send('PUT', `/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}/topics`, {
        names: topics,
      });
    const htmlUrl = created?.html_url ?? `https://${host}/${owner}/${repo}`;
    const contentsUrl = `${htmlUrl}/blob/${branch}`;
    const remote = ctx.dryRun
      ? `${htmlUrl}.git`
      : checkRemote(integration, created?.clone_url, `${ctx.field}.repoUrl`);
    gh.recordPush({ remote, contentsUrl, branch, files: files.map((f) => f.path), message });
    ctx.output('remoteUrl', remote);
    if (ctx.dryRun) {
      ctx.log(`would push ${files.length} files to ${remote} as branch ${branch}`);
      return;
    }
    ctx.tx.onUndo(`delete the GitHub repository ${owner}/${repo} this task created`, async () => {
      await gh.send('DELETE', `/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}`);
    });
    const commitHash = await pushInitialCommit({
      remote,
      branch,
      files: commitFilesOf(files),
      message,
      who: author,
      authorization: `Basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`,
    });
    ctx.output('commitHash', commitHash);
    ctx.log(`pushed ${files.length} files to ${htmlUrl} (${branch} at ${commitHash.slice(0, 12)})`);
  },
};
