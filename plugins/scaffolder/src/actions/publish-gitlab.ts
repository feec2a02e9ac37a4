/**
 * publish:gitlab, as Backstage's: find the namespace (group or user) the repoUrl's owner names, create the
 * project in it through GitLab's REST API (v4), then push the workspace as its first commit over HTTPS.
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
  'defaultBranch',
  'repoVisibility',
  'sourcePath',
  'gitCommitMessage',
  'gitAuthorName',
  'gitAuthorEmail',
  'topics',
  'token',
];

export const publishGitlab: Action = {
  id: 'publish:gitlab',
  description:
    'Create a GitLab project (repoUrl "gitlab.com?owner=group/sub&repo=r", description, repoVisibility private|internal|public, defaultBranch, topics) and push the workspace (sourcePath) as its first commit → remoteUrl, repoContentsUrl, projectId, commitHash',
  async handler(ctx) {
    const { host, owner, repo } = parseRepoUrlInput(ctx.input.repoUrl, `${ctx.field}.repoUrl`);
    const integration = integrationFor(ctx, 'gitlab', host);
    const token = tokenFor(ctx, integration);
    const branch = branchInput(ctx, 'defaultBranch', 'master');
    const visibility = ctx.input.repoVisibility ?? 'private';
    if (visibility !== 'private' && visibility !== 'internal' && visibility !== 'public')
      throw new ProviderError(`${ctx.field}.repoVisibility: must be private, internal or public`);
    const topics = ctx.input.topics ?? [];
    if (!Array.isArray(topics) || topics.some((t) => typeof t !== 'string' || !t || t.length > 255))
      throw new ProviderError(`${ctx.field}.topics: must be a list of strings`);
    logIgnored(ctx, KNOWN);
    const files = filesToPublish(ctx);
    const author = authorOf(ctx);
    const message =
      typeof ctx.input.gitCommitMessage === 'string' ? ctx.input.gitCommitMessage : 'initial commit';
    const gl = new ProviderClient(ctx, integration, token);
    const ns = await gl.send<{ id?: number; full_path?: string }>(
      'GET',
      `/namespaces/${encodeURIComponent(owner)}`,
      undefined,
      {
        allow404: true,
      },
    );
    if (!ctx.dryRun && typeof ns?.id !== 'number')
      throw new ProviderError(`${ctx.field}.repoUrl: namespace "${owner}" does not exist on ${host}`);
    const created = await gl.send<{ id?: number; http_url_to_repo?: string; web_url?: string }>(
      'POST',
      '/projects',
      {
        name: repo,
        path: repo,
        namespace_id: ns?.id ?? `<id of ${owner}>`,
        visibility,
        description: typeof ctx.input.description === 'string' ? ctx.input.description : '',
        default_branch: branch,
        ...(topics.length ? { topics } : {}),
      },
    );
    const webUrl = created?.web_url ?? `https://${host}/${owner}/${repo}`;
    const contentsUrl = `${webUrl}/-/blob/${branch}`;
    const remote = ctx.dryRun
      ? `${webUrl}.git`
      : checkRemote(integration, created?.http_url_to_repo, `${ctx.field}.repoUrl`);
    gl.recordPush({ remote, contentsUrl, branch, files: files.map((f) => f.path), message });
    ctx.output('remoteUrl', webUrl);
    if (created?.id !== undefined) ctx.output('projectId', created.id);
    if (ctx.dryRun) {
      ctx.log(`would push ${files.length} files to ${remote} as branch ${branch}`);
      return;
    }
    ctx.tx.onUndo(`delete the GitLab project ${owner}/${repo} this task created`, async () => {
      await gl.send('DELETE', `/projects/${created?.id}`);
    });
    const commitHash = await pushInitialCommit({
      remote,
      branch,
      files: commitFilesOf(files),
      message,
      who: author,
      authorization: `Basic ${Buffer.from(`oauth2:${token}`).toString('base64')}`,
    });
    ctx.output('commitHash', commitHash);
    ctx.log(`pushed ${files.length} files to ${webUrl} (${branch} at ${commitHash.slice(0, 12)})`);
  },
};
