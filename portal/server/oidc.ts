import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { CatalogService } from '@bank/plugin-catalog';
import { AuthenticationError, InputError, NotAllowedError, noteAudit } from '@bank/plugin-kit';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type * as client from 'openid-client';

/**
 * Sign-in for people through OpenID Connect: authorization code with PKCE (openid-client), state and nonce
 * checked, each login usable once. The IdP's identity becomes a catalogue User through a sign-in resolver,
 * as in Backstage; the User's groups (memberOf) then decide what they may do.
 */

export interface OidcConfig {
  issuer: string;
  clientId: string;
  clientSecret?: string;
  /** Which sign-in resolver maps the IdP's claims to a catalogue User. */
  resolver: SignInResolverName;
  /** For `claimMatchingUserEntityName`: the claim holding the user name (e.g. preferred_username). */
  userClaim: string;
  /** Email domains accepted by the email resolvers; empty: any. */
  allowedDomains: string[];
  scope: string;
  /** Allow an http:// issuer (a test or a laptop IdP); never needed for a real one. */
  allowHttp: boolean;
}

export const SIGN_IN_RESOLVERS = [
  'emailMatchingUserEntityProfileEmail',
  'emailLocalPartMatchingUserEntityName',
  'claimMatchingUserEntityName',
] as const;
export type SignInResolverName = (typeof SIGN_IN_RESOLVERS)[number];

/** PORTAL_OIDC_* from the environment; undefined when OIDC is not configured (no issuer). */
export function oidcConfigFromEnv(env: NodeJS.ProcessEnv = process.env): OidcConfig | undefined {
  const issuer = env.PORTAL_OIDC_ISSUER?.trim();
  if (!issuer) return undefined;
  const clientId = env.PORTAL_OIDC_CLIENT_ID?.trim();
  if (!clientId) throw new Error('PORTAL_OIDC_ISSUER is set but PORTAL_OIDC_CLIENT_ID is not');
  const resolver = (env.PORTAL_OIDC_SIGN_IN_RESOLVER?.trim() ||
    'emailMatchingUserEntityProfileEmail') as SignInResolverName;
  if (!SIGN_IN_RESOLVERS.includes(resolver))
    throw new Error(
      `PORTAL_OIDC_SIGN_IN_RESOLVER "${resolver}" is not one of ${SIGN_IN_RESOLVERS.join(', ')}`,
    );
  let issuerUrl: URL;
  try {
    issuerUrl = new URL(issuer);
  } catch {
    throw new Error(`PORTAL_OIDC_ISSUER "${issuer}" is not a URL`);
  }
  const allowHttp = env.PORTAL_OIDC_ALLOW_HTTP === '1';
  if (issuerUrl.protocol !== 'https:' && !allowHttp)
    throw new Error(
      `PORTAL_OIDC_ISSUER must be https:// (set PORTAL_OIDC_ALLOW_HTTP=1 for a local test IdP)`,
    );
  return {
    issuer,
    clientId,
    clientSecret: env.PORTAL_OIDC_CLIENT_SECRET || undefined,
    resolver,
    userClaim: env.PORTAL_OIDC_USER_CLAIM?.trim() || 'preferred_username',
    allowedDomains: (env.PORTAL_OIDC_ALLOWED_DOMAINS ?? '')
      .split(',')
      .map((d) => d.trim().toLowerCase())
      .filter((d) => d !== ''),
    scope: env.PORTAL_OIDC_SCOPE?.trim() || 'openid email profile',
    allowHttp,
  };
}

/** The claims a resolver sees (from the verified ID token). */
export type IdClaims = Record<string, unknown>;

/**
 * Backstage-style sign-in resolvers: the verified claims → the ref of exactly one catalogue User, or an
 * error saying why nobody matched. Email resolvers require `email_verified: true` (an unverified email
 * would let anyone register the address of a colleague at a lax IdP).
 */
export function resolveSignIn(cfg: OidcConfig, claims: IdClaims, catalog: CatalogService): string {
  const users = catalog.loaded.all().filter((e) => e.kind === 'User');
  const verifiedEmail = () => {
    const email = typeof claims.email === 'string' ? claims.email.trim().toLowerCase() : '';
    if (!email)
      throw new NotAllowedError('The identity provider sent no email claim; ask for the email scope');
    if (claims.email_verified !== true)
      throw new NotAllowedError(`The identity provider has not verified the email ${email}; sign-in refused`);
    const domain = email.slice(email.lastIndexOf('@') + 1);
    if (cfg.allowedDomains.length > 0 && !cfg.allowedDomains.includes(domain))
      throw new NotAllowedError(
        `Email domain ${domain} is not allowed (PORTAL_OIDC_ALLOWED_DOMAINS: ${cfg.allowedDomains.join(', ')})`,
      );
    return email;
  };
  const refOf = (e: (typeof users)[number]) => `user:${e.metadata.namespace ?? 'default'}/${e.metadata.name}`;
  let matches: typeof users;
  let what: string;
  switch (cfg.resolver) {
    case 'emailMatchingUserEntityProfileEmail': {
      const email = verifiedEmail();
      what = `spec.profile.email ${email}`;
      matches = users.filter(
        (u) =>
          ((u.spec as { profile?: { email?: unknown } } | undefined)?.profile?.email as string | undefined)
            ?.trim()
            .toLowerCase() === email,
      );
      break;
    }
    case 'emailLocalPartMatchingUserEntityName': {
      const email = verifiedEmail();
      const local = email.slice(0, email.indexOf('@'));
      what = `the name ${local}`;
      matches = users.filter((u) => u.metadata.name.toLowerCase() === local);
      break;
    }
    case 'claimMatchingUserEntityName': {
      const value = claims[cfg.userClaim];
      if (typeof value !== 'string' || value === '')
        throw new NotAllowedError(
          `The identity provider sent no "${cfg.userClaim}" claim (PORTAL_OIDC_USER_CLAIM)`,
        );
      what = `the name ${value}`;
      matches = users.filter((u) => u.metadata.name.toLowerCase() === value.toLowerCase());
      break;
    }
  }
  if (matches.length === 0)
    throw new NotAllowedError(`No User in the catalogue has ${what} (sign-in resolver ${cfg.resolver})`);
  if (matches.length > 1)
    throw new NotAllowedError(
      `${matches.length} Users in the catalogue have ${what}: ${matches.map(refOf).join(', ')}; sign-in refused until one does`,
    );
  return refOf(matches[0]).toLowerCase();
}

const LOGIN_COOKIE = 'portal_oidc';
const LOGIN_MINUTES = 10;

interface PendingLogin {
  state: string;
  nonce: string;
  verifier: string;
  returnTo: string;
  exp: number;
}

/**
 * The OIDC routes' logic: /start sends the browser to the IdP with PKCE, state and nonce, kept in an
 * encrypted, HttpOnly cookie bound to this browser (so any replica can finish the login when all share
 * PORTAL_SESSION_SECRET); /callback checks them, exchanges the code, resolves the User and starts a session.
 * A state is accepted once: a replayed callback is refused even with the cookie.
 */
/**
 * openid-client (with jose), loaded when a sign-in first needs it rather than with the server: a portal
 * without OpenID Connect (the quick start) never loads it, and one with it starts about 50 ms sooner.
 */
let openidClient: Promise<typeof client> | undefined;
const oidcClient = () => (openidClient ??= import('openid-client'));

export class OidcSignIn {
  private config: Promise<client.Configuration> | undefined;
  private key: Buffer;
  /** States already used, until their login would have expired anyway. */
  private used = new Map<string, number>();

  constructor(
    readonly cfg: OidcConfig,
    private catalog: CatalogService,
    private opts: { secret?: string; secureCookies: boolean },
  ) {
    this.key = createHash('sha256')
      .update(opts.secret ?? process.env.PORTAL_SESSION_SECRET ?? randomBytes(32).toString('hex'))
      .digest();
  }

  private discover(): Promise<client.Configuration> {
    this.config ??= oidcClient()
      .then((lib) =>
        lib.discovery(
          new URL(this.cfg.issuer),
          this.cfg.clientId,
          this.cfg.clientSecret,
          undefined,
          this.cfg.allowHttp ? { execute: [lib.allowInsecureRequests] } : undefined,
        ),
      )
      .catch((err: Error) => {
        this.config = undefined;
        throw new AuthenticationError(
          `The identity provider ${this.cfg.issuer} could not be reached or read: ${err.message}`,
        );
      });
    return this.config;
  }

  /** Where the IdP sends the browser back: this portal's own callback (PORTAL_BASE_URL, else the request). */
  redirectUri(c: Context, baseUrl?: string): string {
    return `${baseUrl ?? new URL(c.req.url).origin}/api/auth/oidc/callback`;
  }

  async start(c: Context, baseUrl?: string): Promise<Response> {
    const config = await this.discover();
    const client = await oidcClient();
    const returnTo = safeReturnTo(c.req.query('returnTo'));
    const login: PendingLogin = {
      state: client.randomState(),
      nonce: client.randomNonce(),
      verifier: client.randomPKCECodeVerifier(),
      returnTo,
      exp: Date.now() + LOGIN_MINUTES * 60_000,
    };
    setCookie(c, LOGIN_COOKIE, this.seal(login), {
      httpOnly: true,
      // Lax: the IdP's redirect back is a top-level cross-site navigation, which Strict would strip.
      sameSite: 'Lax',
      secure: this.opts.secureCookies,
      path: '/api/auth/oidc',
      maxAge: LOGIN_MINUTES * 60,
    });
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: this.redirectUri(c, baseUrl),
      scope: this.cfg.scope,
      code_challenge: await client.calculatePKCECodeChallenge(login.verifier),
      code_challenge_method: 'S256',
      state: login.state,
      nonce: login.nonce,
    });
    return c.redirect(url.href, 302);
  }

  /** Checks the callback and returns the signed-in User's ref and where to send the browser. */
  async callback(c: Context, baseUrl?: string): Promise<{ userRef: string; returnTo: string }> {
    noteAudit(c, { action: 'auth.sign-in', details: { via: 'oidc' } });
    const sealed = getCookie(c, LOGIN_COOKIE);
    deleteCookie(c, LOGIN_COOKIE, { path: '/api/auth/oidc', secure: this.opts.secureCookies });
    const login = sealed ? this.open(sealed) : undefined;
    if (!login || login.exp < Date.now())
      throw new InputError(
        'This sign-in was not started here or took longer than 10 minutes; start again from the portal',
      );
    const url = new URL(c.req.url);
    const error = url.searchParams.get('error');
    if (error)
      throw new AuthenticationError(
        `The identity provider refused the sign-in: ${error}${url.searchParams.get('error_description') ? ` (${url.searchParams.get('error_description')})` : ''}`,
      );
    this.forgetExpired();
    if (this.used.has(login.state))
      throw new InputError('This sign-in was already completed; it cannot be replayed');
    this.used.set(login.state, login.exp);
    const config = await this.discover();
    const client = await oidcClient();
    // The IdP redirected to our registered callback: check against that, not the Host the request came in on.
    const current = new URL(this.redirectUri(c, baseUrl));
    current.search = url.search;
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      tokens = await client.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: login.verifier,
        expectedState: login.state,
        expectedNonce: login.nonce,
        idTokenExpected: true,
      });
    } catch (err) {
      throw new AuthenticationError(`Sign-in through ${this.cfg.issuer} failed: ${describe(err)}`);
    }
    const idToken = tokens.claims();
    if (!idToken) throw new AuthenticationError('The identity provider returned no ID token');
    let claims: IdClaims = { ...idToken };
    // Many providers keep profile and email claims out of the ID token and serve them from userinfo, for
    // the same subject (checked by openid-client).
    const wanted = this.cfg.resolver === 'claimMatchingUserEntityName' ? this.cfg.userClaim : 'email';
    if (claims[wanted] === undefined && config.serverMetadata().userinfo_endpoint) {
      try {
        claims = { ...(await client.fetchUserInfo(config, tokens.access_token, idToken.sub)), ...claims };
      } catch (err) {
        throw new AuthenticationError(`Reading userinfo from ${this.cfg.issuer} failed: ${describe(err)}`);
      }
    }
    const userRef = resolveSignIn(this.cfg, claims, this.catalog);
    noteAudit(c, { target: userRef, details: { via: 'oidc', sub: claims.sub, issuer: claims.iss } });
    return { userRef, returnTo: login.returnTo };
  }

  private forgetExpired(): void {
    const now = Date.now();
    for (const [state, exp] of this.used) if (exp < now) this.used.delete(state);
  }

  private seal(login: PendingLogin): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify(login), 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
  }

  private open(sealed: string): PendingLogin | undefined {
    try {
      const raw = Buffer.from(sealed, 'base64url');
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      const text = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
      return JSON.parse(text) as PendingLogin;
    } catch {
      return undefined;
    }
  }
}

/** Only a path on this portal (`/entity/…`), never another site (`//evil`, `https://…`, `/\\evil`). */
export function safeReturnTo(raw: string | undefined): string {
  if (
    !raw?.startsWith('/') ||
    raw.startsWith('//') ||
    raw.includes('\\') ||
    [...raw].some((ch) => ch.charCodeAt(0) < 0x20)
  )
    return '/';
  return raw.slice(0, 2048);
}

/** openid-client's message, with its cause (which says which check failed: state, nonce, PKCE…). */
function describe(err: unknown): string {
  const e = err as Error & { cause?: unknown; code?: string };
  const cause = e.cause as { message?: string; error?: string; error_description?: string } | undefined;
  const detail = cause?.error_description ?? cause?.error ?? cause?.message;
  return detail && detail !== e.message ? `${e.message} (${detail})` : e.message;
}
