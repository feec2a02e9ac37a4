import { stringifyEntityRef } from '@backstage/catalog-model';
import { InfoCard } from '@backstage/core-components';
import { useEntity } from '@backstage/plugin-catalog-react';
import { Typography } from '@material-ui/core';
import { AnswerView, impactHeadline, RollupTable, usePortal } from './shared.tsx';

/** The overview card: the entity's blast radius in figures, its drift and its deploys this week. */
export function EntityPortalCard() {
  const { entity } = useEntity();
  const ref = stringifyEntityRef(entity);
  const name = entity.metadata.name;
  const impact = usePortal((api) => api.impact(ref), [ref]);
  const drift = usePortal((api) => api.drift(ref), [ref]);
  const changes = usePortal((api) => api.changes({ service: ref, since: '7d' }), [ref]);
  return (
    <InfoCard title="Blast radius and drift" subheader="from the bank portal">
      <AnswerView answer={impact}>
        {(v) => (
          <>
            <Typography variant="h6" data-testid="portal-impact-headline">
              {impactHeadline(name, v.total, v.dependents, v.bySquad.length)}
            </Typography>
            {v.bySquad.length > 0 && <RollupTable rollup={v.bySquad.slice(0, 5)} label="Squad" />}
          </>
        )}
      </AnswerView>
      <AnswerView answer={drift}>
        {(v) => (
          <Typography data-testid="portal-drift-summary">
            Drift: {v.summary['observed-only']} undeclared{' '}
            {v.summary['observed-only'] === 1 ? 'call' : 'calls'}, {v.summary['declared-only']} declared{' '}
            {v.summary['declared-only'] === 1 ? 'call' : 'calls'} never seen
            {v.summary.possiblyDead > 0 ? ` (${v.summary.possiblyDead} possibly dead)` : ''}.
          </Typography>
        )}
      </AnswerView>
      <AnswerView answer={changes}>
        {(v) => (
          <Typography data-testid="portal-deploys-summary">
            Deploys in the last 7 days: {v.deploys.length}.
          </Typography>
        )}
      </AnswerView>
    </InfoCard>
  );
}
