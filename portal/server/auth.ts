import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { CatalogStore } from '@bank/catalog';
import type { CatalogService } from '@bank/plugin-catalog';
import {
  type Actor,
  type Auth,
  AuthenticationError,
  createApp,
  InputError,
  NotFoundError,
  readJson,
} from '@bank/plugin-kit';
import type { Context, Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';

const COOKIE = 'portal_session';
const SESSION_HOURS = 12;

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * Who may write. Machines send `Authorization: Bearer <token>`: tokens from PORTAL_API_TOKENS (comma-
 * separated) or issued by the portal (only their hash is stored). People sign in: in the embedded default on
 * loopback, as a User of the catalogue (a local sign-in); a signed, HttpOnly, SameSite=Strict cookie.
 */
export class PortalAuth implements Auth {
  private envTokens: Buffer[];
  private secret: Buffer;

  constructor(
    private store: CatalogStore,
    private catalog: CatalogService,
    opts: { tokens?: string; sessionSecret?: string } = {},
  ) {
    this.envTokens = (opts.tokens ?? process.env.PORTAL_API_TOKENS ?? '')
      .split(',')
      .map((t) => t.trim())
      .filter((t) => t.length > 0)
      .map((t) => Buffer.from(hashToken(t), 'hex'));
    this.secret = Buffer.from(
      opts.sessionSecret ?? process.env.PORTAL_SESSION_SECRET ?? randomBytes(32).toString('hex'),
    );
  }

  async actor(c: Context): Promise<Actor | undefined> {
    const header = c.req.header('authorization');
    if (header) {
      const m = /^Bearer\s+(.+)$/i.exec(header.trim());
      if (!m) return undefined;
      const digest = Buffer.from(hashToken(m[1].trim()), 'hex');
      const envIndex = this.envTokens.findIndex((t) => timingSafeEqual(t, digest));
      if (envIndex !== -1) return { kind: 'token', id: `token:env-${envIndex + 1}` };
      const stored = await this.store.tokenByHash(digest.toString('hex'));
      return stored ? { kind: 'token', id: `token:${stored.name}` } : undefined;
    }
    const cookie = getCookie(c, COOKIE);
    if (!cookie) return undefined;
    const user = this.verify(cookie);
    if (!user) return undefined;
    // A cookie-authenticated write must come from our own pages (no cross-site form posts).
    const origin = c.req.header('origin');
    if (origin && c.req.method !== 'GET' && new URL(origin).host !== new URL(c.req.url).host)
      return undefined;
    return { kind: 'user', id: user };
  }

  async requireWriter(c: Context): Promise<Actor> {
    const actor = await this.actor(c);
    if (!actor) {
      throw new AuthenticationError(
        c.req.header('authorization')
          ? 'The bearer token is not valid: use one from PORTAL_API_TOKENS or one issued by `portal token create`'
          : 'Writes need an authenticated caller: send "Authorization: Bearer <token>", or sign in (POST /api/auth/sign-in)',
      );
    }
    return actor;
  }

  sign(userRef: string): string {
    const expires = Date.now() + SESSION_HOURS * 3600_000;
    const payload = Buffer.from(JSON.stringify({ u: userRef, e: expires })).toString('base64url');
    const mac = createHmac('sha256', this.secret).update(payload).digest('base64url');
    return `${payload}.${mac}`;
  }

  verify(cookie: string): string | undefined {
    const [payload, mac] = cookie.split('.');
    if (!payload || !mac) return undefined;
    const want = createHmac('sha256', this.secret).update(payload).digest();
    const got = Buffer.from(mac, 'base64url');
    if (got.length !== want.length || !timingSafeEqual(got, want)) return undefined;
    try {
      const { u, e } = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
        u: string;
        e: number;
      };
      return e > Date.now() ? u : undefined;
    } catch {
      return undefined;
    }
  }

  /** Sign-in routes: the local sign-in is only offered when the server is bound to loopback. */
  router(opts: { loopback: boolean }): Hono {
    const app = createApp();
    app.get('/me', async (c) => {
      const actor = await this.actor(c);
      return c.json({ signedIn: !!actor, actor: actor ?? null });
    });
    app.post('/sign-in', async (c) => {
      if (!opts.loopback) {
        throw new InputError(
          'Local sign-in is only available when the portal listens on loopback; configure OIDC',
        );
      }
      const body = await readJson<{ user?: unknown }>(c, 4096);
      if (typeof body.user !== 'string' || body.user.trim() === '') {
        throw new InputError('Body must be {"user": "<a User of the catalogue, e.g. jane.doe>"}');
      }
      const view = this.catalog.loaded;
      const name = body.user
        .trim()
        .toLowerCase()
        .replace(/^user:(default\/)?/, '');
      const ref = `user:default/${name}`;
      if (!view.byRef.has(ref)) {
        const users = [...view.refs].filter((r) => r.startsWith('user:'));
        const { closestRefs } = await import('@bank/catalog');
        throw new NotFoundError(`No user "${body.user}" in the catalogue`, {
          suggestions: closestRefs(name, users, 5),
        });
      }
      setCookie(c, COOKIE, this.sign(ref), {
        httpOnly: true,
        sameSite: 'Strict',
        path: '/',
        maxAge: SESSION_HOURS * 3600,
      });
      await this.store.audit(ref, 'auth.sign-in', ref);
      return c.json({ signedIn: true, actor: { kind: 'user', id: ref } });
    });
    app.post('/sign-out', (c) => {
      deleteCookie(c, COOKIE, { path: '/' });
      return c.json({ signedIn: false });
    });
    return app;
  }
}
