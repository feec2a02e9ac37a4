import { Progress, WarningPanel } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import { ResponseError } from '@backstage/errors';
import { Chip, Table, TableBody, TableCell, TableHead, TableRow, Typography } from '@material-ui/core';
import { type DependencyList, type ReactNode, useEffect, useState } from 'react';
import { type PortalApi, portalApiRef } from '../api/PortalClient.ts';
import type {
  CallPath,
  ChangesAnswer,
  Dependent,
  DriftFinding,
  ImpactRollup,
  ServiceCard,
} from '../api/types.ts';

export type Answer<T> = { loading: true } | { loading: false; value: T } | { loading: false; error: Error };

/**
 * One request to the portal per change of `deps`; an answer that arrives after the inputs moved on is
 * dropped (a slow trace must not overwrite a newer one).
 */
export function usePortal<T>(
  ask: ((api: PortalApi) => Promise<T>) | undefined,
  deps: DependencyList,
): Answer<T> | undefined {
  const api = useApi(portalApiRef);
  const [answer, setAnswer] = useState<Answer<T> | undefined>(undefined);
  // biome-ignore lint/correctness/useExhaustiveDependencies: the caller names what the request depends on
  useEffect(() => {
    if (!ask) {
      setAnswer(undefined);
      return;
    }
    let current = true;
    setAnswer({ loading: true });
    ask(api).then(
      (value) => current && setAnswer({ loading: false, value }),
      (error: Error) => current && setAnswer({ loading: false, error }),
    );
    return () => {
      current = false;
    };
  }, [api, ...deps]);
  return answer;
}

/** Renders progress, the portal's own error message, or the answer. */
export function AnswerView<T>(props: { answer: Answer<T> | undefined; children: (value: T) => ReactNode }) {
  const { answer } = props;
  if (!answer) return null;
  if (answer.loading) return <Progress />;
  if ('error' in answer) return <PortalError error={answer.error} />;
  return <>{props.children(answer.value)}</>;
}

/** The portal's message (it answers in Backstage's error envelope), with its closest-name suggestions. */
export function PortalError({ error }: { error: Error }) {
  let message = error.message;
  let suggestions: string[] = [];
  let title = 'The portal could not answer';
  if (ResponseError.is(error)) {
    message = error.cause.message;
    const raw = (error.body.error as { suggestions?: unknown }).suggestions;
    if (Array.isArray(raw)) suggestions = raw.filter((s): s is string => typeof s === 'string');
    title = `The portal answered ${error.statusCode}`;
  } else if (error.name === 'PortalUnreachableError') {
    title = 'The portal is unreachable';
  }
  return (
    <WarningPanel
      severity="error"
      title={title}
      defaultExpanded
      message={
        <>
          {message}
          {suggestions.length > 0 && <> Did you mean: {suggestions.join(', ')}?</>}
        </>
      }
    />
  );
}

/** `component:default/card-api` → `card-api`; group refs likewise. */
export function shortRef(ref: string | null | undefined): string {
  if (!ref) return '—';
  const name = ref.slice(ref.indexOf(':') + 1);
  return name.startsWith('default/') ? name.slice('default/'.length) : name;
}

const safeHttp = (url: string | null | undefined) => (url && /^https?:\/\//i.test(url) ? url : undefined);

function TierChip({ tier }: { tier: number | null }) {
  return (
    <Chip
      size="small"
      label={tier === null ? 'tier ?' : `tier ${tier}`}
      color={tier === 1 ? 'secondary' : 'default'}
    />
  );
}

/** One path as its ordered hops: who owns each, its tier and on-call, and how each calls the next. */
export function PathHops({ path, index }: { path: CallPath; index: number }) {
  return (
    <Table size="small" aria-label={`path ${index + 1}`} data-testid="portal-path">
      <TableHead>
        <TableRow>
          <TableCell>Hop</TableCell>
          <TableCell>Service</TableCell>
          <TableCell>Owner</TableCell>
          <TableCell>Tier</TableCell>
          <TableCell>On-call</TableCell>
          <TableCell>Calls the next hop by</TableCell>
        </TableRow>
      </TableHead>
      <TableBody>
        {path.hops.map((hop, i) => {
          const edge = path.edges[i];
          const runbook = safeHttp(hop.runbook);
          return (
            <TableRow key={hop.ref} data-testid="portal-hop">
              <TableCell>{i + 1}</TableCell>
              <TableCell>
                <strong>{hop.name}</strong>
                {hop.title && hop.title !== hop.name ? ` (${hop.title})` : ''}
              </TableCell>
              <TableCell>{shortRef(hop.owner)}</TableCell>
              <TableCell>
                <TierChip tier={hop.tier} />
              </TableCell>
              <TableCell>
                {hop.oncall ?? '—'}
                {runbook && (
                  <>
                    {' · '}
                    <a href={runbook} target="_blank" rel="noopener noreferrer">
                      runbook
                    </a>
                  </>
                )}
              </TableCell>
              <TableCell>
                {edge ? `${edge.kinds.join(', ')} (${edge.sources.join(', ')})` : '— destination'}
              </TableCell>
            </TableRow>
          );
        })}
      </TableBody>
    </Table>
  );
}

export function PathsView({ paths, from, to }: { paths: CallPath[]; from: string; to: string }) {
  if (paths.length === 0) {
    return (
      <Typography>
        No call path from {shortRef(from)} to {shortRef(to)}.
      </Typography>
    );
  }
  return (
    <>
      {paths.map((path, i) => (
        <div key={path.hops.map((h) => h.ref).join('>')} style={{ marginBottom: 16 }}>
          <Typography variant="subtitle1">
            Path {i + 1}: {path.hops.map((h) => h.name).join(' → ')} ({path.length}{' '}
            {path.length === 1 ? 'hop' : 'hops'})
          </Typography>
          <PathHops path={path} index={i} />
        </div>
      ))}
    </>
  );
}

/** The blast radius in one sentence: how many services call this one, how many are tier 1, how many squads. */
export function impactHeadline(
  name: string,
  total: number,
  dependents: ServiceCard[],
  squads: number,
): string {
  if (total === 0) return `Nothing calls ${name}: its blast radius is empty.`;
  const tier1 = dependents.filter((d) => d.tier === 1).length;
  return `${total} ${total === 1 ? 'service depends' : 'services depend'} on ${name}, ${tier1} of them tier 1, across ${squads} ${squads === 1 ? 'squad' : 'squads'}.`;
}

export function DependentsTable({ dependents }: { dependents: Dependent[] }) {
  return (
    <Table size="small" aria-label="services in the blast radius">
      <TableHead>
        <TableRow>
          <TableCell>Service</TableCell>
          <TableCell>Owner</TableCell>
          <TableCell>Tier</TableCell>
          <TableCell>Hops away</TableCell>
          <TableCell>Through</TableCell>
        </TableRow>
      </TableHead>
      <TableBody>
        {dependents.map((d) => (
          <TableRow key={d.ref} data-testid="portal-dependent">
            <TableCell>{d.name}</TableCell>
            <TableCell>{shortRef(d.owner)}</TableCell>
            <TableCell>
              <TierChip tier={d.tier} />
            </TableCell>
            <TableCell>{d.depth}</TableCell>
            <TableCell>{shortRef(d.through)}</TableCell>
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}

export function RollupTable({ rollup, label }: { rollup: ImpactRollup[]; label: string }) {
  return (
    <Table size="small" aria-label={`blast radius by ${label}`}>
      <TableHead>
        <TableRow>
          <TableCell>{label}</TableCell>
          <TableCell>Services</TableCell>
          <TableCell>Tier 1</TableCell>
          <TableCell>Nearest (hops)</TableCell>
        </TableRow>
      </TableHead>
      <TableBody>
        {rollup.map((r) => (
          <TableRow key={r.ref} data-testid="portal-rollup">
            <TableCell>{shortRef(r.ref)}</TableCell>
            <TableCell>{r.services}</TableCell>
            <TableCell>{r.byTier['1'] ?? 0}</TableCell>
            <TableCell>{r.nearest}</TableCell>
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}

const STATUS_TEXT: Record<DriftFinding['status'], string> = {
  'declared-only': 'declared, never seen',
  'observed-only': 'seen, not declared',
  both: 'declared and seen',
};

export function DriftTable({ findings }: { findings: DriftFinding[] }) {
  if (findings.length === 0)
    return <Typography>No drift: every call edge is both declared and seen.</Typography>;
  return (
    <Table size="small" aria-label="drift">
      <TableHead>
        <TableRow>
          <TableCell>Caller</TableCell>
          <TableCell>Callee</TableCell>
          <TableCell>Drift</TableCell>
          <TableCell>Caller's squad</TableCell>
          <TableCell>Requests</TableCell>
          <TableCell>Last seen</TableCell>
        </TableRow>
      </TableHead>
      <TableBody>
        {findings.map((f) => (
          <TableRow key={`${f.from}>${f.to}`} data-testid="portal-drift-row">
            <TableCell>{shortRef(f.from)}</TableCell>
            <TableCell>{shortRef(f.to)}</TableCell>
            <TableCell>
              {STATUS_TEXT[f.status]}
              {f.possiblyDead ? ' (possibly dead)' : ''}
            </TableCell>
            <TableCell>{shortRef(f.owner)}</TableCell>
            <TableCell>{f.requests}</TableCell>
            <TableCell>{f.lastSeen ?? '—'}</TableCell>
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}

export function ChangesView({ answer }: { answer: ChangesAnswer }) {
  const since = answer.since.slice(0, 16).replace('T', ' ');
  if (answer.deploys.length === 0) {
    return (
      <Typography>
        No deploys since {since} UTC to the {answer.services.length}{' '}
        {answer.services.length === 1 ? 'service' : 'services'} in scope.
      </Typography>
    );
  }
  return (
    <>
      <Typography>
        {answer.deploys.length} {answer.deploys.length === 1 ? 'deploy' : 'deploys'} since {since} UTC
        {answer.demo ? ' (demo history)' : ''}
      </Typography>
      <Table size="small" aria-label="deploy changes">
        <TableHead>
          <TableRow>
            <TableCell>Started</TableCell>
            <TableCell>Service</TableCell>
            <TableCell>Environment</TableCell>
            <TableCell>Version</TableCell>
            <TableCell>Status</TableCell>
            <TableCell>By</TableCell>
          </TableRow>
        </TableHead>
        <TableBody>
          {answer.deploys.map((d) => (
            <TableRow key={d.id} data-testid="portal-deploy">
              <TableCell>{d.startedAt.slice(0, 16).replace('T', ' ')}</TableCell>
              <TableCell>{shortRef(d.service)}</TableCell>
              <TableCell>{d.environment}</TableCell>
              <TableCell>{d.version}</TableCell>
              <TableCell>{d.status}</TableCell>
              <TableCell>{d.actor ?? '—'}</TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
    </>
  );
}
