/**
 * Who to call, now: an on-call rota (the entity's `bank.io/oncall-rota` annotation) resolved to the person
 * on call at this moment, the next hand-over and who takes over, with a page link and the Slack channel as
 * a link. The one place the entity page API, the paths API and the CLI ask. Two sources:
 * - the schedule file the estate generator writes (`oncall.json`: weekly rotation through a squad's
 *   engineers), the embedded default;
 * - PagerDuty's on-call API (`GET /oncalls`) when `PAGERDUTY_TOKEN` is set; the rota id is then a PagerDuty
 *   schedule id.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { GraphIndex } from '@bank/graph';
import { nodeCard } from '@bank/graph/card';

export const ONCALL_FILE = 'oncall.json';

export interface OnCallPerson {
  name: string;
  displayName: string;
  email: string | null;
}

export interface OnCallNow {
  rota: string;
  source: 'schedule-file' | 'pagerduty';
  /** Null when the rota is not known to the source (or the source failed: see `error`). */
  onCall: OnCallPerson | null;
  since: string | null;
  /** The next hand-over. */
  until: string | null;
  next: OnCallPerson | null;
  /** Where to page them: PagerDuty's page for the schedule or person, else a mailto. */
  pageUrl: string | null;
  slackChannel: string | null;
  slackUrl: string | null;
  error?: string;
}

export interface OnCallDirectory {
  readonly source: OnCallNow['source'];
  whoIsOnCall(rotas: readonly string[], at?: number): Promise<Map<string, OnCallNow>>;
}

/**
 * Same rule as the UI's `portal/lib/slack.ts` (Slack channel names only), so descriptor text never becomes
 * a URL; kept here too because the CLI and API need the link and the UI bundle must not import this package.
 */
export function slackChannelUrl(channel: string | null | undefined): string | null {
  const name = channel?.trim().replace(/^#/, '');
  if (!name || !/^[a-z0-9][a-z0-9_-]{0,79}$/.test(name)) return null;
  return `https://slack.com/app_redirect?channel=${name}`;
}

const mailto = (p: OnCallPerson | null) => (p?.email ? `mailto:${encodeURIComponent(p.email)}` : null);

const unknownRota = (rota: string, source: OnCallNow['source'], error?: string): OnCallNow => ({
  rota,
  source,
  onCall: null,
  since: null,
  until: null,
  next: null,
  pageUrl: null,
  slackChannel: null,
  slackUrl: null,
  ...(error ? { error } : {}),
});

interface FileRota {
  id: string;
  squad?: string;
  slackChannel?: string;
  members: OnCallPerson[];
}

/** The estate generator's schedules: `members[i]` is on call in the i-th hand-over period (mod members). */
export class ScheduleFileOnCall implements OnCallDirectory {
  readonly source = 'schedule-file' as const;
  private readonly rotas = new Map<string, FileRota>();
  private readonly startMs: number;
  private readonly periodMs: number;

  constructor(schedules: unknown, where = ONCALL_FILE) {
    const s = schedules as { rotationStart?: unknown; handoverHours?: unknown; rotas?: unknown };
    const startMs = typeof s?.rotationStart === 'string' ? Date.parse(s.rotationStart) : Number.NaN;
    if (!Number.isFinite(startMs)) throw new Error(`${where}: rotationStart must be an ISO 8601 time`);
    if (typeof s.handoverHours !== 'number' || !(s.handoverHours > 0))
      throw new Error(`${where}: handoverHours must be a positive number`);
    if (!Array.isArray(s.rotas)) throw new Error(`${where}: expected "rotas": [...]`);
    this.startMs = startMs;
    this.periodMs = s.handoverHours * 3_600_000;
    s.rotas.forEach((r: unknown, i) => {
      const rota = r as FileRota;
      const members = Array.isArray(rota?.members)
        ? rota.members.filter((m) => typeof m?.name === 'string' && m.name.length > 0)
        : [];
      if (typeof rota?.id !== 'string' || members.length === 0)
        throw new Error(`${where}: rotas[${i}] needs an "id" and at least one member with a "name"`);
      this.rotas.set(rota.id, {
        ...rota,
        members: members.map((m) => ({
          name: m.name,
          displayName: typeof m.displayName === 'string' ? m.displayName : m.name,
          email: typeof m.email === 'string' && m.email ? m.email : null,
        })),
      });
    });
  }

  /** Schedules under the first of `roots` that has the file; null when none has. */
  static fromRoots(roots: readonly string[]): ScheduleFileOnCall | null {
    for (const root of roots) {
      const file = path.join(root, ONCALL_FILE);
      if (existsSync(file)) return new ScheduleFileOnCall(JSON.parse(readFileSync(file, 'utf8')), file);
    }
    return null;
  }

  async whoIsOnCall(rotas: readonly string[], at = Date.now()): Promise<Map<string, OnCallNow>> {
    const out = new Map<string, OnCallNow>();
    // Periods before rotationStart count backwards, so any moment has someone on call.
    const period = Math.floor((at - this.startMs) / this.periodMs);
    const since = this.startMs + period * this.periodMs;
    for (const id of rotas) {
      const rota = this.rotas.get(id);
      if (!rota) {
        out.set(id, unknownRota(id, this.source));
        continue;
      }
      const n = rota.members.length;
      const onCall = rota.members[((period % n) + n) % n];
      out.set(id, {
        rota: id,
        source: this.source,
        onCall,
        since: new Date(since).toISOString(),
        until: new Date(since + this.periodMs).toISOString(),
        next: rota.members[(((period + 1) % n) + n) % n],
        pageUrl: mailto(onCall),
        slackChannel: rota.slackChannel ?? null,
        slackUrl: slackChannelUrl(rota.slackChannel),
      });
    }
    return out;
  }
}

interface PdOnCall {
  user?: { id?: string; summary?: string; name?: string; email?: string; html_url?: string };
  schedule?: { id?: string; summary?: string; html_url?: string } | null;
  escalation_level?: number;
  start?: string | null;
  end?: string | null;
}

/**
 * PagerDuty's REST API v2 `GET /oncalls` (Authorization: `Token token=…`), asked for the rotas' schedules
 * over the next 14 days, so one call gives who is on call now and who takes over at the end of their shift.
 * Slack channels are not PagerDuty's: they come from `slackOf` (the entity's annotation).
 */
export class PagerDutyOnCall implements OnCallDirectory {
  readonly source = 'pagerduty' as const;
  constructor(
    private readonly opts: {
      token: string;
      baseUrl?: string;
      timeoutMs?: number;
      slackOf?: (rota: string) => string | null;
    },
  ) {}

  async whoIsOnCall(rotas: readonly string[], at = Date.now()): Promise<Map<string, OnCallNow>> {
    const out = new Map<string, OnCallNow>();
    const ids = [...new Set(rotas)];
    if (ids.length === 0) return out;
    const url = new URL('/oncalls', this.opts.baseUrl ?? 'https://api.pagerduty.com');
    for (const id of ids) url.searchParams.append('schedule_ids[]', id);
    url.searchParams.set('since', new Date(at).toISOString());
    url.searchParams.set('until', new Date(at + 14 * 86_400_000).toISOString());
    url.searchParams.append('include[]', 'users');
    url.searchParams.set('limit', '100');
    let entries: PdOnCall[];
    try {
      const res = await fetch(url, {
        headers: {
          Authorization: `Token token=${this.opts.token}`,
          Accept: 'application/vnd.pagerduty+json;version=2',
        },
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 5_000),
      });
      if (!res.ok) throw new Error(`PagerDuty GET /oncalls answered ${res.status}`);
      const body = (await res.json()) as { oncalls?: unknown };
      if (!Array.isArray(body.oncalls)) throw new Error('PagerDuty GET /oncalls: no "oncalls" list');
      entries = body.oncalls as PdOnCall[];
    } catch (err) {
      const message = (err as Error).message;
      for (const id of ids) out.set(id, unknownRota(id, this.source, message));
      return out;
    }
    const person = (e: PdOnCall): OnCallPerson | null =>
      e.user?.id
        ? {
            name: e.user.id,
            displayName: e.user.name ?? e.user.summary ?? e.user.id,
            email: e.user.email ?? null,
          }
        : null;
    for (const id of ids) {
      // Level 1 is who gets paged first; the others are escalations.
      const shifts = entries
        .filter((e) => e.schedule?.id === id && (e.escalation_level ?? 1) === 1)
        .sort((a, b) => Date.parse(a.start ?? '') - Date.parse(b.start ?? ''));
      const now = shifts.find(
        (e) => Date.parse(e.start ?? '') <= at && (e.end == null || at < Date.parse(e.end)),
      );
      if (!now) {
        out.set(id, unknownRota(id, this.source));
        continue;
      }
      const following = now.end ? shifts.find((e) => e.start === now.end && e !== now) : undefined;
      const slack = this.opts.slackOf?.(id) ?? null;
      out.set(id, {
        rota: id,
        source: this.source,
        onCall: person(now),
        since: now.start ?? null,
        until: now.end ?? null,
        next: following ? person(following) : null,
        pageUrl: now.user?.html_url ?? now.schedule?.html_url ?? null,
        slackChannel: slack,
        slackUrl: slackChannelUrl(slack),
      });
    }
    return out;
  }
}

/** PagerDuty when `PAGERDUTY_TOKEN` is set, else the estate's schedule file; null when neither is there. */
export function onCallFromEnv(
  roots: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  slackOf?: (rota: string) => string | null,
): OnCallDirectory | null {
  const token = env.PAGERDUTY_TOKEN?.trim();
  if (token) return new PagerDutyOnCall({ token, baseUrl: env.PAGERDUTY_API_URL || undefined, slackOf });
  return ScheduleFileOnCall.fromRoots(roots);
}

/** One line for the CLI: "on call Jane Doe until Mon 12:00 UTC, then John Roe · page … · slack …". */
export function onCallLine(o: OnCallNow | undefined): string {
  if (!o?.onCall) return o?.error ? `on call unknown (${o.error})` : 'on call unknown';
  const until = o.until ? ` until ${o.until.slice(0, 16).replace('T', ' ')} UTC` : '';
  const next = o.next ? `, then ${o.next.displayName}` : '';
  const links = [o.pageUrl ? `page ${o.pageUrl}` : '', o.slackUrl ? `slack ${o.slackUrl}` : '']
    .filter(Boolean)
    .join('  ');
  return `on call ${o.onCall.displayName}${until}${next}${links ? `  ${links}` : ''}`;
}

export interface ServiceOnCall {
  service: string;
  rota: string | null;
  runbook: string | null;
  onCall: OnCallNow | null;
}

/**
 * Who is on call now for each service (canonical refs in `index`): its rota, runbook and the person, with
 * the service's own Slack channel when the rota has none. Needs no store: `portal path` prints it under
 * every hop from the graph alone.
 */
export async function onCallOfServices(
  index: GraphIndex,
  refs: readonly string[],
  directory: OnCallDirectory | null | undefined,
  at: number,
): Promise<ServiceOnCall[]> {
  const cards = refs.map((ref) => nodeCard(index, ref));
  const rotas = cards.map((c) => c.oncall).filter((r): r is string => !!r);
  const resolved = directory ? await directory.whoIsOnCall(rotas, at) : new Map<string, OnCallNow>();
  return cards.map((card) => {
    const found: OnCallNow | undefined = card.oncall ? resolved.get(card.oncall) : undefined;
    const onCall =
      found && !found.slackChannel && card.slack
        ? { ...found, slackChannel: card.slack, slackUrl: slackChannelUrl(card.slack) }
        : (found ?? null);
    return { service: card.ref, rota: card.oncall, runbook: card.runbook, onCall };
  });
}
