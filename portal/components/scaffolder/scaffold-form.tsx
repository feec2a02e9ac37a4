'use client';
// The Form module itself: @rjsf/core's index also exports a test registry that imports validator-ajv8.
import Form from '@rjsf/core/lib/components/Form.js';
import type { RJSFSchema, UiSchema } from '@rjsf/utils';
import {
  type Dispatch,
  type FormEvent,
  type SetStateAction,
  useEffect,
  useMemo,
  useRef,
  useState,
} from 'react';
import { entityHref } from '../../lib/refs.ts';
import { ApiErrorBox, Skeleton } from '../common/feedback';
import { SafeLink } from '../common/safe-link';
import { useApi } from '../common/use-api';
import { type DryRunResult, PostError, type Problem, postJson, type TemplateInfo } from './api';
import { BACKSTAGE_FIELDS, PortalFieldTemplate } from './form-fields';
import { extractUiSchema, formValidator } from './form-schema';

type Values = Record<string, unknown>;

/** A page of the template as rjsf takes it: the schema (without its own title), the uiSchema, its fields. */
interface Page {
  title: string;
  description?: string;
  schema: RJSFSchema;
  uiSchema: UiSchema;
  /** Field name → title, in the order shown. */
  fields: Map<string, string>;
}

/**
 * Every property a schema can set at its top level (properties, and those of dependencies/oneOf/allOf
 * branches), with its title, in the order the page shows them (`ui:order` first).
 */
function fieldsOf(schema: Record<string, unknown>, out = new Map<string, string>()): Map<string, string> {
  const props = schema.properties;
  if (props && typeof props === 'object')
    for (const [k, v] of Object.entries(props)) {
      const title = (v as { title?: unknown })?.title;
      if (!out.has(k) || typeof title === 'string')
        out.set(k, typeof title === 'string' ? title : (out.get(k) ?? k));
    }
  for (const key of ['oneOf', 'anyOf', 'allOf']) {
    const list = schema[key];
    if (Array.isArray(list))
      for (const b of list) if (b && typeof b === 'object') fieldsOf(b as Record<string, unknown>, out);
  }
  for (const key of ['then', 'else']) {
    const b = schema[key];
    if (b && typeof b === 'object') fieldsOf(b as Record<string, unknown>, out);
  }
  const deps = schema.dependencies;
  if (deps && typeof deps === 'object')
    for (const d of Object.values(deps))
      if (d && typeof d === 'object' && !Array.isArray(d)) fieldsOf(d as Record<string, unknown>, out);
  return out;
}

function ordered(fields: Map<string, string>, order: unknown): Map<string, string> {
  if (!Array.isArray(order)) return fields;
  const first = order.filter((k): k is string => typeof k === 'string' && fields.has(k));
  return new Map(
    [...first, ...[...fields.keys()].filter((k) => !first.includes(k))].map((k) => [
      k,
      fields.get(k) as string,
    ]),
  );
}

function pagesOf(t: TemplateInfo): Page[] {
  return t.parameters.map((raw, i) => {
    const { title, description, ...rest } = raw as Record<string, unknown>;
    const { schema, uiSchema } = extractUiSchema({ type: 'object', ...rest });
    return {
      title: typeof title === 'string' ? title : `Step ${i + 1}`,
      description: typeof description === 'string' ? description : undefined,
      schema,
      uiSchema,
      fields: ordered(fieldsOf(schema as Record<string, unknown>), uiSchema['ui:order']),
    };
  });
}

/** What the server gets: values of the template's fields, empty strings left out. */
function payload(pages: Page[], values: Values): Values {
  const known = new Set(pages.flatMap((p) => [...p.fields.keys()]));
  const out: Values = {};
  for (const [k, v] of Object.entries(values)) {
    if (!known.has(k) || v === undefined || v === '') continue;
    out[k] = v;
  }
  return out;
}

/** A value as the review table shows it. */
const shown = (v: unknown) => (v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v));

/** The form generated from the template's parameter pages (Backstage's form language, through rjsf), with a review, preview and create. */
export function ScaffoldForm({ template }: { template: string }) {
  const { data, error, loading } = useApi<TemplateInfo>(
    `/api/scaffolder/templates/${encodeURIComponent(template)}`,
  );
  if (error) return <ApiErrorBox error={error} title={`No template "${template}"`} />;
  if (loading || !data) return <Skeleton lines={8} />;
  return <TemplateForm t={data} />;
}

type Phase =
  | { kind: 'editing' }
  | { kind: 'previewing' }
  | { kind: 'signin'; dev: boolean; oidc: string | null }
  | { kind: 'creating'; taskId: string; steps: Record<string, string>; log: string[] }
  | { kind: 'created'; result: CreatedResult; steps: Record<string, string> }
  | { kind: 'failed'; message: string; steps?: Record<string, string> };

/** The field a problem is about, as the form names it: `dependsOn[1]` → `dependsOn`. */
const rootField = (field: string) => field.split(/[.[]/)[0] as string;

/** The template's pages one at a time (each validated before the next), then the review, preview and create. */
function TemplateForm({ t }: { t: TemplateInfo }) {
  const pages = useMemo(() => pagesOf(t), [t]);
  const [values, setValues] = useState<Values>({});
  const [pageIndex, setPageIndex] = useState(0);
  const task = useScaffolderTask(t, pages, values, setPageIndex);
  const { phase, problems } = task;
  const reviewing = pageIndex >= pages.length;

  /** The server's problems, as rjsf's extra errors of the page that holds each field. */
  const extraErrors = useMemo(() => {
    const e: Record<string, { __errors: string[] }> = {};
    for (const p of problems) {
      const root = rootField(p.field);
      e[root] = { __errors: [...(e[root]?.__errors ?? []), p.message] };
    }
    return e;
  }, [problems]);

  const busy = phase.kind === 'previewing' || phase.kind === 'creating' || phase.kind === 'created';
  const page = pages[pageIndex];
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
      <Stepper titles={[...pages.map((p) => p.title), 'Review']} current={pageIndex} />
      {page && (
        <PageForm
          page={page}
          index={pageIndex}
          last={pageIndex === pages.length - 1}
          values={values}
          extraErrors={extraErrors}
          onChange={(v) => {
            setValues((old) => ({ ...old, ...v }));
            task.setPreview(null);
          }}
          onNext={(v) => {
            setValues((old) => ({ ...old, ...v }));
            task.setProblems((old) => old.filter((p) => !page.fields.has(rootField(p.field))));
            setPageIndex(pageIndex + 1);
          }}
          onBack={() => setPageIndex(pageIndex - 1)}
        />
      )}
      {reviewing && (
        <Review
          pages={pages}
          values={values}
          busy={busy}
          previewing={phase.kind === 'previewing'}
          onBack={() => setPageIndex(pages.length - 1)}
          onDryRun={() => void task.dryRun()}
          onCreate={() => void task.create()}
        />
      )}
      {task.message && <FormError message={task.message} problems={problems} />}
      {phase.kind === 'signin' && !phase.dev && <SignInElsewhere oidc={phase.oidc} />}
      {phase.kind === 'signin' && phase.dev && (
        <DevSignIn user={task.user} setUser={task.setUser} onSubmit={(e) => void task.signIn(e)} />
      )}
      {phase.kind === 'created' && <Created result={phase.result} />}
      {(phase.kind === 'creating' || phase.kind === 'failed') && <Progress steps={t.steps} phase={phase} />}
      {task.preview && <Preview result={task.preview} />}
    </div>
  );
}

/**
 * The task behind the form: the dry run, the create (asking to sign in first when needed), following its
 * events to the end; the server's problems and the page they send the form back to.
 */
function useScaffolderTask(
  t: TemplateInfo,
  pages: Page[],
  values: Values,
  showPage: (index: number) => void,
) {
  const [problems, setProblems] = useState<Problem[]>([]);
  const [message, setMessage] = useState<string | null>(null);
  const [preview, setPreview] = useState<DryRunResult | null>(null);
  const [phase, setPhase] = useState<Phase>({ kind: 'editing' });
  const [user, setUser] = useState('');
  const events = useRef<EventSource | null>(null);
  useEffect(() => () => events.current?.close(), []);

  const fail = (err: unknown) => {
    if (err instanceof PostError) {
      setProblems(err.problems);
      setMessage(err.problems.length ? 'Some fields need attention; nothing was written.' : err.message);
      // Back to the first page holding a field with a problem, where its message shows under it.
      const first = pages.findIndex((pg) => err.problems.some((p) => pg.fields.has(rootField(p.field))));
      if (first >= 0) showPage(first);
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
          values: payload(pages, values),
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
        values: payload(pages, values),
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
    events.current = followTask(created.id, setPhase);
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

  return {
    phase,
    problems,
    setProblems,
    message,
    preview,
    setPreview,
    user,
    setUser,
    dryRun,
    create,
    signIn,
  };
}

/** Follows a task's events (each step's status, log lines) to its end: the created result, or the failure. */
function followTask(taskId: string, setPhase: Dispatch<SetStateAction<Phase>>): EventSource {
  const steps: Record<string, string> = {};
  setPhase({ kind: 'creating', taskId, steps: { ...steps }, log: [] });
  const es = new EventSource(`/api/scaffolder/tasks/${encodeURIComponent(taskId)}/events`);
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
  return es;
}

/** The pages and the review, the current one marked. */
function Stepper({ titles, current }: { titles: string[]; current: number }) {
  return (
    <ol
      className="row stepper"
      aria-label="Steps"
      data-testid="stepper"
      style={{ gap: 8, listStyle: 'none', padding: 0, margin: 0, flexWrap: 'wrap' }}
    >
      {titles.map((title, i) => (
        <li
          key={title}
          className={`badge${i === current ? ' badge-ok' : ''}`}
          aria-current={i === current ? 'step' : undefined}
        >
          {i + 1}. {title}
        </li>
      ))}
    </ol>
  );
}

/** One parameter page as rjsf renders it, with Back and Next (Next validates the page first). */
function PageForm({
  page,
  index,
  last,
  values,
  extraErrors,
  onChange,
  onNext,
  onBack,
}: {
  page: Page;
  index: number;
  last: boolean;
  values: Values;
  extraErrors: Record<string, { __errors: string[] }>;
  onChange: (values: Values) => void;
  onNext: (values: Values) => void;
  onBack: () => void;
}) {
  return (
    <section className="card card-pad stack rjsf-page" style={{ gap: 12 }} data-testid={`page-${index}`}>
      <h2 style={{ margin: 0 }}>{page.title}</h2>
      {page.description && (
        <p className="muted" style={{ margin: 0 }}>
          {page.description}
        </p>
      )}
      <Form
        key={index}
        className="rjsf stack"
        schema={page.schema}
        uiSchema={page.uiSchema}
        formData={values}
        validator={formValidator}
        fields={BACKSTAGE_FIELDS}
        templates={{ FieldTemplate: PortalFieldTemplate }}
        extraErrors={extraErrors as never}
        showErrorList={false}
        noHtml5Validate
        idPrefix="param"
        idSeparator="-"
        onChange={(e) => onChange(e.formData as Values)}
        onSubmit={(e) => onNext(e.formData as Values)}
      >
        <div className="row" style={{ gap: 8 }}>
          {index > 0 && (
            <button type="button" className="btn" onClick={onBack} data-testid="back">
              Back
            </button>
          )}
          <button type="submit" className="btn btn-primary" data-testid="next">
            {last ? 'Review' : 'Next'}
          </button>
        </div>
      </Form>
    </section>
  );
}

/** Every value given, by its title; Back, Preview (dry run) and Create. */
function Review({
  pages,
  values,
  busy,
  previewing,
  onBack,
  onDryRun,
  onCreate,
}: {
  pages: Page[];
  values: Values;
  busy: boolean;
  previewing: boolean;
  onBack: () => void;
  onDryRun: () => void;
  onCreate: () => void;
}) {
  return (
    <section className="card card-pad stack" style={{ gap: 12 }} data-testid="review">
      <h2 style={{ margin: 0 }}>Review</h2>
      <table className="table" data-testid="review-values">
        <tbody>
          {pages.flatMap((p) =>
            [...p.fields]
              .filter(([k]) => values[k] !== undefined && values[k] !== '')
              .map(([k, title]) => (
                <tr key={k}>
                  <th scope="row">{title}</th>
                  <td className="mono small">{shown(values[k])}</td>
                </tr>
              )),
          )}
        </tbody>
      </table>
      <div className="row">
        <button type="button" className="btn" onClick={onBack} disabled={busy} data-testid="back">
          Back
        </button>
        <button type="button" className="btn" disabled={busy} onClick={onDryRun} data-testid="dry-run">
          {previewing ? 'Rendering…' : 'Preview (dry run)'}
        </button>
        <button
          type="button"
          className="btn btn-primary"
          disabled={busy}
          onClick={onCreate}
          data-testid="create"
        >
          Create
        </button>
        <span className="muted small">Preview writes and sends nothing.</span>
      </div>
    </section>
  );
}

function FormError({ message, problems }: { message: string; problems: Problem[] }) {
  return (
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
  );
}

/** Sign-in is needed and happens elsewhere: at the identity provider, or nowhere on this portal. */
function SignInElsewhere({ oidc }: { oidc: string | null }) {
  return (
    <section className="card card-pad stack" data-testid="sign-in">
      <h2 style={{ margin: 0 }}>Sign in to create</h2>
      {oidc ? (
        <p style={{ margin: 0 }}>
          Creating writes to the repository, so the portal needs to know who you are.{' '}
          <a href={`${oidc}?returnTo=${encodeURIComponent(window.location.pathname)}`}>
            Sign in with your bank account
          </a>
          , then create again.
        </p>
      ) : (
        <p style={{ margin: 0 }}>
          This portal has no sign-in for people configured (OpenID Connect); ask its operators, or use `portal
          scaffold` with your own checkout.
        </p>
      )}
    </section>
  );
}

/** The development sign-in (any catalogue User, no password), then create. */
function DevSignIn({
  user,
  setUser,
  onSubmit,
}: {
  user: string;
  setUser: (user: string) => void;
  onSubmit: (e: FormEvent) => void;
}) {
  return (
    <form className="card card-pad stack" onSubmit={onSubmit} data-testid="sign-in">
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
  );
}

/** Each step of the running (or failed) task with its status. */
function Progress({
  steps,
  phase,
}: {
  steps: TemplateInfo['steps'];
  phase: Extract<Phase, { kind: 'creating' } | { kind: 'failed' }>;
}) {
  return (
    <section className="card card-pad stack" aria-live="polite" data-testid="progress">
      <h2 style={{ margin: 0 }}>{phase.kind === 'failed' ? 'Creation failed' : 'Creating…'}</h2>
      <ol className="list">
        {steps.map((s) => {
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
              <span aria-hidden="true">{icon}</span> {s.name} <span className="muted small">{status}</span>
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
  output?: { links?: { title?: string; url?: string; entityRef?: string }[] };
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
      {(result.output?.links ?? []).some((l) => l.url) && (
        <ul className="list" data-testid="created-links">
          {(result.output?.links ?? [])
            .filter((l) => l.url)
            .map((l) => (
              <li key={`${l.title}${l.url}`}>
                <SafeLink href={l.url}>{l.title ?? l.url}</SafeLink>
              </li>
            ))}
        </ul>
      )}
      {result.dir && (
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
              {result.modified && result.modified.length > 0 ? (
                <>, with {result.modified.join(', ')}</>
              ) : null}
              . Push it and open a pull request.
            </>
          ) : (
            ' written (not a git repository: nothing committed).'
          )}
        </p>
      )}
      {result.dir && result.commitHash && !web && (
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
      {result.dir && (
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
      )}
      {result.requests && result.requests.length > 0 && (
        <div className="stack" data-testid="preview-requests">
          <h3 style={{ margin: 0 }}>Would send ({result.requests.length} requests; nothing was sent)</h3>
          <ol className="list small">
            {result.requests.map((r) => (
              <li key={`${r.method} ${r.url} ${JSON.stringify(r.body ?? '')}`}>
                <code>
                  {r.method} {r.url}
                </code>
                {r.note ? <span className="muted"> — {r.note}</span> : null}
                {r.body !== undefined && (
                  <pre className="mono small" style={{ margin: '4px 0', maxHeight: 160, overflow: 'auto' }}>
                    {JSON.stringify(r.body, null, 2)}
                  </pre>
                )}
              </li>
            ))}
          </ol>
        </div>
      )}
      {!result.dir && result.entityRef && (
        <p className="muted" style={{ margin: 0 }}>
          Would register <code>{result.entityRef}</code>. Rendered in {result.durationMs} ms.
        </p>
      )}
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
        {result.manifests.length > 0 && (
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
        )}
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
