import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { DatabaseUnavailableError, databaseLabel, databaseUnavailable } from '@bank/catalog';
import { type CatalogService, GraphService } from '@bank/plugin-catalog';
import { AuthenticationError, createApp } from '@bank/plugin-kit';
import { getRequestListener } from '@hono/node-server';
import type { Hono } from 'hono';
import { publishApiForPages } from '../lib/server-api.ts';
import { createAuditRouter, PortalAuth } from './auth.ts';
import { fallbackPage } from './fallback.ts';
import { type CallerLimits, createRequestGuard, parseBaseUrl } from './guard.ts';
import { databaseIdentity, graphIndexFileBeside } from './locations.ts';
import type { OidcConfig } from './oidc.ts';
import { mountPlugins, type PortalContext } from './plugins.ts';
import { REPO_ROOT } from './runtime.ts';

export interface ServeOptions {
  catalog: CatalogService;
  host?: string;
  port?: number;
  /** The public URL (PORTAL_BASE_URL / --base-url); requests for any other host than it or loopback get 421. */
  baseUrl?: string;
  /** Per-caller limits on sign-in, writes and event streams (defaults in guard.ts). */
  limits?: Partial<CallerLimits>;
  /** Serve the Next.js UI (needs `next build`); default: when portal/.next exists. */
  ui?: boolean;
  /**
   * The password-less development sign-in (anyone may sign in as any catalogue User). Refused unless the
   * server listens on loopback; every page then says it is on.
   */
  devSignIn?: boolean;
  /** OpenID Connect for people; default from PORTAL_OIDC_* (null: off whatever the environment says). */
  oidc?: OidcConfig | null;
  /** Watch scorecard files and k8s/ manifests, re-scoring what a change touches (serve/start, not tests). */
  watchFiles?: boolean;
  /**
   * Run once the server listens, before the work start-up does not wait for (the UI, scoring): the quick
   * start loads its demo deploy history here, so the first scores see it.
   */
  onListening?: (context: PortalContext) => Promise<void>;
}

export interface RunningServer {
  url: string;
  /** The API (every plugin's router): tests walk its routes. */
  api: Hono;
  context: PortalContext;
  close(): Promise<void>;
}

type PageHandler = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>;

type NextFactory = (o: { dev: boolean; dir: string; hostname: string; port: number }) => {
  prepare(): Promise<void>;
  getRequestHandler(): (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>;
};

/** How long after listening the UI is prepared unless a page is asked for first. */
const UI_WARM_AFTER_MS = 500;

/** Bound to loopback only: then only this machine can connect, and reads stay open. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** `--dev-sign-in` on an address beyond loopback: the CLI reports it as a usage error (exit 2). */
export class DevSignInRefusedError extends Error {
  override name = 'DevSignInRefusedError';
}

/**
 * One process, one port: the API (Hono, mounted per plugin at /api/<id>) and the Next.js UI. Listens on
 * 127.0.0.1 unless told otherwise.
 */
export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  const baseUrl = parseBaseUrl(opts.baseUrl ?? process.env.PORTAL_BASE_URL);
  const loopback = isLoopback(host);
  if (opts.devSignIn && !loopback) {
    throw new DevSignInRefusedError(
      `The development sign-in lets anyone sign in as anyone, so it only runs on loopback; --host ${host} is not (use 127.0.0.1, or configure OpenID Connect)`,
    );
  }
  const { context, live } = await createContext(opts, baseUrl);
  const { api, plugins } = await createApi(opts, context, host, loopback);
  const apiListener = getRequestListener(api.fetch);
  const portalDir = path.join(REPO_ROOT, 'portal');
  const wantUi = opts.ui ?? existsSync(path.join(portalDir, '.next', 'BUILD_ID'));
  const pages = lazyPages(portalDir, host, opts.port ?? 0, apiListener);
  let listeningPort: number | undefined; // asked of the socket once (getsockname): it was 5% of a by-ref read
  const guard = createRequestGuard({
    baseUrl,
    port: () => {
      listeningPort ??= (server.address() as AddressInfo).port;
      return listeningPort;
    },
    limits: opts.limits,
  });
  const server = http.createServer((req, res) => {
    res.once('finish', () => lingerAtMost(req));
    if (guard(req, res)) return;
    route(req, res, { apiListener, pages: wantUi ? pages : undefined });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 7007, host, () => resolve());
  });
  await opts.onListening?.(context);
  // What start-up need not wait for: the UI, and the plugins' own work (scorecards score the estate).
  // The UI is prepared (Next.js: a few hundred milliseconds of this thread) a moment after listening, so
  // the first API reads are not queued behind it; a page asked for sooner prepares it at once.
  if (wantUi) setTimeout(pages, UI_WARM_AFTER_MS).unref();
  plugins.afterListen();
  const addr = server.address() as AddressInfo;
  const unpublish = publishApiForPages(addr.port, api.fetch);
  const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${shownHost}:${addr.port}`,
    api,
    context,
    close: async () => {
      unpublish();
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      // What waits to be paired is settled and stored: nothing accepted is lost on a clean stop.
      await plugins.close();
      await live?.stop();
      context.graph.flushSave();
    },
  };
}

/** The services every route shares: catalogue, graph, identity, deploys (and the clusters' live state). */
async function createContext(opts: ServeOptions, baseUrl: URL | undefined) {
  await opts.catalog.view();
  // The saved graph index lives beside the catalogue snapshot: a catalogue that keeps no snapshot (tests
  // on a throwaway store) keeps no saved index either.
  const graph = new GraphService(opts.catalog, {
    savedFile: opts.catalog.snapshotFile ? graphIndexFileBeside(opts.catalog.snapshotFile) : undefined,
  });
  const auth = new PortalAuth(opts.catalog.store, opts.catalog, () => graph.current, {
    devSignIn: opts.devSignIn ?? false,
    baseUrl: baseUrl?.origin,
    oidc: opts.oidc,
  });
  // The deploys plugin's index leaves out the Kubernetes client, which only live state needs (clusterWatch).
  const [{ DeploysService, KUBERNETES_ID_LABEL, onCallFromEnv }, { desiredStateOf }] = await Promise.all([
    import('@bank/plugin-deploys'),
    import('@bank/plugin-entity'),
  ]);
  // Live state from the clusters of PORTAL_K8S_CONTEXTS (none by default, and then the Kubernetes client is
  // not loaded); informers run in the background.
  const live = await clusterWatch();
  const deploys = new DeploysService({
    store: opts.catalog.store,
    getIndex: () => graph.current,
    live,
    kubernetesIdOf: (ref) => opts.catalog.loaded.byRef.get(ref)?.metadata.annotations?.[KUBERNETES_ID_LABEL],
    isKnown: (ref) => opts.catalog.loaded.byRef.has(ref),
    onCall: onCallFromEnv(opts.catalog.roots),
    desiredOf: (ref) => desiredStateOf(opts.catalog.loaded, ref, [...opts.catalog.roots]),
  });
  try {
    await deploys.init();
  } catch (err) {
    // A read-only or unreachable database still serves what is loaded; writes answer 503 with the reason.
    if (!(err instanceof DatabaseUnavailableError)) throw err;
    process.stderr.write(`warning: ${err.message}\n`);
  }
  const context: PortalContext = {
    catalog: opts.catalog,
    graph,
    auth,
    deploys,
    watchFiles: opts.watchFiles ?? false,
  };
  return { context, live };
}

/**
 * The API: audit, the probes (/healthz, /readyz), the read gate beyond loopback, sign-in, the audit log and
 * every plugin mounted at /api/<id>.
 */
async function createApi(opts: ServeOptions, context: PortalContext, host: string, loopback: boolean) {
  const { auth, graph } = context;
  const api = createApp();
  api.use('*', auth.auditMiddleware());
  // Alive: the process answers. Says nothing about the database (that is /readyz), so a database outage
  // makes the orchestrator stop routing to us rather than restart us in a loop.
  // `service: "portal"` lets a second start on the same port say that a portal holds it, and which one
  // (process and catalogue only on loopback, where only this machine asks).
  const startedAt = new Date().toISOString();
  api.get('/healthz', (c) =>
    c.json({
      ok: true,
      service: 'portal',
      entities: opts.catalog.loaded.size,
      startedAt,
      ...(loopback
        ? { pid: process.pid, roots: opts.catalog.roots, database: databaseIdentity(opts.catalog.store.url) }
        : {}),
    }),
  );
  // Ready: the database answers within 2 s and the graph is loaded; else 503 with the reason in words.
  api.get('/readyz', async (c) => {
    const reasons: string[] = [];
    try {
      await withTimeout(opts.catalog.store.ping(), 2000);
    } catch (err) {
      reasons.push(
        databaseUnavailable(err, opts.catalog.store.url)?.message ??
          `${databaseLabel(opts.catalog.store.url)} did not answer within 2 s`,
      );
    }
    if (!graph.current) reasons.push('The dependency graph is not loaded yet');
    if (reasons.length > 0) return c.json({ ready: false, reason: reasons.join(' ') }, 503);
    return c.json({ ready: true, entities: opts.catalog.loaded.size });
  });
  if (!loopback) {
    // Reachable beyond loopback: nothing about the estate is told to a caller we do not know. Only the
    // sign-in routes (how to become known) and the probes stay open.
    api.use('*', async (c, next) => {
      const p = c.req.path;
      if (p === '/healthz' || p === '/readyz' || p === '/api/auth' || p.startsWith('/api/auth/'))
        return next();
      // Writes are each route's own check (a writer, or a signed webhook); here: every read.
      const read = c.req.method === 'GET' || c.req.method === 'HEAD' || READ_POSTS.has(p);
      if (!read) return next();
      if (!(await auth.actor(c))) {
        throw new AuthenticationError(
          `This portal listens beyond loopback (${host}), so reads need a signed-in person or ` +
            '"Authorization: Bearer <token>"; sign in first (see /api/auth)',
        );
      }
      return next();
    });
  }
  // Without the built UI, the root is a plain list of services (behind the same rule as the API).
  api.get('/', (c) => c.html(fallbackPage(opts.catalog.loaded)));
  api.route('/api/auth', auth.router());
  api.route('/api/audit', createAuditRouter(auth, opts.catalog.store));
  const plugins = await mountPlugins(api, context);
  return { api, plugins };
}

/**
 * The web UI (Next.js), loaded and prepared on first call, not on the way to listening: the API answers at
 * once, and a page asked for meanwhile waits for it. If it cannot start, the API's plain service list
 * answers instead.
 */
function lazyPages(
  portalDir: string,
  host: string,
  port: number,
  apiListener: (req: http.IncomingMessage, res: http.ServerResponse) => unknown,
): () => Promise<PageHandler> {
  let ui: Promise<PageHandler> | undefined;
  return () =>
    (ui ??= prepareUi(portalDir, host, port).catch((err: Error) => {
      process.stderr.write(
        `the web UI did not start; serving the API and a plain service list: ${err.stack}\n`,
      );
      return (req: http.IncomingMessage, res: http.ServerResponse) => {
        apiListener(req, res);
        return Promise.resolve();
      };
    }));
}

/** One guarded request: /api, /v1 and the probes to the API; pages (GET and HEAD only) to the UI. */
function route(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  to: {
    apiListener: (req: http.IncomingMessage, res: http.ServerResponse) => unknown;
    pages: (() => Promise<PageHandler>) | undefined;
  },
): void {
  const url = req.url ?? '/';
  if (
    url.startsWith('/api/') ||
    url.startsWith('/v1/') ||
    url === '/healthz' ||
    url === '/readyz' ||
    !to.pages
  ) {
    to.apiListener(req, res);
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    // The pages take no writes (every write is an /api route): Next never reads a body we did not bound.
    res.writeHead(405, {
      allow: 'GET, HEAD',
      'content-type': 'application/json; charset=utf-8',
      connection: 'close',
    });
    res.end(
      JSON.stringify({
        error: {
          name: 'MethodNotAllowedError',
          message: `${req.method} ${url.split('?')[0]}: pages are read-only; writes go to /api/…`,
        },
      }),
    );
    return;
  }
  to.pages()
    .then((handle) => handle(req, res))
    .catch((err: Error) => {
      process.stderr.write(`UI error on ${url}: ${err.stack}\n`);
      if (!res.headersSent) res.writeHead(500);
      res.end('Internal error');
    });
}

/** Live state from the clusters of PORTAL_K8S_CONTEXTS, watched in the background; none when it is not set. */
async function clusterWatch() {
  if (!process.env.PORTAL_K8S_CONTEXTS?.trim()) return undefined;
  const { ClusterWatch, clusterContextsFromEnv } = await import('@bank/plugin-deploys/live');
  const live = new ClusterWatch(clusterContextsFromEnv());
  if (live.configured)
    live.start().catch((err: Error) => process.stderr.write(`kubernetes: ${err.message}\n`));
  return live;
}

/** The built Next.js UI, loaded and prepared (about half a second): its request handler. */
async function prepareUi(dir: string, hostname: string, port: number): Promise<PageHandler> {
  // next is CommonJS: depending on the loader its factory is `default` or `default.default`.
  const mod = (await import('next')) as unknown as { default: NextFactory & { default?: NextFactory } };
  const next: NextFactory = mod.default.default ?? mod.default;
  const app = next({ dev: false, dir, hostname, port });
  await app.prepare();
  const handle = app.getRequestHandler();
  return (req, res) => handle(req, res);
}

/**
 * A body left unread when the answer is sent (a 413, a refusal, a route that needed none): read and
 * discard at most 64 KiB or 1 s of it, so a client still sending sees our answer before the connection
 * closes, then close. Without this cap the HTTP adapter drains up to 64 MB per request.
 */
function lingerAtMost(req: http.IncomingMessage): void {
  if (req.complete || req.socket.destroyed) return;
  let left = 64 << 10;
  const close = () => {
    if (!req.complete) req.socket.destroy();
  };
  req.on('data', (chunk: Buffer) => {
    left -= chunk.length;
    if (left < 0) close();
  });
  // The timer goes with the connection. Left waiting after the client hung up, it kept the request and
  // its socket alive for a second, long enough to outlive V8's young generation: under a flood of refused
  // bodies the old generation grew by ~130 MB between full collections (bench/hardening/load.ts).
  lingering++;
  let settled = false;
  const settle = () => {
    if (settled) return;
    settled = true;
    lingering--;
    clearTimeout(timer);
  };
  const timer = setTimeout(() => {
    close();
    settle();
  }, 1000).unref();
  req.once('end', settle);
  req.socket.once('close', settle);
}

let lingering = 0;

/** Requests whose unread body is still being drained before their connection closes. */
export function lingeringRequests(): number {
  return lingering;
}

/** POST routes that only read (a body too big for a query string), guarded like GETs. */
const READ_POSTS = new Set([
  '/api/catalog/entities/by-query',
  '/api/catalog/entities/by-refs',
  '/api/catalog/entity-facets',
  '/api/catalog/validate-entity',
  '/api/scaffolder/dry-run',
]);

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('timeout')), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}
