'use client';
import type { ServiceComparison } from '@bank/plugin-deploys';
import { ApiErrorBox } from '../common/feedback';
import { useApi } from '../common/use-api';
import { ago } from './deploy-bits';

type Env = ServiceComparison['environments'][number];

const Unknown = ({ children }: { children: string }) => <span className="muted">{children}</span>;
const Image = ({ image }: { image: string | null }) =>
  image ? (
    <div className="mono muted" style={{ fontSize: 11, overflowWrap: 'anywhere' }}>
      {image}
    </div>
  ) : null;

function Desired({ env }: { env: Env }) {
  const d = env.desired;
  if (!d) return <Unknown>no k8s/ manifests</Unknown>;
  if (!d.workload) return <Unknown>{d.problems[0] ?? `no workload in ${d.dir}`}</Unknown>;
  return (
    <>
      {d.replicas ?? '?'} replicas{' '}
      <span className="muted small">
        ({d.dir}/{d.file})
      </span>
      <Image image={d.image} />
    </>
  );
}

function Deployed({ env }: { env: Env }) {
  const d = env.deployed;
  if (!d) return <Unknown>no successful deploy</Unknown>;
  return (
    <>
      <span className="mono">{d.version}</span> {ago(d.at)}
      {d.actor ? ` by ${d.actor}` : ''}
      <Image image={d.image} />
    </>
  );
}

function Live({ env, configured }: { env: Env; configured: boolean }) {
  const l = env.live;
  if (!l)
    return (
      <Unknown>{configured ? `no cluster watched for ${env.environment}` : 'no cluster watched'}</Unknown>
    );
  if (l.state !== 'live')
    return (
      <span className="badge badge-warn">
        {l.state} since {ago(l.since)}
        {l.error ? ` (${l.error})` : ''}
      </span>
    );
  if (!l.workload) return <Unknown>no matching Deployment</Unknown>;
  return (
    <>
      {l.ready}/{l.desired} ready{l.rolloutComplete ? '' : ', rolling out'}
      {l.images.map((i) => (
        <Image key={i} image={i} />
      ))}
    </>
  );
}

/**
 * Per environment, side by side: what the repo's k8s/ manifests declare, the last successful deploy, and
 * what the cluster runs; a disagreement is marked and spelled out.
 */
export function CompareTable({ entityRef }: { entityRef: string }) {
  const { data, error } = useApi<ServiceComparison>(
    `/api/deploys/compare?service=${encodeURIComponent(entityRef)}`,
  );
  if (error) return <ApiErrorBox error={error} title="Desired vs deployed vs live could not be read" />;
  if (!data) return null;
  return (
    <div className="table-wrap" data-testid="compare">
      <table className="table">
        <thead>
          <tr>
            <th>Env</th>
            <th>Desired (repo k8s/)</th>
            <th>Deployed (last success)</th>
            <th>Live (cluster)</th>
            <th>Agree?</th>
          </tr>
        </thead>
        <tbody>
          {data.environments.map((env) => (
            <tr key={env.environment} data-testid={`compare-${env.environment}`}>
              <td>{env.environment}</td>
              <td className="small">
                <Desired env={env} />
              </td>
              <td className="small">
                <Deployed env={env} />
              </td>
              <td className="small">
                <Live env={env} configured={data.liveConfigured} />
              </td>
              <td className="small">
                {env.mismatches.length === 0 ? (
                  <span className="badge badge-ok">no mismatch</span>
                ) : (
                  <>
                    <span className="badge badge-danger" data-testid="mismatch">
                      mismatch
                    </span>
                    <ul style={{ margin: '4px 0 0', paddingLeft: 16 }}>
                      {env.mismatches.map((m) => (
                        <li key={m}>{m}</li>
                      ))}
                    </ul>
                  </>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
