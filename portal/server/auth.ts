import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { type AuditOutcome, type CatalogStore, closestRefs } from '@bank/catalog';
import type { GraphIndex } from '@bank/graph';
import type { CatalogService } from '@bank/plugin-catalog';
import {
  type Actor,
  type Auth,
  AuthenticationError,
  createApp,
  InputError,
  NotAllowedError,
  NotFoundError,
  noteAudit,
  type Permission,
  type PermissionResource,
  permissions,
  readJson,
  TOKEN_SCOPES,
  type TokenScope,
} from '@bank/plugin-kit';
import type { Context, Hono, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { type OidcConfig, OidcSignIn, oidcConfigFromEnv } from './oidc.ts';
import {
  adminGroupsOf,
  BankPolicy,
  ownershipRefsOf,
  type PermissionPolicy,
  type PolicyUser,
  resolveResource,
} from './permissions.ts';

const COOKIE = 'portal_session';
const OIDC_OFF =
  'OpenID Connect sign-in is not configured: set PORTAL_OIDC_ISSUER, PORTAL_OIDC_CLIENT_ID and PORTAL_OIDC_CLIENT_SECRET';

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** A token from PORTAL_API_TOKENS: its hash and scopes. */
interface EnvToken {
  digest: Buffer;
  scopes: TokenScope[];
}

/**
 * PORTAL_API_TOKENS: comma-separated entries, each `<token>` (every scope, as before scopes existed) or
 * `<token>@<scope>+<scope>…` (e.g. `s3cret@deploys:write+traces:write`). The part after the last `@` must
 * be scopes; a bad one stops the portal at start, naming the entry by position (never its secret).
 */
export function parseEnvTokens(raw: string): EnvToken[] {
  return raw
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t.length > 0)
    .map((entry, i) => {
      const at = entry.lastIndexOf('@');
      const secret = at === -1 ? entry : entry.slice(0, at);
      const scopes = at === -1 ? ['admin'] : entry.slice(at + 1).split('+');
      const bad = scopes.filter((s) => !(TOKEN_SCOPES as readonly string[]).includes(s));
      if (secret === '' || bad.length > 0 || scopes.length === 0)
        throw new Error(
          `PORTAL_API_TOKENS entry ${i + 1}: ${secret === '' ? 'the token is empty' : `unknown scope(s) ${bad.map((s) => `"${s}"`).join(', ')}`}; write <token> or <token>@<scope>+<scope> with scopes from ${TOKEN_SCOPES.join(', ')}`,
        );
      return { digest: Buffer.from(hashToken(secret), 'hex'), scopes: scopes as TokenScope[] };
    });
}

export interface AuthOptions {
  tokens?: string;
  /** The password-less development sign-in (`portal start`, `portal serve --dev-sign-in`). */
  devSignIn?: boolean;
  /** PORTAL_BASE_URL: https makes the session cookie Secure. */
  baseUrl?: string;
  /** PORTAL_ADMIN_GROUPS. */
  adminGroups?: string;
  sessionHours?: number;
  /**
   * How long a session or stored token looked up in the store is trusted without asking again (default
   * 2000 ms, PORTAL_AUTH_CACHE_MS): keeps the check off the database on every request. A sign-out here is
   * immediate; a revocation made elsewhere (another replica, `portal token revoke`) reaches this process
   * within this time. Never past the session's or token's own expiry.
   */
  cacheMs?: number;
  policy?: PermissionPolicy;
  /** OpenID Connect for people; default from PORTAL_OIDC_* (none when PORTAL_OIDC_ISSUER is unset). */
  oidc?: OidcConfig | null;
}

/** The client's address, as the socket saw it (no proxy header is trusted). */
export function clientAddress(c: Context): string | null {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  return incoming?.socket?.remoteAddress ?? null;
}

/**
 * Who the caller is and what they may do. Machines send `Authorization: Bearer <token>`: tokens from
 * PORTAL_API_TOKENS or issued by `portal token create` (only their hash is stored; scoped; expiring). People
 * sign in (OpenID Connect, or the development sign-in) and get a session: a random secret in an HttpOnly,
 * SameSite=Strict cookie, whose hash is a row in the store, so it expires and can be revoked.
 */
export class PortalAuth implements Auth {
  private envTokens: EnvToken[];
  private adminGroups: Set<string>;
  private policy: PermissionPolicy;
  readonly devSignIn: boolean;
  readonly secureCookies: boolean;
  readonly sessionHours: number;
  private cacheMs: number;
  /** Lookups by hash: what the store said, and until when that is trusted. */
  private lookups = new Map<string, { value: Actor | undefined; until: number }>();
  readonly oidc: OidcSignIn | undefined;
  private baseUrl: string | undefined;

  constructor(
    private store: CatalogStore,
    private catalog: CatalogService,
    private getIndex: () => GraphIndex,
    opts: AuthOptions = {},
  ) {
    this.envTokens = parseEnvTokens(opts.tokens ?? process.env.PORTAL_API_TOKENS ?? '');
    this.adminGroups = adminGroupsOf(opts.adminGroups ?? process.env.PORTAL_ADMIN_GROUPS);
    this.policy = opts.policy ?? new BankPolicy();
    this.devSignIn = opts.devSignIn ?? false;
    const baseUrl = opts.baseUrl ?? process.env.PORTAL_BASE_URL;
    this.baseUrl = baseUrl;
    this.secureCookies = baseUrl?.startsWith('https:') ?? false;
    const oidc = opts.oidc === undefined ? oidcConfigFromEnv() : opts.oidc;
    this.oidc = oidc ? new OidcSignIn(oidc, catalog, { secureCookies: this.secureCookies }) : undefined;
    this.sessionHours = opts.sessionHours ?? Number(process.env.PORTAL_SESSION_HOURS ?? 12);
    this.cacheMs = opts.cacheMs ?? Number(process.env.PORTAL_AUTH_CACHE_MS ?? 2000);
  }

  async actor(c: Context): Promise<Actor | undefined> {
    const header = c.req.header('authorization');
    if (header) {
      const m = /^Bearer\s+(.+)$/i.exec(header.trim());
      if (!m) return undefined;
      const digest = Buffer.from(hashToken(m[1].trim()), 'hex');
      const envIndex = this.envTokens.findIndex((t) => timingSafeEqual(t.digest, digest));
      if (envIndex !== -1)
        return { kind: 'token', id: `token:env-${envIndex + 1}`, scopes: this.envTokens[envIndex].scopes };
      return this.cached(`t:${digest.toString('hex')}`, async () => {
        const stored = await this.store.tokenByHash(digest.toString('hex'));
        if (!stored) return { value: undefined };
        return {
          value: { kind: 'token', id: `token:${stored.name}`, scopes: stored.scopes },
          expires: stored.expiresAt ? Date.parse(stored.expiresAt) : undefined,
        };
      });
    }
    const cookie = getCookie(c, COOKIE);
    if (!cookie) return undefined;
    const session = await this.cached(`s:${hashToken(cookie)}`, async () => {
      const live = await this.store.liveSession(hashToken(cookie));
      return live
        ? { value: { kind: 'user', id: live.userRef }, expires: Date.parse(live.expiresAt) }
        : { value: undefined };
    });
    if (!session) return undefined;
    // A cookie-authenticated write must come from our own pages (no cross-site form posts).
    const origin = c.req.header('origin');
    if (origin && c.req.method !== 'GET' && !sameHost(origin, c.req.url)) return undefined;
    return session;
  }

  /** `lookup` once per cacheMs per key (see AuthOptions.cacheMs). */
  private async cached(
    key: string,
    lookup: () => Promise<{ value: Actor | undefined; expires?: number }>,
  ): Promise<Actor | undefined> {
    const now = Date.now();
    const hit = this.lookups.get(key);
    if (hit && hit.until > now) return hit.value;
    const { value, expires } = await lookup();
    if (this.cacheMs > 0) {
      if (this.lookups.size > 10_000) this.lookups.clear();
      this.lookups.set(key, {
        value,
        until: Math.min(now + this.cacheMs, expires ?? Number.POSITIVE_INFINITY),
      });
    }
    return value;
  }

  /** What the policy sees of an actor: for a person, their groups from the catalogue, and whether admin. */
  policyUser(actor: Actor): PolicyUser {
    if (actor.kind === 'token') return { actor, ownershipRefs: [], admin: false };
    const ownershipRefs = ownershipRefsOf(this.catalog.loaded, actor.id);
    return { actor, ownershipRefs, admin: ownershipRefs.some((g) => this.adminGroups.has(g)) };
  }

  /** The policy's answer for `actor`, conditional decisions applied to the resource. */
  decide(
    actor: Actor,
    permission: Permission,
    resource?: PermissionResource,
  ): { allowed: true } | { allowed: false; reason: string } {
    const user = this.policyUser(actor);
    const decision = this.policy.handle(permission, user);
    if (decision.result === 'allow') return { allowed: true };
    if (decision.result === 'deny') return { allowed: false, reason: decision.reason };
    if (!resource) return { allowed: false, reason: `${decision.reason}; no resource was named` };
    const resolved = resolveResource(this.catalog.loaded, resource);
    if (decision.rule.apply(resolved, user, this.getIndex())) return { allowed: true };
    const owner = resolved.owner ? ` (owner: ${resolved.owner})` : ' (its owner is unknown)';
    return { allowed: false, reason: `${decision.reason}${owner}` };
  }

  async authorize(c: Context, permission: Permission, resource?: PermissionResource): Promise<Actor> {
    const actor = await this.authenticate(c, permission);
    const verdict = this.decide(actor, permission, resource);
    if (!verdict.allowed) {
      throw new NotAllowedError(`Permission "${permission.name}" denied: ${verdict.reason}`, {
        permission: permission.name,
      });
    }
    return actor;
  }

  async authenticate(c: Context, permission: Permission): Promise<Actor> {
    c.set('permission', permission);
    const actor = await this.actor(c);
    if (!actor) {
      throw new AuthenticationError(
        c.req.header('authorization')
          ? `The bearer token is not valid (unknown, expired or revoked); permission "${permission.name}" needs a token from PORTAL_API_TOKENS or \`portal token create\``
          : `Permission "${permission.name}" needs an authenticated caller: send "Authorization: Bearer <token>", or sign in (GET /api/auth/me lists the ways)`,
      );
    }
    c.set('actor', actor);
    // An outright deny needs no resource: refuse before the body is read.
    const decision = this.policy.handle(permission, this.policyUser(actor));
    if (decision.result === 'deny') {
      throw new NotAllowedError(`Permission "${permission.name}" denied: ${decision.reason}`, {
        permission: permission.name,
      });
    }
    return actor;
  }

  /**
   * Records every write attempt in the audit log after it ran: who (or `anonymous`), what (the permission,
   * or the route's own action), the target, when, the client address and user agent, and the outcome
   * (allowed, denied: 401/403, failed: any other error). A write route that never asked for a permission
   * is still recorded when refused.
   */
  auditMiddleware(): MiddlewareHandler {
    return async (c, next) => {
      await next();
      const method = c.req.method;
      const permission = c.get('permission');
      const note = c.get('audit');
      // Reads are not audited, except those that note themselves (the OpenID Connect callback: a sign-in).
      if ((method === 'GET' || method === 'HEAD' || method === 'OPTIONS') && !note) return;
      const status = c.res.status;
      const denied = status === 401 || status === 403;
      if (!permission && !note && !denied) return;
      const outcome: AuditOutcome = denied ? 'denied' : status < 400 ? 'allowed' : 'failed';
      const path = new URL(c.req.url).pathname;
      const details =
        outcome === 'allowed'
          ? note?.details
          : { status, ...(note?.details === undefined ? {} : { note: note.details }) };
      await this.store
        .audit(
          c.get('actor')?.id ?? 'anonymous',
          note?.action ?? permission?.name ?? `${method} ${path}`,
          note?.target ?? path,
          details,
          { outcome, client: clientAddress(c), userAgent: c.req.header('user-agent') ?? null },
        )
        .catch((err: Error) =>
          process.stderr.write(`audit: could not record ${method} ${path}: ${err.message}\n`),
        );
    };
  }

  /** Start a session for `userRef` and set its cookie. */
  async startSession(c: Context, userRef: string, via: 'dev' | 'oidc'): Promise<void> {
    const secret = randomBytes(32).toString('base64url');
    const expiresAt = new Date(Date.now() + this.sessionHours * 3600_000);
    await this.store.addSession({
      id: hashToken(secret),
      userRef,
      via,
      expiresAt: expiresAt.toISOString(),
      client: clientAddress(c),
      userAgent: c.req.header('user-agent')?.slice(0, 512) ?? null,
    });
    setCookie(c, COOKIE, secret, {
      httpOnly: true,
      sameSite: 'Strict',
      secure: this.secureCookies,
      path: '/',
      maxAge: this.sessionHours * 3600,
    });
  }

  /** The catalogue User a person names, or a 404 with the closest users. */
  userRef(input: string): string {
    const view = this.catalog.loaded;
    const name = input
      .trim()
      .toLowerCase()
      .replace(/^user:(default\/)?/, '');
    const ref = `user:default/${name}`;
    if (!view.byRef.has(ref)) {
      const users = [...view.refs].filter((r) => r.startsWith('user:'));
      throw new NotFoundError(`No user "${input}" in the catalogue`, {
        suggestions: closestRefs(name, users, 5),
      });
    }
    return ref;
  }

  /** /api/auth: who am I, the development sign-in (when on), sign-out. */
  router(): Hono {
    const app = createApp();
    app.get('/me', async (c) => {
      const actor = await this.actor(c);
      return c.json({
        signedIn: !!actor,
        actor: actor ?? null,
        devSignIn: this.devSignIn,
        signIn: {
          dev: this.devSignIn ? '/api/auth/sign-in' : null,
          oidc: this.oidc ? '/api/auth/oidc/start' : null,
        },
      });
    });
    // OpenID Connect: /oidc/start?returnTo=/path sends the browser to the identity provider; it comes back
    // to /oidc/callback, which starts a session and returns to the path.
    app.get('/oidc/start', async (c) => {
      if (!this.oidc) throw new NotFoundError(OIDC_OFF);
      return this.oidc.start(c, this.baseUrl);
    });
    app.get('/oidc/callback', async (c) => {
      if (!this.oidc) throw new NotFoundError(OIDC_OFF);
      const { userRef, returnTo } = await this.oidc.callback(c, this.baseUrl);
      c.set('actor', { kind: 'user', id: userRef });
      await this.startSession(c, userRef, 'oidc');
      return c.redirect(returnTo, 302);
    });
    app.post('/sign-in', async (c) => {
      noteAudit(c, { action: 'auth.sign-in' });
      if (!this.devSignIn) {
        throw new NotFoundError(
          'The password-less development sign-in is off: people sign in through OpenID Connect (GET /api/auth/oidc/start, when PORTAL_OIDC_ISSUER is set); `portal serve --dev-sign-in` turns it on, on loopback only',
        );
      }
      const body = await readJson<{ user?: unknown }>(c, 4096);
      if (typeof body.user !== 'string' || body.user.trim() === '') {
        throw new InputError('Body must be {"user": "<a User of the catalogue, e.g. jane.doe>"}');
      }
      const ref = this.userRef(body.user);
      noteAudit(c, { target: ref, details: { via: 'dev' } });
      c.set('actor', { kind: 'user', id: ref });
      await this.startSession(c, ref, 'dev');
      return c.json({ signedIn: true, actor: { kind: 'user', id: ref }, devSignIn: true });
    });
    // An admin ends every session of a person at once (a leaver, a stolen laptop).
    app.post('/sessions/revoke', async (c) => {
      await this.authenticate(c, permissions.sessionManage);
      const body = await readJson<{ user?: unknown }>(c, 4096);
      if (typeof body.user !== 'string' || body.user.trim() === '')
        throw new InputError('Body must be {"user": "<a User of the catalogue, e.g. jane.doe>"}');
      const ref = this.userRef(body.user);
      noteAudit(c, { target: ref });
      await this.authorize(c, permissions.sessionManage);
      const revoked = await this.store.revokeSessions({ userRef: ref });
      this.lookups.clear();
      noteAudit(c, { details: { revoked } });
      return c.json({ user: ref, revoked });
    });
    app.post('/sign-out', async (c) => {
      const cookie = getCookie(c, COOKIE);
      const actor = await this.actor(c);
      if (actor) c.set('actor', actor);
      if (cookie) {
        noteAudit(c, { action: 'auth.sign-out', target: actor?.id ?? 'session' });
        await this.store.revokeSessions({ id: hashToken(cookie) });
        this.lookups.delete(`s:${hashToken(cookie)}`);
      }
      deleteCookie(c, COOKIE, { path: '/', secure: this.secureCookies });
      return c.json({ signedIn: false });
    });
    return app;
  }
}

/**
 * /api/audit: the audit log for admins (permission audit.read), newest first. `?limit=` (1–1000, default
 * 100) and `?before=<id>` page back; `/verify` checks the hash chain.
 */
export function createAuditRouter(auth: PortalAuth, store: CatalogStore): Hono {
  const app = createApp();
  app.get('/', async (c) => {
    await auth.authorize(c, permissions.auditRead);
    const limit = boundedInt(c.req.query('limit'), 'limit', 1, 1000) ?? 100;
    const before = boundedInt(c.req.query('before'), 'before', 1, Number.MAX_SAFE_INTEGER);
    const items = await store.auditLog(limit, { before });
    const last = items.at(-1)?.id;
    return c.json({
      items,
      next: items.length === limit && last !== undefined ? `?limit=${limit}&before=${last}` : null,
    });
  });
  app.get('/verify', async (c) => {
    await auth.authorize(c, permissions.auditRead);
    return c.json(await store.verifyAudit());
  });
  return app;
}

function boundedInt(raw: string | undefined, name: string, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max)
    throw new InputError(`"${name}" must be an integer from ${min} to ${max}, got "${raw.slice(0, 32)}"`);
  return n;
}

function sameHost(origin: string, url: string): boolean {
  try {
    return new URL(origin).host === new URL(url).host;
  } catch {
    return false; // `Origin: null` and other opaque origins are never ours
  }
}
