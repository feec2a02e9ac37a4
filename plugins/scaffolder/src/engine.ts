/**
 * The engine: load a template, validate parameters, then run its steps over an in-memory workspace.
 * A dry-run runs the very same steps with `dryRun: true` (nothing leaves the workspace) and returns the
 * file tree with contents, the Kubernetes manifests with their validation, and the catalogue diff.
 * A real run is a transaction: the first failing step undoes every side effect before it, newest first.
 */
import { randomUUID } from 'node:crypto';
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { isSafeUrl, UrlReader } from '@bank/catalog';
import { builtinActions, type CatalogDiff } from './actions/index.ts';
import { type Integration, integrationsFromEnv, type OutboundRequest } from './actions/providers.ts';
import { ExpressionError, truthy } from './expr/expression.ts';
import { renderValue } from './expr/render.ts';
import {
  type ManifestReport,
  parseManifests,
  preloadManifestModels,
  validateManifests,
} from './manifests.ts';
import { validateParameters } from './parameters.ts';
import {
  loadTemplate,
  loadTemplates,
  missingActionsError,
  type Template,
  type TemplateError,
  type TemplateStep,
} from './template.ts';
import {
  type Action,
  type CatalogPort,
  type ScaffolderEnv,
  type TaskActor,
  type TaskEvent,
  Transaction,
} from './types.ts';
import { Workspace } from './workspace.ts';

export interface ScaffolderOptions {
  repoRoot: string;
  catalog: CatalogPort;
  /** Default `<repoRoot>/templates`. */
  templatesDir?: string;
  /** Default `<repoRoot>/services`. */
  servicesDir?: string;
  /** Git providers for publish:github/gitlab (default: integrationsFromEnv()). */
  integrations?: Integration[];
  /** URL reader for URL skeletons (default: the catalogue's, else one from PORTAL_READING_*). */
  reader?: UrlReader;
  /** Extra actions (e.g. a bank-specific publish); ids must not clash with the built-ins. */
  actions?: Action[];
}

export interface FilePreview {
  path: string;
  size: number;
  kind: 'file' | 'symlink';
  /** Text contents (dry-run only; binary files have none). */
  content?: string;
  target?: string;
}

export interface ScaffoldResult {
  taskId: string;
  template: { name: string; version: string };
  dryRun: boolean;
  /** Repo-relative directory of the new service (`services/<name>`). */
  dir?: string;
  entityRef?: string;
  /** Paths relative to `dir` (or to the workspace when nothing is published). */
  files: string[];
  preview?: FilePreview[];
  manifests: ManifestReport[];
  catalogDiff?: CatalogDiff;
  branch?: string;
  commitHash?: string;
  /** The repository's web address (PORTAL_REPO_URL), for links to the branch and the commit. */
  repoUrl?: string;
  /** Files of other services changed with it (callees' ingress policies admitting the new caller). */
  modified?: { path: string; content: string }[];
  output: {
    links: { title?: string; url?: string; entityRef?: string; icon?: string }[];
    text: { title?: string; content?: string }[];
  };
  steps: { id: string; name: string; action: string; status: string; ms: number }[];
  /** The requests the provider steps sent (or, in a dry-run, would send): method, URL, body; never a token. */
  requests?: OutboundRequest[];
  log: string[];
  durationMs: number;
}

/** A failed step: names the step and the field; the task was rolled back before this was thrown. */
export class StepFailedError extends Error {
  constructor(
    readonly stepId: string,
    override readonly cause: Error,
    readonly rollbackFailures: string[],
  ) {
    super(
      `step "${stepId}" failed: ${cause.message}${rollbackFailures.length ? ` (rollback problems: ${rollbackFailures.join('; ')})` : ''}`,
    );
    this.name = 'StepFailedError';
  }
  /** The HTTP status of the underlying error (400 input, 409 conflict, …). */
  get status(): number {
    return (this.cause as { status?: number }).status ?? 500;
  }
}

/** The task was cancelled (RunOptions.signal): the step it was at stopped, what was done is rolled back. */
export class TaskCancelledError extends StepFailedError {
  constructor(stepId: string, rollbackFailures: string[]) {
    super(stepId, new Error('the task was cancelled'), rollbackFailures);
    this.name = 'TaskCancelledError';
  }
  override get status(): number {
    return 409;
  }
}

export interface RunOptions {
  actor: TaskActor;
  dryRun?: boolean;
  taskId?: string;
  onEvent?: (e: TaskEvent) => void;
  /**
   * Backstage's task secrets (`secrets` of POST /v2/tasks, e.g. a user's OAuth token): `${{ secrets.NAME }}`
   * in step inputs, `if` and `each`, not in the template's output. Never stored; every secret value is
   * replaced by *** in the log and in errors.
   */
  secrets?: Record<string, string>;
  /** Cancels the task: no further step starts, the running step's provider requests are aborted. */
  signal?: AbortSignal;
}

/** Backstage's task secrets as given over HTTP: a mapping of names to strings (at most 50, 16 KiB each). */
export function checkSecrets(raw: unknown, field = 'secrets'): Record<string, string> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw))
    throw new Error(`${field}: must be a mapping of names to strings`);
  const entries = Object.entries(raw as Record<string, unknown>);
  if (entries.length > 50) throw new Error(`${field}: at most 50 secrets, got ${entries.length}`);
  const out: Record<string, string> = {};
  for (const [name, value] of entries) {
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name))
      throw new Error(`${field}: "${name.slice(0, 64)}" is not a secret name (letters, digits and _)`);
    if (typeof value !== 'string' || value.length > 16 * 1024)
      throw new Error(`${field}.${name}: must be a string of at most 16 KiB`);
    out[name] = value;
  }
  return out;
}

/** Replaces every secret value in a text by ***. */
function redactor(secrets: Record<string, string>): (text: string) => string {
  const values = [...new Set(Object.values(secrets).filter((v) => v.length > 0))].sort(
    (a, b) => b.length - a.length,
  );
  if (values.length === 0) return (text) => text;
  return (text) => values.reduce((t, v) => t.split(v).join('***'), text);
}

/** The error with secret values replaced (its status kept), or the error itself when it holds none. */
function redactedError(e: Error, redact: (t: string) => string): Error {
  const message = redact(e.message);
  if (message === e.message) return e;
  return Object.assign(new Error(message), { status: (e as { status?: number }).status });
}

export class Scaffolder {
  readonly env: ScaffolderEnv;
  readonly actions = new Map<string, Action>();

  constructor(opts: ScaffolderOptions) {
    const repoRoot = realpathSync(opts.repoRoot);
    this.env = {
      repoRoot,
      templatesDir: opts.templatesDir ?? path.join(repoRoot, 'templates'),
      servicesDir: opts.servicesDir ?? path.join(repoRoot, 'services'),
      catalog: opts.catalog,
      integrations: opts.integrations ?? integrationsFromEnv(),
      reader: opts.reader ?? opts.catalog.reader ?? new UrlReader(),
    };
    for (const a of [...builtinActions(), ...(opts.actions ?? [])]) {
      if (this.actions.has(a.id)) throw new Error(`action ${a.id} is registered twice`);
      this.actions.set(a.id, a);
    }
  }

  /**
   * Starts loading the Kubernetes schemas (~2 s) the manifests are checked against, once: the server asks
   * this when someone opens the scaffolder, so their first dry-run does not wait for it, and a portal nobody
   * scaffolds from never spends the time or memory.
   */
  warmUp(): void {
    this.warming ??= preloadManifestModels().catch(() => undefined);
  }
  private warming: Promise<void> | undefined;

  private get actionIds(): ReadonlySet<string> {
    return new Set(this.actions.keys());
  }

  listTemplates(): { templates: Template[]; errors: TemplateError[] } {
    return loadTemplates(this.env.templatesDir, this.actionIds);
  }

  template(name: string): Template {
    return loadTemplate(this.env.templatesDir, name, this.actionIds);
  }

  /** Refuse a real run of a template whose actions are not all registered here, naming every one. */
  assertRunnable(template: Template): void {
    const err = missingActionsError(template);
    if (err) throw err;
  }

  /** Validate parameters against the template and the catalogue (throws ParameterError listing each field). */
  async parameters(template: Template, raw: unknown): Promise<Record<string, unknown>> {
    const view = await this.env.catalog.view();
    return validateParameters(template, raw, { catalog: view, servicesDir: this.env.servicesDir });
  }

  dryRun(templateName: string, raw: unknown, opts: Omit<RunOptions, 'dryRun'>): Promise<ScaffoldResult> {
    return this.run(templateName, raw, { ...opts, dryRun: true });
  }

  async run(templateName: string, raw: unknown, opts: RunOptions): Promise<ScaffoldResult> {
    const started = performance.now();
    const template = this.template(templateName);
    if (opts.dryRun !== true) this.assertRunnable(template);
    const values = await this.parameters(template, raw);
    return this.execute(template, values, opts, started);
  }

  /** Run validated values through the steps. */
  async execute(
    template: Template,
    values: Record<string, unknown>,
    opts: RunOptions,
    started = performance.now(),
  ): Promise<ScaffoldResult> {
    const dryRun = opts.dryRun === true;
    if (!dryRun) this.assertRunnable(template);
    const secrets = opts.secrets ?? {};
    const taskId = opts.taskId ?? randomUUID();
    const stepsOut: TaskRun['stepsOut'] = {};
    const scope: Record<string, unknown> = {
      parameters: values,
      steps: stepsOut,
      user: { ref: opts.actor.id },
      context: { task: { id: taskId } },
      template: { name: template.name, version: template.version },
    };
    const run: TaskRun = {
      template,
      dryRun,
      taskId,
      opts,
      workspace: new Workspace(),
      tx: new Transaction(),
      published: new Map(),
      stepsOut,
      scope,
      // Steps see the secrets; the template's output does not.
      stepScope: { ...scope, secrets },
      redact: redactor(secrets),
      steps: [],
      skippedMissing: [],
      log: [],
      emit: (e) => opts.onEvent?.(e),
    };
    for (const [i, step] of template.steps.entries()) await this.runStep(run, step, i);
    await settle(run);
    const result = await resultOf(run, started);
    run.emit({ type: 'completion', status: 'completed', at: now() });
    return result;
  }

  /**
   * One step: skipped when its `if` is false, run once or once per `each` item; a failure (or a cancel) rolls
   * back what the steps before it did.
   */
  private async runStep(run: TaskRun, step: TemplateStep, i: number): Promise<void> {
    const { emit, stepsOut, opts } = run;
    const field = `spec.steps[${i}]`;
    const t0 = performance.now();
    const logLine = (line: string) => {
      const m = run.redact(line);
      run.log.push(`[${step.id}] ${m}`);
      emit({ type: 'log', stepId: step.id, message: m, at: now() });
    };
    const skipped = () => {
      run.steps.push({ id: step.id, name: step.name, action: step.action, status: 'skipped', ms: 0 });
      emit({ type: 'step', stepId: step.id, name: step.name, status: 'skipped', at: now() });
    };
    const cancelled = () => {
      if (opts.signal?.aborted) throw new TaskCancelledError(step.id, []);
    };
    try {
      cancelled();
      if (step.if !== undefined && !truthy(renderValue(step.if, run.stepScope, `${field}.if`)))
        return skipped();
      const action = this.actions.get(step.action);
      if (!action && run.dryRun) {
        // Backstage's dry-run skips what it cannot simulate; a step whose action is not here is shown so.
        logLine(
          `action "${step.action}" is not available here: skipped in this dry-run (a real run refuses)`,
        );
        stepsOut[step.id] = { output: {} };
        run.skippedMissing.push(step.id);
        return skipped();
      }
      emit({ type: 'step', stepId: step.id, name: step.name, status: 'processing', at: now() });
      if (!action) throw new ExpressionError(`unknown action "${step.action}"`, `${field}.action`);
      const output: Record<string, unknown> = {};
      stepsOut[step.id] = { output };
      for (const item of eachItems(step, run.stepScope, field) ?? [undefined]) {
        cancelled();
        const itemScope = item ? { ...run.stepScope, each: item } : run.stepScope;
        const input = renderValue(step.input, itemScope, `${field}.input`) as Record<string, unknown>;
        await action.handler({
          input,
          field: `${field}.input`,
          stepId: step.id,
          template: run.template,
          workspace: run.workspace,
          env: this.env,
          dryRun: run.dryRun,
          taskId: run.taskId,
          actor: opts.actor,
          tx: run.tx,
          published: run.published,
          log: logLine,
          signal: opts.signal,
          skipped: run.skippedMissing,
          output: (k, v) => {
            if (k === '__proto__' || k === 'constructor' || k === 'prototype')
              throw new Error(`output "${k}" is not allowed`);
            output[k] = v;
          },
        });
      }
      const ms = Math.round(performance.now() - t0);
      run.steps.push({ id: step.id, name: step.name, action: step.action, status: 'completed', ms });
      emit({ type: 'step', stepId: step.id, name: step.name, status: 'completed', at: now(), ms });
    } catch (err) {
      const e = redactedError(err instanceof Error ? err : new Error(String(err)), run.redact);
      const stop = opts.signal?.aborted === true;
      logLine(stop ? 'cancelled' : `failed: ${e.message}`);
      const status = stop ? 'cancelled' : 'failed';
      emit({ type: 'step', stepId: step.id, name: step.name, status, at: now() });
      const failures = await run.tx.rollback(logLine);
      for (const s of run.steps)
        if (s.status === 'completed')
          emit({ type: 'step', stepId: s.id, name: s.name, status: 'rolled-back', at: now() });
      const failed = stop
        ? new TaskCancelledError(step.id, failures)
        : new StepFailedError(step.id, e, failures);
      emit({ type: 'completion', status, message: failed.message, at: now() });
      throw failed;
    }
  }
}

/** One task while it runs: what its steps share (workspace, undo log, outputs, expression scope) and its log. */
interface TaskRun {
  template: Template;
  dryRun: boolean;
  taskId: string;
  opts: RunOptions;
  workspace: Workspace;
  tx: Transaction;
  /** Published directories: repo-relative dir → workspace prefix. */
  published: Map<string, string>;
  /** Each step's outputs by step id (`steps.<id>.output` in expressions). */
  stepsOut: Record<string, { output: Record<string, unknown> }>;
  /** What the template's output renders with. */
  scope: Record<string, unknown>;
  /** What steps render with: the scope and the task's secrets. */
  stepScope: Record<string, unknown>;
  /** Replaces every secret value by *** (log lines, errors). */
  redact: (text: string) => string;
  steps: ScaffoldResult['steps'];
  /** Steps skipped in a dry-run because their action is not here. */
  skippedMissing: string[];
  log: string[];
  emit: (e: TaskEvent) => void;
}

const now = () => new Date().toISOString();

/** A step's `each`: the items of the list or mapping it renders to, or undefined when it has none. */
function eachItems(
  step: TemplateStep,
  scope: Record<string, unknown>,
  field: string,
): { key: string; value: unknown }[] | undefined {
  if (step.each === undefined) return undefined;
  const each = renderValue(step.each, scope, `${field}.each`);
  if (Array.isArray(each)) return each.map((value, k) => ({ key: String(k), value }));
  if (each && typeof each === 'object') return Object.entries(each).map(([key, value]) => ({ key, value }));
  throw new ExpressionError('must render to a list or a mapping', `${field}.each`);
}

/** Work the steps left running (the git commit) must land before the task completes; if not, roll back. */
async function settle(run: TaskRun): Promise<void> {
  try {
    await run.tx.settle();
  } catch (err) {
    const stepId = (err as { stepId?: string }).stepId ?? 'publish';
    const e = redactedError(err as Error, run.redact);
    run.log.push(`[${stepId}] failed: ${e.message}`);
    run.emit({ type: 'step', stepId, name: stepId, status: 'failed', at: now() });
    const failures = await run.tx.rollback((m) => run.log.push(`[rollback] ${run.redact(m)}`));
    const failed = new StepFailedError(stepId, e, failures);
    run.emit({ type: 'completion', status: 'failed', message: failed.message, at: now() });
    throw failed;
  }
}

/** Every manifest in the workspace, validated (whether or not the template has a kubernetes:validate step). */
async function workspaceManifests(run: TaskRun): Promise<ManifestReport[]> {
  const manifestFiles = run.workspace
    .list()
    .filter((f) => f.entry.kind === 'file' && /(^|\/)k8s\/[^/]+\.ya?ml$/.test(f.path))
    .map((f) => ({ path: f.path, text: (f.entry as { content: Buffer }).content.toString('utf8') }));
  // A kubernetes:validate step already did it for its directory: validate only what it did not cover.
  const validated = Object.values(run.stepsOut).flatMap((s) =>
    Array.isArray(s.output.manifests) ? (s.output.manifests as ManifestReport[]) : [],
  );
  const covered = new Set(validated.map((m) => m.file));
  const { objects, errors } = parseManifests(manifestFiles.filter((f) => !covered.has(f.path)));
  return [...validated, ...errors, ...(await validateManifests(objects))];
}

/** The template's output: links (only safe URLs) and text whose `if` holds, rendered. */
function renderOutput({ template, scope }: TaskRun): ScaffoldResult['output'] {
  const links: ScaffoldResult['output']['links'] = [];
  for (const [i, l] of (template.output.links ?? []).entries()) {
    if (l.if !== undefined && !truthy(renderValue(l.if, scope, `spec.output.links[${i}].if`))) continue;
    const r = renderValue(
      { title: l.title, url: l.url, entityRef: l.entityRef, icon: l.icon },
      scope,
      `spec.output.links[${i}]`,
    ) as Record<string, string>;
    if (r.url !== undefined && !isSafeUrl(r.url) && !String(r.url).startsWith('/')) continue;
    links.push(r);
  }
  const text: ScaffoldResult['output']['text'] = [];
  for (const [i, t] of (template.output.text ?? []).entries()) {
    if (t.if !== undefined && !truthy(renderValue(t.if, scope, `spec.output.text[${i}].if`))) continue;
    text.push(
      renderValue({ title: t.title, content: t.content }, scope, `spec.output.text[${i}]`) as Record<
        string,
        string
      >,
    );
  }
  return { links, text };
}

/** What the task made, from its steps' outputs; a dry-run adds every file's contents. */
async function resultOf(run: TaskRun, started: number): Promise<ScaffoldResult> {
  const manifests = await workspaceManifests(run);
  const find = (key: string): unknown => {
    for (const s of Object.values(run.stepsOut)) if (s.output[key] !== undefined) return s.output[key];
    return undefined;
  };
  const output = renderOutput(run);
  const dir = find('dir') as string | undefined;
  const source = dir ? (run.published.get(dir) ?? '') : '';
  const entries = run.workspace.list(source);
  const result: ScaffoldResult = {
    taskId: run.taskId,
    template: { name: run.template.name, version: run.template.version },
    dryRun: run.dryRun,
    dir,
    entityRef: find('entityRef') as string | undefined,
    files: entries.map((f) => f.path),
    manifests,
    catalogDiff: find('diff') as CatalogDiff | undefined,
    branch: find('branch') as string | undefined,
    commitHash: find('commitHash') as string | undefined,
    repoUrl: find('repoUrl') as string | undefined,
    modified: find('modified') as ScaffoldResult['modified'],
    requests: Object.values(run.stepsOut).flatMap((s) =>
      Array.isArray(s.output.requests) ? (s.output.requests as OutboundRequest[]) : [],
    ),
    output,
    steps: run.steps,
    log: run.log,
    durationMs: Math.round(performance.now() - started),
  };
  if (run.dryRun) {
    result.preview = entries.map(({ path: p, entry }) =>
      entry.kind === 'symlink'
        ? { path: p, size: entry.target.length, kind: 'symlink', target: entry.target }
        : {
            path: p,
            size: entry.content.length,
            kind: 'file',
            ...(entry.content.includes(0) ? {} : { content: entry.content.toString('utf8') }),
          },
    );
  }
  return result;
}
