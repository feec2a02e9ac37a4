'use client';
import { type FormEvent, type ReactNode, useEffect, useMemo, useRef, useState } from 'react';
import { entityHref } from '../../lib/refs.ts';
import { ApiErrorBox, Skeleton } from '../common/feedback';
import { useApi } from '../common/use-api';
import {
  type DryRunResult,
  PostError,
  type Problem,
  postJson,
  type SchemaProperty,
  type TemplateInfo,
} from './api';
import { EntityPicker, MultiEntityPicker } from './pickers';

type Values = Record<string, unknown>;

function initialValues(t: TemplateInfo): Values {
  const v: Values = {};
  for (const page of t.parameters) {
    for (const [k, s] of Object.entries(page.properties)) {
      if (s.default !== undefined) v[k] = s.default;
      else if (s.type === 'array') v[k] = [];
    }
  }
  return v;
}

/** What the server gets: empty optional strings left out, numbers as numbers. */
function payload(t: TemplateInfo, values: Values): Values {
  const out: Values = {};
  for (const page of t.parameters) {
    for (const [k, s] of Object.entries(page.properties)) {
      const v = values[k];
      if (v === undefined || v === '') continue;
      if ((s.type === 'integer' || s.type === 'number') && typeof v === 'string') out[k] = Number(v);
      else out[k] = v;
    }
  }
  return out;
}

const kindsOf = (s: SchemaProperty, fallback: string): string[] => {
  const k = s['ui:options']?.catalogFilter?.kind;
  return Array.isArray(k) ? k : k ? [k] : [fallback];
};

/** The form generated from the template's JSON Schema pages, with catalogue pickers, preview and create. */
export function ScaffoldForm({ template }: { template: string }) {
  const { data, error, loading } = useApi<TemplateInfo>(
    `/api/scaffolder/templates/${encodeURIComponent(template)}`,
  );
  if (error) return <ApiErrorBox error={error} title={`No template "${template}"`} />;
  if (loading || !data) return <Skeleton lines={8} />;
  return <Form t={data} />;
}

type Phase =
  | { kind: 'editing' }
  | { kind: 'previewing' }
  | { kind: 'signin'; dev: boolean; oidc: string | null }
  | { kind: 'creating'; taskId: string; steps: Record<string, string>; log: string[] }
  | { kind: 'created'; result: CreatedResult; steps: Record<string, string> }
  | { kind: 'failed'; message: string; steps?: Record<string, string> };

function Form({ t }: { t: TemplateInfo }) {
  const [values, setValues] = useState<Values>(() => initialValues(t));
  const [problems, setProblems] = useState<Problem[]>([]);
  const [message, setMessage] = useState<string | null>(null);
  const [preview, setPreview] = useState<DryRunResult | null>(null);
  const [phase, setPhase] = useState<Phase>({ kind: 'editing' });
  const [user, setUser] = useState('');
  const events = useRef<EventSource | null>(null);
  useEffect(() => () => events.current?.close(), []);

  const byField = useMemo(() => {
    const m = new Map<string, Problem[]>();
    for (const p of problems) {
      const root = p.field.split(/[.[]/)[0];
      m.set(root, [...(m.get(root) ?? []), p]);
    }
    return m;
  }, [problems]);

  const set = (k: string, v: unknown) => {
    setValues((old) => ({ ...old, [k]: v }));
    setPreview(null);
  };

  const fail = (err: unknown) => {
    if (err instanceof PostError) {
      setProblems(err.problems);
      setMessage(err.problems.length ? 'Some fields need attention; nothing was written.' : err.message);
    } else setMessage((err as Error).message);
  };

  async function dryRun() {
    setProblems([]);
    setMessage(null);
    setPhase({ kind: 'previewing' });
    try {
      setPreview(
        await postJson<DryRunResult>('/api/scaffolder/dry-run', {
          template: t.name,
          values: payload(t, values),
        }),
      );
    } catch (err) {
      fail(err);
    } finally {
      setPhase({ kind: 'editing' });
    }
  }

  async function create() {
    setProblems([]);
    setMessage(null);
    let created: { id: string };
    try {
      created = await postJson<{ id: string }>('/api/scaffolder/tasks', {
        template: t.name,
        values: payload(t, values),
      });
    } catch (err) {
      if (err instanceof PostError && err.status === 401) {
        // How this portal lets people sign in: the development sign-in, OpenID Connect, or neither.
        const me = (await fetch('/api/auth/me')
          .then((r) => r.json())
          .catch(() => ({}))) as { devSignIn?: boolean; signIn?: { oidc?: string | null } };
        setPhase({ kind: 'signin', dev: me.devSignIn === true, oidc: me.signIn?.oidc ?? null });
        return;
      }
      fail(err);
      return;
    }
    follow(created.id);
  }

  function follow(taskId: string) {
    const steps: Record<string, string> = {};
    setPhase({ kind: 'creating', taskId, steps: { ...steps }, log: [] });
    const es = new EventSource(`/api/scaffolder/tasks/${encodeURIComponent(taskId)}/events`);
    events.current = es;
    const onEvent = (raw: MessageEvent<string>) => {
      const e = JSON.parse(raw.data) as { type: string; stepId?: string; status?: string; message?: string };
      if (e.type === 'step' && e.stepId && e.status) steps[e.stepId] = e.status;
      setPhase((p) =>
        p.kind === 'creating'
          ? { ...p, steps: { ...steps }, log: e.message ? [...p.log, e.message] : p.log }
          : p,
      );
      if (e.type === 'completion') {
        es.close();
        if (e.status === 'completed') {
          void fetch(`/api/scaffolder/tasks/${encodeURIComponent(taskId)}`)
            .then((r) => r.json())
            .then((task: { result?: CreatedResult }) => {
              if (task.result) setPhase({ kind: 'created', result: task.result, steps: { ...steps } });
            });
        } else
          setPhase({
            kind: 'failed',
            message: e.message ?? 'The task failed; every step was rolled back',
            steps: { ...steps },
          });
      }
    };
    es.addEventListener('step', onEvent);
    es.addEventListener('log', onEvent);
    es.addEventListener('completion', onEvent);
  }

  async function signIn(e: FormEvent) {
    e.preventDefault();
    try {
      await postJson('/api/auth/sign-in', { user });
      setPhase({ kind: 'editing' });
      await create();
    } catch (err) {
      setMessage((err as Error).message);
    }
  }

  const busy = phase.kind === 'previewing' || phase.kind === 'creating' || phase.kind === 'created';
  return (
    <div className="stack" style={{ gap: 16 }} data-testid="scaffold-form">
      <div className="page-head">
        <div>
          <h1>{t.title}</h1>
          <p>
            {t.description} <span className="badge">v{t.version}</span>
          </p>
        </div>
      </div>
      <form
        className="stack"
        style={{ gap: 16 }}
        onSubmit={(e) => {
          e.preventDefault();
          void dryRun();
        }}
        noValidate
      >
        {t.parameters.map((page, pi) => (
          <fieldset key={page.title ?? pi} className="card card-pad stack" style={{ gap: 12 }}>
            <legend>
              <h2 style={{ margin: 0 }}>{page.title ?? `Step ${pi + 1}`}</h2>
            </legend>
            {Object.entries(page.properties).map(([key, schema]) => (
              <Field
                key={key}
                name={key}
                schema={schema}
                required={(page.required ?? []).includes(key)}
                value={values[key]}
                problems={byField.get(key) ?? []}
                onChange={(v) => set(key, v)}
              />
            ))}
          </fieldset>
        ))}
        {message && (
          <div className="callout callout-danger" role="alert" data-testid="form-error">
            <strong>{message}</strong>
            {problems.length > 0 && (
              <ul>
                {problems.map((p) => (
                  <li key={`${p.field}:${p.message}`}>
                    <code>{p.field}</code>: {p.message}
                  </li>
                ))}
              </ul>
            )}
          </div>
        )}
        <div className="row">
          <button type="submit" className="btn" disabled={busy} data-testid="dry-run">
            {phase.kind === 'previewing' ? 'Rendering…' : 'Preview (dry run)'}
          </button>
          <button
            type="button"
            className="btn btn-primary"
            disabled={busy}
            onClick={() => void create()}
            data-testid="create"
          >
            Create
          </button>
          <span className="muted small">
            Preview writes nothing. Create writes services/&lt;name&gt;, commits it on the checked-out branch
            and registers it.
          </span>
        </div>
      </form>

      {phase.kind === 'signin' && !phase.dev && (
        <section className="card card-pad stack" data-testid="sign-in">
          <h2 style={{ margin: 0 }}>Sign in to create</h2>
          {phase.oidc ? (
            <p style={{ margin: 0 }}>
              Creating writes to the repository, so the portal needs to know who you are.{' '}
              <a href={`${phase.oidc}?returnTo=${encodeURIComponent(window.location.pathname)}`}>
                Sign in with your bank account
              </a>
              , then create again.
            </p>
          ) : (
            <p style={{ margin: 0 }}>
              This portal has no sign-in for people configured (OpenID Connect); ask its operators, or use
              `portal scaffold` with your own checkout.
            </p>
          )}
        </section>
      )}

      {phase.kind === 'signin' && phase.dev && (
        <form className="card card-pad stack" onSubmit={(e) => void signIn(e)} data-testid="sign-in">
          <h2 style={{ margin: 0 }}>Sign in to create</h2>
          <p className="muted" style={{ margin: 0 }}>
            Creating writes to the repository, so the portal needs to know who you are. This portal runs the
            development sign-in: any catalogue User, no password.
          </p>
          <label className="field" htmlFor="sign-in-user">
            Your user name in the catalogue
            <input
              id="sign-in-user"
              className="input"
              value={user}
              onChange={(e) => setUser(e.target.value)}
              placeholder="jane.doe"
            />
          </label>
          <div>
            <button type="submit" className="btn btn-primary">
              Sign in and create
            </button>
          </div>
        </form>
      )}

      {phase.kind === 'created' && <Created result={phase.result} />}

      {(phase.kind === 'creating' || phase.kind === 'failed') && (
        <section className="card card-pad stack" aria-live="polite" data-testid="progress">
          <h2 style={{ margin: 0 }}>{phase.kind === 'failed' ? 'Creation failed' : 'Creating…'}</h2>
          <ol className="list">
            {t.steps.map((s) => {
              const status = phase.steps?.[s.id] ?? 'waiting';
              const icon =
                {
                  completed: '✓',
                  failed: '✗',
                  processing: '…',
                  skipped: '–',
                  'rolled-back': '↶',
                  waiting: '○',
                }[status] ?? '○';
              return (
                <li key={s.id} className="row" data-testid={`step-${s.id}`} data-status={status}>
                  <span aria-hidden="true">{icon}</span> {s.name}{' '}
                  <span className="muted small">{status}</span>
                </li>
              );
            })}
          </ol>
          {phase.kind === 'failed' && (
            <div className="callout callout-danger" role="alert">
              {phase.message}
            </div>
          )}
        </section>
      )}

      {preview && <Preview result={preview} />}
    </div>
  );
}

function Field(props: {
  name: string;
  schema: SchemaProperty;
  required: boolean;
  value: unknown;
  problems: Problem[];
  onChange: (v: unknown) => void;
}) {
  const { name, schema, value, problems, onChange } = props;
  const id = `param-${name}`;
  const helpId = `${id}-help`;
  const invalid = problems.length > 0;
  const picker = schema['ui:field'];
  let control: ReactNode;
  if (picker === 'OwnerPicker' || picker === 'EntityPicker') {
    control = (
      <EntityPicker
        id={id}
        kinds={kindsOf(schema, picker === 'OwnerPicker' ? 'Group' : 'Component')}
        value={typeof value === 'string' ? value : ''}
        onChange={onChange}
        invalid={invalid}
        describedBy={helpId}
      />
    );
  } else if (picker === 'MultiEntityPicker') {
    control = (
      <MultiEntityPicker
        id={id}
        kinds={kindsOf(schema, 'Component')}
        value={Array.isArray(value) ? (value as string[]) : []}
        onChange={onChange}
        invalid={invalid}
        describedBy={helpId}
      />
    );
  } else if (schema.enum) {
    control = (
      <select
        id={id}
        className="input"
        value={value === undefined ? '' : String(value)}
        aria-invalid={invalid || undefined}
        aria-describedby={helpId}
        onChange={(e) =>
          onChange(
            schema.type === 'integer' || schema.type === 'number' ? Number(e.target.value) : e.target.value,
          )
        }
      >
        {schema.enum.map((o) => (
          <option key={String(o)} value={String(o)}>
            {String(o)}
          </option>
        ))}
      </select>
    );
  } else if (schema['ui:widget'] === 'textarea') {
    control = (
      <textarea
        id={id}
        className="input"
        style={{ height: 64, paddingTop: 6 }}
        value={typeof value === 'string' ? value : ''}
        maxLength={schema.maxLength}
        aria-invalid={invalid || undefined}
        aria-describedby={helpId}
        onChange={(e) => onChange(e.target.value)}
      />
    );
  } else {
    const numeric = schema.type === 'integer' || schema.type === 'number';
    control = (
      <input
        id={id}
        className="input"
        type={numeric ? 'number' : 'text'}
        min={schema.minimum}
        max={schema.maximum}
        maxLength={schema.maxLength}
        value={value === undefined ? '' : String(value)}
        // biome-ignore lint/a11y/noAutofocus: the template asks for it (ui:autofocus) on its first field
        autoFocus={schema['ui:autofocus'] === true}
        aria-invalid={invalid || undefined}
        aria-describedby={helpId}
        onChange={(e) => onChange(numeric && e.target.value !== '' ? Number(e.target.value) : e.target.value)}
      />
    );
  }
  return (
    <div className="stack" style={{ gap: 4 }} data-testid={`field-${name}`}>
      <label className="field" htmlFor={id}>
        {schema.title ?? name}
        {props.required ? ' *' : ''}
      </label>
      {control}
      <span id={helpId} className="small muted">
        {schema.description}
      </span>
      {problems.map((p) => (
        <span
          key={p.message}
          className="small"
          style={{ color: 'var(--danger)' }}
          role="alert"
          data-testid={`problem-${name}`}
        >
          {p.message}
        </span>
      ))}
    </div>
  );
}

/** What a completed task reports (GET /api/scaffolder/tasks/:id). */
interface CreatedResult {
  dir?: string;
  entityRef?: string;
  branch?: string;
  commitHash?: string;
  repoUrl?: string;
  modified?: string[];
}

/** The result page: where the service is, in the catalogue and in git (links when the repository has a web address). */
function Created({ result }: { result: CreatedResult }) {
  const web = result.repoUrl;
  const enc = (s: string) => s.split('/').map(encodeURIComponent).join('/');
  return (
    <section className="card card-pad stack" aria-live="polite" data-testid="created">
      <h2 style={{ margin: 0 }}>Created</h2>
      {result.entityRef && (
        <p style={{ margin: 0 }}>
          <a className="btn btn-primary" href={entityHref(result.entityRef)} data-testid="created-entity">
            Open {result.entityRef} in the catalogue
          </a>
        </p>
      )}
      <p style={{ margin: 0 }} data-testid="created-git">
        <code>{result.dir}</code>
        {result.commitHash ? (
          <>
            {' '}
            committed as{' '}
            {web ? (
              <a href={`${web}/commit/${result.commitHash}`} data-testid="created-commit">
                <code>{result.commitHash.slice(0, 12)}</code>
              </a>
            ) : (
              <code data-testid="created-commit">{result.commitHash.slice(0, 12)}</code>
            )}
            {result.branch ? (
              <>
                {' '}
                on branch{' '}
                {web ? (
                  <a href={`${web}/tree/${enc(result.branch)}`} data-testid="created-branch">
                    <code>{result.branch}</code>
                  </a>
                ) : (
                  <code data-testid="created-branch">{result.branch}</code>
                )}
              </>
            ) : null}
            {result.modified && result.modified.length > 0 ? <>, with {result.modified.join(', ')}</> : null}.
            Push it and open a pull request.
          </>
        ) : (
          ' written (not a git repository: nothing committed).'
        )}
      </p>
      {result.commitHash && !web && (
        <p className="muted small" style={{ margin: 0 }}>
          <code>git show {result.commitHash.slice(0, 12)}</code> shows it; set <code>PORTAL_REPO_URL</code> to
          link to the repository's web pages.
        </p>
      )}
    </section>
  );
}

function Preview({ result }: { result: DryRunResult }) {
  const [open, setOpen] = useState<string>('catalog-info.yaml');
  const file = result.preview?.find((f) => f.path === open);
  return (
    <section
      className="card card-pad stack"
      style={{ gap: 12 }}
      data-testid="preview"
      aria-labelledby="preview-title"
    >
      <h2 id="preview-title" style={{ margin: 0 }}>
        Preview: nothing has been written
      </h2>
      <p className="muted" style={{ margin: 0 }}>
        Would write <code>{result.dir}</code>
        {result.branch ? (
          <>
            {' '}
            and commit it on the checked-out branch <code>{result.branch}</code>
          </>
        ) : null}
        , then register <code>{result.entityRef}</code>. Rendered in {result.durationMs} ms.
      </p>
      {result.modified && result.modified.length > 0 && (
        <p className="small" style={{ margin: 0 }} data-testid="preview-modified">
          Also updates, in the same commit, so its callees admit it:{' '}
          {result.modified.map((m) => (
            <code key={m.path}>{m.path} </code>
          ))}
        </p>
      )}
      <div className="grid grid-2" style={{ alignItems: 'start' }}>
        <div className="stack">
          <h3 style={{ margin: 0 }}>Files ({result.files.length})</h3>
          <ul className="list" data-testid="preview-files">
            {result.files.map((f) => (
              <li key={f}>
                <button
                  type="button"
                  className="btn btn-ghost"
                  aria-pressed={f === open}
                  onClick={() => setOpen(f)}
                  style={{ height: 26 }}
                >
                  <span className="mono small">{f}</span>
                </button>
              </li>
            ))}
          </ul>
        </div>
        <div className="stack">
          <h3 style={{ margin: 0 }} className="mono">
            {open}
          </h3>
          <pre
            className="card card-pad mono small"
            style={{ maxHeight: 420, overflow: 'auto', margin: 0 }}
            data-testid="preview-content"
          >
            {file?.content ?? (file?.target ? `→ ${file.target}` : '(binary)')}
          </pre>
        </div>
      </div>
      <div className="grid grid-2" style={{ alignItems: 'start' }}>
        <div className="stack" data-testid="preview-manifests">
          <h3 style={{ margin: 0 }}>Kubernetes manifests (validated offline)</h3>
          <ul className="list">
            {result.manifests.map((m) => (
              <li key={`${m.kind}/${m.name}`}>
                <span className={`badge ${m.errors.length ? 'badge-danger' : 'badge-ok'}`}>
                  {m.errors.length ? 'invalid' : 'valid'}
                </span>{' '}
                {m.kind}/<span className="mono">{m.name}</span>
                {m.errors.map((e) => (
                  <div key={e} className="small" style={{ color: 'var(--danger)' }}>
                    {e}
                  </div>
                ))}
              </li>
            ))}
          </ul>
        </div>
        <div className="stack" data-testid="preview-catalogue">
          <h3 style={{ margin: 0 }}>Catalogue changes</h3>
          <ul className="list">
            {result.catalogDiff?.added.map((a) => (
              <li key={a.ref}>
                <span className="badge badge-ok">new</span> <span className="mono">{a.ref}</span>
                <ul className="small muted">
                  {a.relations.map((r) => (
                    <li key={`${r.type}${r.targetRef}`}>
                      {r.type} <span className="mono">{r.targetRef}</span>
                    </li>
                  ))}
                </ul>
              </li>
            ))}
            {result.catalogDiff?.relationsAdded.map((r) => (
              <li key={`${r.source}${r.type}${r.targetRef}`} className="small">
                <span className="badge">changed</span> <span className="mono">{r.source}</span> {r.type}{' '}
                <span className="mono">{r.targetRef}</span>
              </li>
            ))}
          </ul>
        </div>
      </div>
    </section>
  );
}
