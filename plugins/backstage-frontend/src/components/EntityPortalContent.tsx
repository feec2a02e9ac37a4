import { stringifyEntityRef } from '@backstage/catalog-model';
import { InfoCard } from '@backstage/core-components';
import { useEntity } from '@backstage/plugin-catalog-react';
import { Grid, Typography } from '@material-ui/core';
import { PathTracer } from './PathTracerPage.tsx';
import {
  AnswerView,
  ChangesView,
  DependentsTable,
  DriftTable,
  impactHeadline,
  RollupTable,
  usePortal,
} from './shared.tsx';

/** The entity tab: blast radius in full, call paths from this service, deploys in its blast radius, drift. */
export function EntityPortalContent() {
  const { entity } = useEntity();
  const ref = stringifyEntityRef(entity);
  const name = entity.metadata.name;
  const impact = usePortal((api) => api.impact(ref), [ref]);
  const changes = usePortal((api) => api.changes({ impact: ref, since: '7d' }), [ref]);
  const drift = usePortal((api) => api.drift(ref), [ref]);
  return (
    <Grid container spacing={3} direction="column">
      <Grid item>
        <InfoCard title="Blast radius">
          <AnswerView answer={impact}>
            {(v) => (
              <>
                <Typography variant="h6" data-testid="portal-impact-headline">
                  {impactHeadline(name, v.total, v.dependents, v.bySquad.length)}
                </Typography>
                {v.byCollective.length > 0 && <RollupTable rollup={v.byCollective} label="Collective" />}
                {v.dependents.length > 0 && <DependentsTable dependents={v.dependents} />}
              </>
            )}
          </AnswerView>
        </InfoCard>
      </Grid>
      <Grid item>
        <InfoCard title={`Call paths from ${name}`}>
          <PathTracer fixedFrom={ref} />
        </InfoCard>
      </Grid>
      <Grid item>
        <InfoCard title="Deployed in its blast radius in the last 7 days">
          <AnswerView answer={changes}>{(v) => <ChangesView answer={v} />}</AnswerView>
        </InfoCard>
      </Grid>
      <Grid item>
        <InfoCard title="Drift: declared vs observed calls">
          <AnswerView answer={drift}>{(v) => <DriftTable findings={v.findings} />}</AnswerView>
        </InfoCard>
      </Grid>
    </Grid>
  );
}
