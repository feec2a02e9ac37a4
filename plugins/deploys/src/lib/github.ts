import { createHmac, timingSafeEqual } from 'node:crypto';
import { AuthenticationError, InputError } from '@bank/plugin-kit';

/**
 * GitHub's `X-Hub-Signature-256: sha256=<hex HMAC of the raw body>` checked against the configured secret,
 * in constant time. Missing, malformed or wrong: 401 and nothing is read further.
 */
export function verifyGithubSignature(raw: Buffer, header: string | undefined, secret: string): void {
  if (!header)
    throw new AuthenticationError('X-Hub-Signature-256 is missing: the webhook must have a secret set');
  const m = /^sha256=([0-9a-f]{64})$/i.exec(header.trim());
  if (!m) throw new AuthenticationError('X-Hub-Signature-256 must be "sha256=<64 hex digits>"');
  const want = createHmac('sha256', secret).update(raw).digest();
  const got = Buffer.from(m[1], 'hex');
  if (!timingSafeEqual(want, got))
    throw new AuthenticationError(
      'X-Hub-Signature-256 does not match the body: is PORTAL_GITHUB_WEBHOOK_SECRET the secret set on the webhook?',
    );
}

interface GithubDeployment {
  id?: number;
  sha?: string;
  ref?: string;
  environment?: string;
  created_at?: string;
  creator?: { login?: string };
  payload?: Record<string, unknown> | string;
}

interface GithubPayload {
  deployment?: GithubDeployment;
  deployment_status?: {
    state?: string;
    created_at?: string;
    updated_at?: string;
    creator?: { login?: string };
  };
  repository?: { name?: string; full_name?: string };
}

/** GitHub's deployment status states → ours; `inactive` (superseded by a later deploy) records nothing. */
const STATE: Record<string, 'started' | 'succeeded' | 'failed' | null> = {
  queued: 'started',
  pending: 'started',
  in_progress: 'started',
  success: 'succeeded',
  failure: 'failed',
  error: 'failed',
  inactive: null,
};

/**
 * A `deployment` or `deployment_status` delivery as a deploy event of our contract, or null when it records
 * nothing (`ping`, `inactive`). The service is `deployment.payload.service`, else the repository's name; the
 * version `payload.version`, else the deployed ref; GitHub's `production` is our `prod` when that is the
 * environment configured. One GitHub deployment is one deploy: its statuses move it on.
 */
export function deployEventFromGithub(
  event: string | undefined,
  body: unknown,
  environments: string[],
): Record<string, unknown> | null {
  if (event === 'ping') return null;
  if (event !== 'deployment' && event !== 'deployment_status')
    throw new InputError(
      `X-GitHub-Event "${event ?? ''}" is not taken here: send deployment and deployment_status events`,
    );
  const p = (body ?? {}) as GithubPayload;
  const d = p.deployment;
  if (!d || typeof d.id !== 'number') throw new InputError(`a ${event} delivery must carry deployment.id`);
  let status: 'started' | 'succeeded' | 'failed' | null = 'started';
  let finishedAt: string | undefined;
  if (event === 'deployment_status') {
    const state = p.deployment_status?.state ?? '';
    if (!(state in STATE))
      throw new InputError(
        `deployment_status.state "${state}" is not one of ${Object.keys(STATE).join(', ')}`,
      );
    status = STATE[state];
    if (status === null) return null;
    if (status !== 'started') finishedAt = p.deployment_status?.created_at ?? p.deployment_status?.updated_at;
  }
  const extra = typeof d.payload === 'object' && d.payload !== null ? d.payload : {};
  const env = (d.environment ?? '').toLowerCase();
  const environment =
    env === 'production' && !environments.includes('production') && environments.includes('prod')
      ? 'prod'
      : env;
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  return {
    id: `github-${d.id}`,
    service: str(extra.service) ?? p.repository?.name,
    environment,
    version: str(extra.version) ?? d.ref ?? d.sha,
    image: str(extra.image),
    commit: d.sha,
    actor: d.creator?.login ?? p.deployment_status?.creator?.login,
    status,
    startedAt: d.created_at,
    finishedAt,
    repository: p.repository?.full_name,
  };
}
