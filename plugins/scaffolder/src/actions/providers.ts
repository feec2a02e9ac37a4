/**
 * The git providers the publish actions talk to (GitHub, GitLab), as Backstage's `integrations` config:
 * each host with its API base URL and token. Only configured hosts are ever called (the allow-list), the
 * token goes only to its own host, redirects are not followed, answers are size-capped, and a dry-run
 * sends nothing: every request it would send is recorded (method, URL, body) without the token.
 */
import { readFileSync } from 'node:fs';
import { InputError } from '@bank/plugin-kit';
import { parse } from 'yaml';
import type { FileForCommit, GitIdentity } from '../git.ts';
import type { ActionContext } from '../types.ts';

export type ProviderType = 'github' | 'gitlab';

export interface Integration {
  type: ProviderType;
  /** The host repoUrl names (`github.com`, `git.bank.internal`, `127.0.0.1:8080`). */
  host: string;
  /** REST API root: `https://api.github.com`, `https://<host>/api/v3`, `https://<host>/api/v4`. */
  apiBaseUrl: string;
  token?: string;
}

/** A request a provider action sends (or, in a dry-run, would send): never holds the token. */
export interface OutboundRequest {
  method: string;
  url: string;
  body?: unknown;
  /** What the request is for, when it is not plain from the URL. */
  note?: string;
}

export class ProviderError extends InputError {}

const list = (v: string | undefined) =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/**
 * Integrations from the environment: `GITHUB_TOKEN` for github.com, `GITLAB_TOKEN` for gitlab.com and
 * `PORTAL_GITLAB_HOSTS` (as the URL reader), and `PORTAL_INTEGRATIONS_FILE`: a YAML file in Backstage's
 * app-config shape (`integrations: {github: [{host, apiBaseUrl, token}], gitlab: [...]}`), where a token
 * may be written `${ENV_VAR}` so the file itself holds no secret.
 */
export function integrationsFromEnv(env: NodeJS.ProcessEnv = process.env): Integration[] {
  const out: Integration[] = [];
  const file = env.PORTAL_INTEGRATIONS_FILE?.trim();
  if (file) {
    let doc: unknown;
    try {
      doc = parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new Error(`PORTAL_INTEGRATIONS_FILE ${file}: ${(err as Error).message}`);
    }
    const root = ((doc as { integrations?: unknown })?.integrations ?? doc) as Record<string, unknown>;
    for (const type of ['github', 'gitlab'] as const) {
      const entries = root?.[type];
      if (entries === undefined) continue;
      if (!Array.isArray(entries)) throw new Error(`${file}: integrations.${type} must be a list`);
      for (const [i, raw] of entries.entries()) {
        const e = raw as { host?: unknown; apiBaseUrl?: unknown; token?: unknown };
        if (typeof e?.host !== 'string' || !e.host)
          throw new Error(`${file}: integrations.${type}[${i}].host is required`);
        const token =
          typeof e.token === 'string'
            ? e.token.replace(/^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/, (_, name: string) => env[name] ?? '')
            : undefined;
        out.push({
          type,
          host: e.host.toLowerCase(),
          apiBaseUrl:
            typeof e.apiBaseUrl === 'string' && e.apiBaseUrl ? e.apiBaseUrl : defaultApiBase(type, e.host),
          token: token || undefined,
        });
      }
    }
  }
  const has = (host: string) => out.some((i) => i.host === host);
  if (env.GITHUB_TOKEN && !has('github.com'))
    out.push({
      type: 'github',
      host: 'github.com',
      apiBaseUrl: 'https://api.github.com',
      token: env.GITHUB_TOKEN,
    });
  if (env.GITLAB_TOKEN)
    for (const h of ['gitlab.com', ...list(env.PORTAL_GITLAB_HOSTS)].map((x) => x.toLowerCase()))
      if (!has(h))
        out.push({
          type: 'gitlab',
          host: h,
          apiBaseUrl: defaultApiBase('gitlab', h),
          token: env.GITLAB_TOKEN,
        });
  for (const i of out) {
    const u = new URL(i.apiBaseUrl);
    if (u.protocol !== 'https:' && u.protocol !== 'http:')
      throw new Error(`integration ${i.host}: apiBaseUrl must be http(s), got ${u.protocol}`);
    i.apiBaseUrl = i.apiBaseUrl.replace(/\/+$/, '');
  }
  return out;
}

function defaultApiBase(type: ProviderType, host: string): string {
  if (type === 'github') return host === 'github.com' ? 'https://api.github.com' : `https://${host}/api/v3`;
  return `https://${host}/api/v4`;
}

/** `github.com?owner=o&repo=r` (RepoUrlPicker's value) → its parts, every one checked. */
export function parseRepoUrlInput(
  value: unknown,
  field: string,
): { host: string; owner: string; repo: string } {
  if (typeof value !== 'string' || !value.includes('?'))
    throw new ProviderError(
      `${field}: must be like "github.com?owner=o&repo=r", got ${JSON.stringify(value)}`,
    );
  const q = value.indexOf('?');
  const host = value.slice(0, q).toLowerCase();
  const params = new URLSearchParams(value.slice(q + 1));
  const owner = params.get('owner') ?? params.get('organization') ?? '';
  const repo = params.get('repo') ?? '';
  if (!/^[a-z0-9.-]+(:\d{1,5})?$/.test(host))
    throw new ProviderError(`${field}: "${host}" is not a host name`);
  // Owners may be GitLab group paths (a/b/c); no segment may be empty, "." or "..", or carry "%".
  const okOwner = owner.split('/').every((s) => /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(s) && s !== '..');
  if (!owner || !okOwner)
    throw new ProviderError(`${field}: owner "${owner}" is not a valid owner or group path`);
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(repo) || repo.endsWith('.git') || repo === '..')
    throw new ProviderError(`${field}: repo "${repo}" is not a valid repository name`);
  return { host, owner, repo };
}

/** The configured integration for `host` and `type`, or a clear refusal naming what is configured. */
export function integrationFor(ctx: ActionContext, type: ProviderType, host: string): Integration {
  const all = ctx.env.integrations ?? [];
  const found = all.find((i) => i.type === type && i.host === host);
  if (found) return found;
  const known = all.filter((i) => i.type === type).map((i) => i.host);
  if (ctx.dryRun) {
    // A preview still shows what would be sent, to the provider's usual API; the real run is refused.
    ctx.log(
      `warning: ${host} is not a configured ${type} integration (${known.join(', ') || 'none'}); a real run would be refused`,
    );
    return { type, host, apiBaseUrl: defaultApiBase(type, host) };
  }
  throw new ProviderError(
    `${ctx.field}.repoUrl: host ${host} is not a configured ${type} integration (${known.join(', ') || `none; set ${type === 'github' ? 'GITHUB_TOKEN' : 'GITLAB_TOKEN'} or PORTAL_INTEGRATIONS_FILE`})`,
  );
}

/** The token for a request: the step's `token` input (Backstage's `${{ secrets.… }}`) or the integration's. */
export function tokenFor(ctx: ActionContext, integration: Integration): string {
  const given = ctx.input.token;
  const token = typeof given === 'string' && given ? given : integration.token;
  if (!token && !ctx.dryRun)
    throw new ProviderError(
      `${ctx.field}: no token for ${integration.host} (integration config or the token input)`,
    );
  return token ?? '';
}

const MAX_ANSWER = 4 * 1024 * 1024;
const TIMEOUT_MS = 30_000;

/**
 * A REST client for one integration in one step. In a dry-run `send` records and returns undefined;
 * every request, real or not, is kept in `requests` (no token) and logged.
 */
export class ProviderClient {
  readonly requests: OutboundRequest[] = [];
  constructor(
    private readonly ctx: ActionContext,
    readonly integration: Integration,
    private readonly token: string,
  ) {}

  url(path: string): string {
    return `${this.integration.apiBaseUrl}${path}`;
  }

  private headers(): Record<string, string> {
    const h: Record<string, string> = { accept: 'application/json', 'user-agent': 'bank-portal-scaffolder' };
    if (this.integration.type === 'github') {
      h.accept = 'application/vnd.github+json';
      h['x-github-api-version'] = '2022-11-28';
      if (this.token) h.authorization = `Bearer ${this.token}`;
    } else if (this.token) h['private-token'] = this.token;
    return h;
  }

  /**
   * A new repository's first push, as both publish actions record it: the `git push` beside the API requests
   * (to the clone URL the provider answered, or in a dry-run the web URL's), and where catalog:register finds
   * the pushed descriptor (`repoContentsUrl` → the workspace's `sourcePath`). Outputs `requests` and
   * `repoContentsUrl`; the action outputs its own `remoteUrl`.
   */
  recordPush(push: {
    remote: string;
    contentsUrl: string;
    branch: string;
    files: string[];
    message: string;
  }): void {
    this.requests.push({
      method: 'git push',
      url: push.remote,
      body: { branch: push.branch, files: push.files, message: push.message },
      note: this.ctx.dryRun
        ? 'to the clone URL the provider answers; git over HTTPS, the token as an Authorization header'
        : 'git over HTTPS, the token as an Authorization header',
    });
    const { sourcePath } = this.ctx.input;
    this.ctx.published.set(push.contentsUrl, typeof sourcePath === 'string' ? sourcePath : '');
    this.ctx.output('requests', this.requests);
    this.ctx.output('repoContentsUrl', push.contentsUrl);
  }

  /** Record (and in a real run send) a request; answers the parsed JSON, or throws with the provider's message. */
  async send<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    opts: { note?: string; allow404?: boolean } = {},
  ): Promise<T | undefined> {
    const url = this.url(path);
    const rec: OutboundRequest = {
      method,
      url,
      ...(body !== undefined ? { body } : {}),
      ...(opts.note ? { note: opts.note } : {}),
    };
    this.requests.push(rec);
    this.ctx.log(
      `${this.ctx.dryRun ? 'would send' : 'sending'} ${method} ${url}${opts.note ? ` (${opts.note})` : ''}`,
    );
    if (this.ctx.dryRun) return undefined;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: { ...this.headers(), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        redirect: 'manual',
        signal: this.ctx.signal
          ? AbortSignal.any([this.ctx.signal, AbortSignal.timeout(TIMEOUT_MS)])
          : AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (err) {
      throw new ProviderError(`${method} ${url}: ${(err as Error).message}`);
    }
    const text = await readCapped(res, `${method} ${url}`);
    if (res.status === 404 && opts.allow404) return undefined;
    if (res.status >= 300 && res.status < 400)
      throw new ProviderError(
        `${method} ${url}: answered a redirect (${res.status}); redirects are not followed`,
      );
    if (!res.ok) {
      let message = text.slice(0, 500);
      try {
        const j = JSON.parse(text) as { message?: unknown; error?: unknown };
        message = JSON.stringify(j.message ?? j.error ?? j).slice(0, 500);
      } catch {}
      throw new ProviderError(`${method} ${url}: HTTP ${res.status} ${message}`);
    }
    if (!text) return {} as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ProviderError(`${method} ${url}: the answer is not JSON`);
    }
  }
}

async function readCapped(res: Response, what: string): Promise<string> {
  if (Number(res.headers.get('content-length')) > MAX_ANSWER) {
    await res.body?.cancel();
    throw new ProviderError(`${what}: answer over ${MAX_ANSWER} bytes`);
  }
  const reader = res.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > MAX_ANSWER) {
      await reader.cancel();
      throw new ProviderError(`${what}: answer over ${MAX_ANSWER} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * A git remote the provider answered with may be pushed to only on the integration's own host (the
 * token goes with the push): anything else is refused rather than sent the credentials.
 */
export function checkRemote(integration: Integration, remote: unknown, what: string): string {
  if (typeof remote !== 'string') throw new ProviderError(`${what}: the provider answered no clone URL`);
  let u: URL;
  try {
    u = new URL(remote);
  } catch {
    throw new ProviderError(`${what}: clone URL "${remote}" is not a URL`);
  }
  const api = new URL(integration.apiBaseUrl);
  const hosts = new Set([integration.host, api.host]);
  if (integration.host === 'github.com') hosts.add('github.com');
  if ((u.protocol !== 'https:' && u.protocol !== 'http:') || u.username || u.password || !hosts.has(u.host))
    throw new ProviderError(
      `${what}: clone URL ${u.protocol}//${u.host}${u.pathname} is not on ${integration.host}; not pushing the token there`,
    );
  return u.toString();
}

/** The files of the workspace under `sourcePath`, for publishing. */
export function filesToPublish(ctx: ActionContext): ReturnType<ActionContext['workspace']['list']> {
  const src = ctx.input.sourcePath;
  const source = typeof src === 'string' ? src : '';
  const files = ctx.workspace.list(source);
  if (files.length === 0 && ctx.dryRun && ctx.skipped?.length) {
    // A step this dry-run skipped (its action is not here) would have written them: show the requests anyway.
    ctx.log(
      `warning: the workspace has no files under ./${source}; skipped step(s) ${ctx.skipped.join(', ')} would have written them`,
    );
    return files;
  }
  if (files.length === 0)
    throw new ProviderError(`${ctx.field}.sourcePath: the workspace has no files under ./${source}`);
  return files;
}

/** Inputs Backstage's action takes that this one does not act on: logged, so nobody thinks they applied. */
export function logIgnored(ctx: ActionContext, known: string[]): void {
  const ignored = Object.keys(ctx.input).filter((k) => !known.includes(k));
  if (ignored.length) ctx.log(`inputs not supported here, ignored: ${ignored.sort().join(', ')}`);
}

/** Workspace entries as files for a git commit (links kept as links, modes kept). */
export function commitFilesOf(files: ReturnType<ActionContext['workspace']['list']>): FileForCommit[] {
  return files.map((f) => ({
    path: f.path,
    mode: f.entry.kind === 'symlink' ? '120000' : f.entry.executable ? '100755' : '100644',
    content: f.entry.kind === 'symlink' ? Buffer.from(f.entry.target) : f.entry.content,
  }));
}

/** A branch name git and the providers accept; anything else (`..`, `~`, `:`, leading `-`…) is refused. */
export function branchInput(ctx: ActionContext, key: string, fallback: string): string {
  const v = ctx.input[key];
  const name = v === undefined || v === null || v === '' ? fallback : v;
  if (
    typeof name !== 'string' ||
    !/^[A-Za-z0-9._/-]{1,200}$/.test(name) ||
    name.startsWith('-') ||
    name.startsWith('/') ||
    name.endsWith('/') ||
    name.endsWith('.lock') ||
    name.includes('..') ||
    name.includes('//') ||
    name.split('/').some((s) => s.startsWith('.'))
  )
    throw new ProviderError(`${ctx.field}.${key}: ${JSON.stringify(name)} is not a valid branch name`);
  return name;
}

/** The commit author: the step's gitAuthorName/Email, else the person who ran the task. */
export function authorOf(ctx: ActionContext): GitIdentity {
  const who = ctx.actor.id.replace(/^[a-z]+:(default\/)?/, '');
  const name =
    typeof ctx.input.gitAuthorName === 'string' && ctx.input.gitAuthorName
      ? ctx.input.gitAuthorName
      : `${who} (portal scaffolder)`;
  const email =
    typeof ctx.input.gitAuthorEmail === 'string' && ctx.input.gitAuthorEmail
      ? ctx.input.gitAuthorEmail
      : `${who.replace(/[^A-Za-z0-9._-]/g, '-')}@portal.bank.internal`;
  if (/[\n\r<>\0]/.test(name + email))
    throw new ProviderError(`${ctx.field}: gitAuthorName/gitAuthorEmail hold forbidden characters`);
  return { name, email };
}
