import { InputError } from '@bank/plugin-kit';

/** Backstage's label (and annotation) tying cluster objects to a catalogue entity. */
export const KUBERNETES_ID_LABEL = 'backstage.io/kubernetes-id';

/** A deploy's status, in the order a deploy moves through them (a later one never goes back). */
export const DEPLOY_STATUSES = ['started', 'succeeded', 'failed', 'rolled_back'] as const;
export type DeployStatus = (typeof DEPLOY_STATUSES)[number];

/**
 * How far along a deploy is: a started deploy finishes (succeeded or failed), a finished one may be rolled
 * back. An event with a lower rank than what is stored for its id arrived late and changes nothing.
 */
export const STATUS_RANK: Record<DeployStatus, number> = {
  started: 0,
  succeeded: 1,
  failed: 1,
  rolled_back: 2,
};

/** Where an event came from. `demo` is the generated history, dropped when the first real event arrives. */
export type DeploySource = 'api' | 'cli' | 'github' | 'demo';

/** A deploy event as the public contract has it (design.md), checked. Times are ms since the epoch. */
export interface DeployEventInput {
  id: string;
  /** As sent: a short name or a ref; resolved against the catalogue by the service. */
  service: string;
  environment: string;
  version: string;
  image: string | null;
  commit: string | null;
  actor: string | null;
  status: DeployStatus;
  startedAtMs: number;
  finishedAtMs: number | null;
  labels: Record<string, unknown> | null;
}

/** A stored deploy, as the API and CLI show it. */
export interface Deploy {
  id: string;
  service: string;
  environment: string;
  version: string;
  image: string | null;
  commit: string | null;
  actor: string | null;
  status: DeployStatus;
  startedAt: string;
  finishedAt: string | null;
  source: DeploySource;
  labels: Record<string, unknown>;
  recordedBy: string;
  receivedAt: string;
}

/** Fields of the contract; anything else in an event is kept as a label. */
const CONTRACT_FIELDS = new Set([
  'id',
  'service',
  'environment',
  'version',
  'image',
  'commit',
  'actor',
  'status',
  'startedAt',
  'finishedAt',
]);

const ID = /^[A-Za-z0-9][A-Za-z0-9._:@/+-]{0,199}$/;
const MAX_TEXT = 500;
const MAX_LABELS_JSON = 8 * 1024;

/** How far in the future a timestamp may be (clocks of CI runners drift): PORTAL_DEPLOY_CLOCK_SKEW_S, 300 s. */
export function clockSkewMs(env: Record<string, string | undefined> = process.env): number {
  const raw = env.PORTAL_DEPLOY_CLOCK_SKEW_S;
  const s = raw === undefined || raw === '' ? 300 : Number(raw);
  return Number.isFinite(s) && s >= 0 ? s * 1000 : 300_000;
}

/**
 * Check one event against the contract. Every problem names the field and the rule; several problems are
 * reported together so a CI script is fixed in one go.
 */
export function parseDeployEvent(
  body: unknown,
  opts: { now?: number; skewMs?: number } = {},
): DeployEventInput {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InputError(
      'A deploy event is a JSON object: {"id","service","environment","version","status","startedAt",…}',
    );
  }
  const o = body as Record<string, unknown>;
  const problems: string[] = [];
  const text = (field: string, required: boolean): string | null => {
    const v = o[field];
    if (v === undefined || v === null || v === '') {
      if (required) problems.push(`${field} is required`);
      return null;
    }
    if (typeof v !== 'string') {
      problems.push(`${field} must be a string, got ${typeof v}`);
      return null;
    }
    if (v.length > MAX_TEXT) {
      problems.push(`${field} is ${v.length} characters; at most ${MAX_TEXT}`);
      return null;
    }
    return v.trim();
  };
  const id = text('id', true);
  if (id !== null && !ID.test(id))
    problems.push(
      `id ${JSON.stringify(id)} must be 1–200 letters, digits or . _ : @ / + - (e.g. the CI run id)`,
    );
  const service = text('service', true);
  const environment = text('environment', true);
  const version = text('version', true);
  const image = text('image', false);
  const commit = text('commit', false);
  const actor = text('actor', false);
  const statusRaw = text('status', true);
  let status: DeployStatus | null = null;
  if (statusRaw !== null) {
    if ((DEPLOY_STATUSES as readonly string[]).includes(statusRaw)) status = statusRaw as DeployStatus;
    else problems.push(`status ${JSON.stringify(statusRaw)} must be one of ${DEPLOY_STATUSES.join(', ')}`);
  }
  const time = (field: string, required: boolean): number | null => {
    const v = text(field, required);
    if (v === null) return null;
    // ISO 8601 with a date and a time; a bare date or "yesterday" would be read in the server's zone.
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(v)) {
      problems.push(`${field} ${JSON.stringify(v)} must be ISO 8601 with a zone, e.g. 2026-12-04T10:15:00Z`);
      return null;
    }
    const ms = Date.parse(v);
    if (Number.isNaN(ms)) {
      problems.push(`${field} ${JSON.stringify(v)} is not a valid date`);
      return null;
    }
    return ms;
  };
  const startedAtMs = time('startedAt', true);
  const finishedAtMs = time('finishedAt', false);
  const now = opts.now ?? Date.now();
  const skew = opts.skewMs ?? clockSkewMs();
  for (const [field, ms] of [
    ['startedAt', startedAtMs],
    ['finishedAt', finishedAtMs],
  ] as const) {
    if (ms !== null && ms > now + skew)
      problems.push(
        `${field} ${new Date(ms).toISOString()} is in the future (now ${new Date(now).toISOString()}, allowed clock skew ${skew / 1000} s)`,
      );
  }
  if (startedAtMs !== null && finishedAtMs !== null && finishedAtMs < startedAtMs)
    problems.push(
      `finishedAt ${new Date(finishedAtMs).toISOString()} is before startedAt ${new Date(startedAtMs).toISOString()}`,
    );
  if (status === 'started' && finishedAtMs !== null)
    problems.push('a started deploy has no finishedAt yet: send status succeeded, failed or rolled_back');
  const labels: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (!CONTRACT_FIELDS.has(k)) labels[k] = v;
  const labelsJson = JSON.stringify(labels);
  if (labelsJson.length > MAX_LABELS_JSON)
    problems.push(
      `extra fields (kept as labels) take ${labelsJson.length} bytes; at most ${MAX_LABELS_JSON}`,
    );
  if (problems.length > 0) {
    throw new InputError(`Deploy event${id ? ` ${id}` : ''}: ${problems.join('; ')}`, { problems });
  }
  return {
    id: id as string,
    service: service as string,
    environment: environment as string,
    version: version as string,
    image,
    commit,
    actor,
    status: status as DeployStatus,
    startedAtMs: startedAtMs as number,
    finishedAtMs,
    labels: Object.keys(labels).length > 0 ? labels : null,
  };
}

/** The configured environments in promotion order: PORTAL_ENVIRONMENTS (comma-separated), else staging, prod. */
export function configuredEnvironments(env: Record<string, string | undefined> = process.env): string[] {
  const raw = env.PORTAL_ENVIRONMENTS;
  const list = (raw ?? 'staging,prod')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s.length > 0);
  for (const name of list)
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(name))
      throw new Error(
        `PORTAL_ENVIRONMENTS: "${name}" is not an environment name (lowercase letters, digits, -)`,
      );
  if (new Set(list).size !== list.length)
    throw new Error('PORTAL_ENVIRONMENTS: an environment is listed twice');
  return list.length > 0 ? list : ['staging', 'prod'];
}

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/**
 * A `since` as people type it: `90m`, `2h`, `7d`, `1w`, or an ISO 8601 time. Returns ms since the epoch.
 */
export function parseSince(raw: string, field = 'since', now = Date.now()): number {
  const v = raw.trim();
  const m = /^(\d{1,6})\s*([mhdw])$/.exec(v);
  if (m) return now - Number(m[1]) * UNIT_MS[m[2]];
  if (/^\d{4}-\d{2}-\d{2}/.test(v)) {
    const ms = Date.parse(v);
    if (!Number.isNaN(ms)) return ms;
  }
  throw new InputError(
    `${field} ${JSON.stringify(raw)} must be a duration like 30m, 2h, 7d, 1w or an ISO 8601 time`,
    { field },
  );
}
