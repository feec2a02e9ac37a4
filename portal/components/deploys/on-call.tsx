'use client';
import type { ServiceOnCall } from '@bank/plugin-deploys';
import { SafeLink } from '../common/safe-link';
import { useApi } from '../common/use-api';

/** Who is on call for each service, by ref (one request for all of them). */
export function useOnCall(refs: string[] | undefined): Map<string, ServiceOnCall> {
  const list = refs?.filter((r) => r.startsWith('component:')) ?? [];
  const { data } = useApi<{ oncall: ServiceOnCall[] }>(
    list.length > 0 ? `/api/deploys/oncall?service=${list.map(encodeURIComponent).join(',')}` : null,
  );
  return new Map((data?.oncall ?? []).map((o) => [o.service, o]));
}

const hm = (iso: string) => `${iso.slice(5, 10)} ${iso.slice(11, 16)} UTC`;

/** "Jess Khan until 12-07 09:00 UTC, then Gareth Kowalski · page · Slack", or the bare rota when unknown. */
export function OnCallNow({ oncall, rota }: { oncall?: ServiceOnCall; rota: string | null }) {
  const o = oncall?.onCall;
  if (!o?.onCall)
    return (
      <span className="small" data-testid="oncall-now">
        <span className="mono">{rota ?? '—'}</span>
        {o?.error && <span className="muted"> (on call unknown: {o.error})</span>}
      </span>
    );
  return (
    <span className="small" data-testid="oncall-now">
      <strong>{o.onCall.displayName}</strong>
      {o.until && <> until {hm(o.until)}</>}
      {o.next && <>, then {o.next.displayName}</>}
      {o.pageUrl && (
        <>
          {' · '}
          <SafeLink href={o.pageUrl}>page</SafeLink>
        </>
      )}
      {o.slackUrl && (
        <>
          {' · '}
          <SafeLink href={o.slackUrl}>{o.slackChannel ?? 'Slack'}</SafeLink>
        </>
      )}
    </span>
  );
}
