/**
 * Test helpers for the actions: a context over an in-memory workspace, and a local stand-in for GitHub
 * and GitLab. The provider REST APIs cannot run here, so `startProviderDouble` is a TEST DOUBLE: a real
 * HTTP server on 127.0.0.1 answering the endpoints the actions call with the shapes GitHub (REST
 * 2022-11-28) and GitLab (API v4) document, recorded from their answers (trimmed to the fields read).
 * The git side is real: pushes go over HTTP to Debian git's own `git http-backend`, run as a CGI program
 * behind the same server, into bare repositories the test then reads with git.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Template } from '../template.ts';
import { type ActionContext, type ScaffolderEnv, Transaction } from '../types.ts';
import { Workspace } from '../workspace.ts';
import type { Integration } from './providers.ts';

export function makeContext(
  input: Record<string, unknown>,
  opts: { dryRun?: boolean; workspace?: Workspace; env?: Partial<ScaffolderEnv>; tx?: Transaction } = {},
): ActionContext & { logs: string[]; outputs: Record<string, unknown> } {
  const logs: string[] = [];
  const outputs: Record<string, unknown> = {};
  return {
    input,
    field: 'spec.steps[0].input',
    stepId: 'publish',
    template: { name: 't', version: '1', dir: tmpdir(), dirName: 't' } as unknown as Template,
    workspace: opts.workspace ?? new Workspace(),
    env: {
      repoRoot: tmpdir(),
      templatesDir: tmpdir(),
      servicesDir: tmpdir(),
      catalog: {} as ScaffolderEnv['catalog'],
      ...opts.env,
    },
    dryRun: opts.dryRun === true,
    taskId: 'task-1',
    actor: { id: 'user:default/jane.doe' },
    tx: opts.tx ?? new Transaction(),
    published: new Map(),
    log: (m) => logs.push(m),
    output: (k, v) => {
      outputs[k] = v;
    },
    logs,
    outputs,
  };
}

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: unknown;
}

export interface ProviderDouble {
  url: string;
  host: string;
  /** REST calls received (git traffic not included). */
  received: ReceivedRequest[];
  /** Git requests received (path and the Authorization header). */
  gitRequests: { path: string; authorization?: string }[];
  /** Bare repositories by `owner/name`. */
  repoDir(fullName: string): string;
  git(fullName: string, ...args: string[]): string;
  /** Create a repository with one commit on `main` (for pull requests). */
  seedRepo(fullName: string, files: Record<string, string>): string;
  integration(type: 'github' | 'gitlab'): Integration;
  /** Answers to override, by "METHOD /path": status and JSON body. */
  overrides: Map<string, { status: number; body: unknown }>;
  close(): Promise<void>;
}

const TOKEN = 'ghp_test_double_token_0123456789';
export const DOUBLE_TOKEN = TOKEN;

/** Start the test double (see the file comment). `token` is the only credential it accepts. */
export async function startProviderDouble(token = TOKEN): Promise<ProviderDouble> {
  const root = realpathSync(mkdtempSync(path.join(tmpdir(), 'provider-double-')));
  const received: ReceivedRequest[] = [];
  const gitRequests: ProviderDouble['gitRequests'] = [];
  const overrides = new Map<string, { status: number; body: unknown }>();
  const bare = (full: string) => path.join(root, `${full}.git`);
  const gitIn = (dir: string, ...args: string[]) =>
    execFileSync('git', args, {
      cwd: dir,
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH,
        HOME: root,
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_CONFIG_GLOBAL: '/dev/null',
      } as unknown as NodeJS.ProcessEnv,
    });
  const createBare = (full: string) => {
    mkdirSync(bare(full), { recursive: true });
    gitIn(bare(full), 'init', '-q', '--bare', '.');
  };
  let base = '';
  const pulls: Record<string, unknown>[] = [];
  const objects = new Map<string, unknown>();
  let seq = 0;
  const sha = () => (++seq).toString(16).padStart(40, 'a');

  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://double');
    const chunks: Buffer[] = [];
    if (u.pathname.startsWith('/git/')) return gitCgi(req, res, u);
    // A public repository's file as its web page serves it (GET /<owner>/<repo>/blob/<ref>/<path>).
    const blob = /^\/([^/]+\/[^/]+)\/blob\/([^/]+)\/(.+)$/.exec(u.pathname);
    if (req.method === 'GET' && blob) {
      try {
        const text = gitIn(
          bare(blob[1] as string),
          'show',
          `${blob[2]}:${decodeURIComponent(blob[3] as string)}`,
        );
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(text);
      } catch {
        res.writeHead(404);
        res.end('Not Found');
      }
      return;
    }
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const body = text ? JSON.parse(text) : undefined;
      received.push({ method: req.method ?? '', path: u.pathname + u.search, headers: req.headers, body });
      const send = (status: number, json: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify(json));
      };
      const o = overrides.get(`${req.method} ${u.pathname}`);
      if (o) return send(o.status, o.body);
      const gh = req.headers.authorization === `Bearer ${token}`;
      const gl = req.headers['private-token'] === token;
      if (!gh && !gl)
        return send(401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' });
      answer(req.method ?? 'GET', u.pathname, body, send);
    });
  });

  // GitHub's and GitLab's answers, recorded shapes (only the fields the actions read, plus identity).
  function answer(
    method: string,
    p: string,
    body: Record<string, unknown>,
    send: (s: number, j: unknown) => void,
  ) {
    let m: RegExpExecArray | null = null;
    const at = (mth: string, re: RegExp) => (method === mth ? re.exec(p) : null);
    m = at('GET', /^\/api\/v3\/users\/([^/]+)$/);
    if (m) {
      const login = decodeURIComponent(m[1] as string);
      if (login === 'nobody') return send(404, { message: 'Not Found' });
      return send(200, {
        login,
        id: 1,
        type: login === 'jane' || login === 'bob' ? 'User' : 'Organization',
        site_admin: false,
      });
    }
    if (method === 'GET' && p === '/api/v3/user') return send(200, { login: 'jane', id: 7, type: 'User' });
    m = at('POST', /^\/api\/v3\/orgs\/([^/]+)\/repos$/);
    if (m || (method === 'POST' && p === '/api/v3/user/repos')) {
      const owner = m ? decodeURIComponent(m[1] as string) : 'jane';
      const full = `${owner}/${body.name}`;
      if (body.name === 'exists')
        return send(422, {
          message: 'Repository creation failed.',
          errors: [
            {
              resource: 'Repository',
              code: 'custom',
              field: 'name',
              message: 'name already exists on this account',
            },
          ],
        });
      createBare(full);
      return send(201, {
        id: 1296269,
        node_id: 'MDEwOlJlcG9zaXRvcnkxMjk2MjY5',
        name: body.name,
        full_name: full,
        private: body.private,
        owner: { login: owner, type: m ? 'Organization' : 'User' },
        html_url: `${base}/${full}`,
        clone_url: body.name === 'elsewhere' ? `http://evil.example/${full}.git` : `${base}/git/${full}.git`,
        default_branch: 'main',
        description: body.description,
      });
    }
    m = at('PUT', /^\/api\/v3\/repos\/([^/]+\/[^/]+)\/topics$/);
    if (m) return send(200, { names: body.names });
    m = at('DELETE', /^\/api\/v3\/repos\/([^/]+\/[^/]+)$/);
    if (m) {
      rmSync(bare(m[1] as string), { recursive: true, force: true });
      return send(204, {});
    }
    // The git data API over the bare repository (reads are real git; writes are recorded objects).
    m = at('GET', /^\/api\/v3\/repos\/([^/]+\/[^/]+)$/);
    if (m) return send(200, { full_name: m[1], default_branch: 'main', html_url: `${base}/${m[1]}` });
    m = at('GET', /^\/api\/v3\/repos\/([^/]+\/[^/]+)\/git\/ref\/heads\/(.+)$/);
    if (m) {
      try {
        const s = gitIn(bare(m[1] as string), 'rev-parse', `refs/heads/${m[2]}`).trim();
        return send(200, { ref: `refs/heads/${m[2]}`, object: { sha: s, type: 'commit' } });
      } catch {
        return send(404, { message: 'Not Found' });
      }
    }
    m = at('GET', /^\/api\/v3\/repos\/([^/]+\/[^/]+)\/git\/commits\/([0-9a-f]{40})$/);
    if (m) {
      const tree = gitIn(bare(m[1] as string), 'rev-parse', `${m[2]}^{tree}`).trim();
      return send(200, { sha: m[2], tree: { sha: tree } });
    }
    if (method === 'POST' && /^\/api\/v3\/repos\/[^/]+\/[^/]+\/git\/(blobs|trees|commits)$/.test(p)) {
      const s = sha();
      objects.set(s, body);
      return send(201, { sha: s, url: `${base}${p}/${s}` });
    }
    if (method === 'POST' && /^\/api\/v3\/repos\/[^/]+\/[^/]+\/git\/refs$/.test(p))
      return send(201, { ref: body.ref, object: { sha: body.sha, type: 'commit' } });
    m = at('POST', /^\/api\/v3\/repos\/([^/]+\/[^/]+)\/pulls$/);
    if (m) {
      const pr = {
        number: 1347 + pulls.length,
        state: 'open',
        title: body.title,
        html_url: `${base}/${m[1]}/pull/${1347 + pulls.length}`,
        head: { ref: body.head },
        base: { ref: body.base },
        draft: body.draft,
      };
      pulls.push(pr);
      return send(201, pr);
    }
    if (method === 'POST' && /\/requested_reviewers$/.test(p))
      return send(201, { requested_reviewers: body.reviewers });
    if (method === 'DELETE' && /\/git\/refs\/heads\//.test(p)) return send(204, {});
    if (method === 'PATCH' && /\/pulls\/\d+$/.test(p)) return send(200, { state: body.state });
    // GitLab v4
    m = at('GET', /^\/api\/v4\/namespaces\/(.+)$/);
    if (m) {
      const full = decodeURIComponent(m[1] as string);
      if (full === 'nobody') return send(404, { message: '404 Namespace Not Found' });
      return send(200, {
        id: 42,
        name: full.split('/').pop(),
        path: full.split('/').pop(),
        kind: 'group',
        full_path: full,
      });
    }
    if (method === 'POST' && p === '/api/v4/projects') {
      const full = `group-${body.namespace_id}/${body.path}`;
      createBare(full);
      return send(201, {
        id: 3,
        name: body.name,
        path_with_namespace: full,
        default_branch: body.default_branch,
        visibility: body.visibility,
        web_url: `${base}/${full}`,
        http_url_to_repo: `${base}/git/${full}.git`,
      });
    }
    m = at('DELETE', /^\/api\/v4\/projects\/(\d+)$/);
    if (m) return send(202, { message: '202 Accepted' });
    return send(404, { message: `Not Found (test double has no ${method} ${p})` });
  }

  // git's smart HTTP through the real git http-backend (CGI), behind the token check GitHub/GitLab do.
  function gitCgi(req: http.IncomingMessage, res: http.ServerResponse, u: URL) {
    const authorization = req.headers.authorization;
    gitRequests.push({ path: u.pathname, authorization });
    const ok =
      authorization === `Basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}` ||
      authorization === `Basic ${Buffer.from(`oauth2:${token}`).toString('base64')}`;
    if (!ok) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="GitHub"' });
      res.end('Invalid username or password.');
      return;
    }
    const child = spawn('git', ['http-backend'], {
      env: {
        PATH: process.env.PATH,
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: '1',
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_CONFIG_GLOBAL: '/dev/null',
        PATH_INFO: decodeURIComponent(u.pathname.slice('/git'.length)),
        QUERY_STRING: u.search.slice(1),
        REQUEST_METHOD: req.method ?? 'GET',
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        HTTP_CONTENT_ENCODING: req.headers['content-encoding'] ?? '',
        GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
        REMOTE_USER: 'x-access-token',
        REMOTE_ADDR: '127.0.0.1',
      } as unknown as NodeJS.ProcessEnv,
    });
    req.pipe(child.stdin);
    const out: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.on('close', () => {
      const all = Buffer.concat(out);
      const end = all.indexOf('\r\n\r\n');
      const head = all.subarray(0, end).toString('latin1').split('\r\n');
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of head) {
        const i = line.indexOf(':');
        const k = line.slice(0, i).trim();
        const v = line.slice(i + 1).trim();
        if (k.toLowerCase() === 'status') status = Number.parseInt(v, 10);
        else if (k) headers[k] = v;
      }
      res.writeHead(status, headers);
      res.end(all.subarray(end + 4));
    });
  }

  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
  return {
    url: base,
    host: `127.0.0.1:${port}`,
    received,
    gitRequests,
    overrides,
    repoDir: bare,
    git: (full, ...args) => gitIn(bare(full), ...args),
    seedRepo(full, files) {
      createBare(full);
      const work = mkdtempSync(path.join(root, 'seed-'));
      gitIn(work, 'init', '-q', '-b', 'main');
      for (const [rel, text] of Object.entries(files)) {
        mkdirSync(path.dirname(path.join(work, rel)), { recursive: true });
        writeFileSync(path.join(work, rel), text);
      }
      gitIn(work, 'add', '.');
      gitIn(work, '-c', 'user.name=seed', '-c', 'user.email=seed@example.org', 'commit', '-q', '-m', 'seed');
      gitIn(work, 'push', '-q', bare(full), 'main');
      return gitIn(work, 'rev-parse', 'HEAD').trim();
    },
    integration: (type) => ({
      type,
      host: `127.0.0.1:${port}`,
      apiBaseUrl: `${base}/api/${type === 'github' ? 'v3' : 'v4'}`,
      token,
    }),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(root, { recursive: true, force: true });
    },
  };
}
