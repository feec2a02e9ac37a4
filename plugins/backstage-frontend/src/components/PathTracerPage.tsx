import { Content, Header, InfoCard, Page } from '@backstage/core-components';
import { Button, Grid, TextField } from '@material-ui/core';
import { type FormEvent, useState } from 'react';
import { useSearchParams } from 'react-router-dom';
import { AnswerView, ChangesView, PathsView, usePortal } from './shared.tsx';

/** A trace request as the page's URL holds it (?from=card-api&to=feed), so a trace can be linked. */
function useTrace() {
  const [params, setParams] = useSearchParams();
  const from = params.get('from') ?? '';
  const to = params.get('to') ?? '';
  return { from, to, trace: (f: string, t: string) => setParams({ from: f, to: t }) };
}

/** Form and answer; also the entity tab's "call paths" section (with `from` fixed to the entity). */
export function PathTracer(props: {
  fixedFrom?: string;
  initialFrom?: string;
  initialTo?: string;
  onTrace?: (from: string, to: string) => void;
}) {
  const [from, setFrom] = useState(props.fixedFrom ?? props.initialFrom ?? '');
  const [to, setTo] = useState(props.initialTo ?? '');
  const [asked, setAsked] = useState<{ from: string; to: string } | undefined>(
    (props.fixedFrom ?? props.initialFrom) && props.initialTo
      ? { from: props.fixedFrom ?? props.initialFrom ?? '', to: props.initialTo }
      : undefined,
  );
  const paths = usePortal(asked ? (api) => api.paths(asked.from, asked.to, { k: 3 }) : undefined, [
    asked?.from,
    asked?.to,
  ]);
  // What was deployed on the paths: asked once the paths are known (an unknown name is said once, above).
  const traced = paths && 'value' in paths ? paths.value : undefined;
  const changes = usePortal(
    traced ? (api) => api.changes({ from: traced.from, to: traced.to, since: '7d' }) : undefined,
    [traced],
  );
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const f = (props.fixedFrom ?? from).trim();
    const t = to.trim();
    if (!f || !t) return;
    setAsked({ from: f, to: t });
    props.onTrace?.(f, t);
  };
  return (
    <Grid container spacing={3} direction="column">
      <Grid item>
        <form onSubmit={submit} aria-label="trace a call path">
          <Grid container spacing={2} alignItems="center">
            <Grid item>
              <TextField
                id="portal-trace-from"
                label="From"
                value={props.fixedFrom ?? from}
                disabled={props.fixedFrom !== undefined}
                onChange={(e) => setFrom(e.target.value)}
                placeholder="card-api"
                inputProps={{ name: 'from' }}
              />
            </Grid>
            <Grid item>
              <TextField
                id="portal-trace-to"
                label="To"
                value={to}
                onChange={(e) => setTo(e.target.value)}
                placeholder="feed"
                inputProps={{ name: 'to' }}
              />
            </Grid>
            <Grid item>
              <Button type="submit" variant="contained" color="primary">
                Trace
              </Button>
            </Grid>
          </Grid>
        </form>
      </Grid>
      {asked && (
        <>
          <Grid item>
            <InfoCard title={`Call paths ${asked.from} → ${asked.to}`}>
              <AnswerView answer={paths}>
                {(v) => <PathsView paths={v.paths} from={v.from} to={v.to} />}
              </AnswerView>
            </InfoCard>
          </Grid>
          {traced && (
            <Grid item>
              <InfoCard title="Deployed on these paths in the last 7 days">
                <AnswerView answer={changes}>{(v) => <ChangesView answer={v} />}</AnswerView>
              </InfoCard>
            </Grid>
          )}
        </>
      )}
    </Grid>
  );
}

/** The path tracer page: where an incident responder finds how card-api reaches feed and who owns each hop. */
export function PathTracerPage() {
  const { from, to, trace } = useTrace();
  return (
    <Page themeId="tool">
      <Header
        title="Path tracer"
        subtitle="How one service reaches another, hop by hop, and who owns each hop"
      />
      <Content>
        <PathTracer initialFrom={from} initialTo={to} onTrace={trace} />
      </Content>
    </Page>
  );
}
