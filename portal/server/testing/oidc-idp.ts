import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

/** A person the test identity provider knows: the login typed into its form is the account id. */
export interface IdpAccount {
  email?: string;
  email_verified?: boolean;
  preferred_username?: string;
  name?: string;
}

export interface TestIdp {
  issuer: string;
  clientId: string;
  clientSecret: string;
  close(): Promise<void>;
}

/**
 * A real OpenID Provider (the `oidc-provider` package, the certified implementation) on 127.0.0.1, with its
 * development login and consent pages: any login is accepted, and its claims come from `accounts`. PKCE is
 * required. Not a double: discovery, the authorization endpoint, the token endpoint, signed ID tokens and
 * one-time authorization codes are the provider's own.
 */
export async function startTestIdp(opts: {
  redirectUris: () => string[];
  accounts: Record<string, IdpAccount>;
}): Promise<TestIdp> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clientId = 'bank-portal';
  const clientSecret = 'bank-portal-test-secret';
  let provider: Provider | undefined;
  server.on('request', (req, res) => {
    // The client is registered on first use: the portal's callback URL is only known once it listens.
    provider ??= new Provider(issuer, {
      clients: [
        {
          client_id: clientId,
          client_secret: clientSecret,
          redirect_uris: opts.redirectUris(),
          grant_types: ['authorization_code'],
          response_types: ['code'],
        },
      ],
      pkce: { required: () => true },
      cookies: { keys: ['test-idp-cookie-key'] },
      claims: {
        openid: ['sub'],
        email: ['email', 'email_verified'],
        profile: ['preferred_username', 'name'],
      },
      findAccount: async (_ctx, id) => ({
        accountId: id,
        claims: async () => ({ sub: id, ...(opts.accounts[id] ?? {}) }),
      }),
    });
    provider.callback()(req, res);
  });
  return {
    issuer,
    clientId,
    clientSecret,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
