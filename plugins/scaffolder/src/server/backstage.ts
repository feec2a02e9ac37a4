/**
 * Backstage's scaffolder REST API (/api/scaffolder/v2/…), so Backstage's own client (`ScaffolderClient`
 * of @backstage/plugin-scaffolder-common) drives this portal unchanged: parameter schemas, actions, tasks
 * (create, list, get, server-sent events and long polling) and dry-run. Built on the same engine and the
 * same task store as /api/scaffolder/tasks. Templates are the catalogue's Template entities (read from the
 * file that defines them) or, failing that, templates/<name>.
 */
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CatalogService } from '@bank/plugin-catalog';
import {
  type Auth,
  createApp,
  InputError,
  NotFoundError,
  noteAudit,
  permissions,
  readJson,
} from '@bank/plugin-kit';
import type { Context, Hono } from 'hono';
import { stringify } from 'yaml';
import { checkSecrets, type Scaffolder } from '../engine.ts';
import { resolveSafeChildPath } from '../paths.ts';
import type { ScaffolderTaskStore, StoredTaskEvent, Task } from '../tasks.ts';
import { parseTemplate, type Template } from '../template.ts';
import { asPortalError } from './router.ts';
import { streamTaskEvents, type TaskRunner } from './task-runner.ts';

export interface BackstageRouterDeps {
  scaffolder: Scaffolder;
  tasks: ScaffolderTaskStore;
  runner: TaskRunner;
  catalog: CatalogService;
  auth: Auth;
}

const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/i;

/** `template:default/x`, `default/x` or `x` → the template's name, refusing anything else. */
function templateNameOf(ref: string, field: string): { namespace: string; name: string } {
  const m = /^(?:template:)?(?:([a-z0-9-]+)\/)?([^/:]+)$/i.exec(ref);
  if (!m || !NAME.test(m[2]))
    throw new InputError(
      `${field}: "${ref.slice(0, 80)}" is not a template ref (template:<namespace>/<name>)`,
    );
  return { namespace: (m[1] ?? 'default').toLowerCase(), name: m[2].toLowerCase() };
}

/** A step's state as Backstage names it. */
const STEP_STATUS: Record<string, string | undefined> = {
  processing: 'processing',
  completed: 'completed',
  failed: 'failed',
  skipped: 'skipped',
  cancelled: 'cancelled',
  'rolled-back': undefined,
};

/** One of our events as Backstage's SerializedTaskEvent: steps and log lines are `log`, then `completion`. */
export function backstageEvent(taskId: string, e: StoredTaskEvent, task?: Task) {
  let type: 'log' | 'completion' = 'log';
  let body: Record<string, unknown>;
  if (e.type === 'step') {
    const words: Record<string, string> = {
      processing: 'Beginning step',
      completed: 'Finished step',
      failed: 'Failed step',
      cancelled: 'Cancelled step',
      skipped: 'Skipping step',
      'rolled-back': 'Rolled back step',
    };
    const status = STEP_STATUS[e.status];
    body = { message: `${words[e.status]} ${e.name}`, stepId: e.stepId, ...(status ? { status } : {}) };
  } else if (e.type === 'log') {
    body = { message: e.message, ...(e.stepId ? { stepId: e.stepId } : {}) };
  } else {
    type = 'completion';
    body = {
      message: `Run completed with status: ${e.status}`,
      ...(e.status === 'failed' ? { error: { name: 'Error', message: e.message ?? 'failed' } } : {}),
      ...(task?.result ? { output: task.result.output } : {}),
    };
  }
  return { id: e.id, taskId, type, body, createdAt: e.at };
}

export function createBackstageScaffolderRouter(deps: BackstageRouterDeps): Hono {
  const app = createApp();
  templateRoutes(app, deps);
  taskRoutes(app, deps);
  taskEventRoutes(app, deps);
  dryRunRoute(app, deps);
  return app;
}

/**
 * The template a ref names: the catalogue's Template entity, read from its descriptor's folder (so its
 * skeleton paths resolve there), else templates/<name>.
 */
function templateFor(deps: BackstageRouterDeps, ref: string, field: string): Template {
  const { namespace, name } = templateNameOf(ref, field);
  const entity = deps.catalog.loaded.byRef.get(`template:${namespace}/${name}`);
  const location = entity?.metadata.annotations?.['backstage.io/managed-by-location'];
  if (entity && location?.startsWith('file:')) {
    const dir = realpathSync(path.dirname(location.slice('file:'.length)));
    const { relations: _r, status: _s, ...descriptor } = entity as typeof entity & { status?: unknown };
    const meta = { ...descriptor.metadata };
    delete meta.uid;
    delete meta.etag;
    return parseTemplate(
      stringify({ ...descriptor, metadata: meta }),
      `${location.slice('file:'.length)} (${`template:${namespace}/${name}`})`,
      dir,
      name,
      new Set(deps.scaffolder.actions.keys()),
    );
  }
  if (namespace !== 'default') throw new NotFoundError(`${field}: no template template:${namespace}/${name}`);
  return deps.scaffolder.template(name);
}

/** A template's parameter schema, and the actions templates can use. */
function templateRoutes(app: Hono, deps: BackstageRouterDeps): void {
  const { scaffolder } = deps;
  app.get('/templates/:namespace/:kind/:name/parameter-schema', (c) => {
    if (c.req.param('kind').toLowerCase() !== 'template')
      throw new InputError(`kind: must be "template", got "${c.req.param('kind').slice(0, 40)}"`);
    const t = templateFor(deps, `template:${c.req.param('namespace')}/${c.req.param('name')}`, 'templateRef');
    return c.json({
      title: t.title || t.name,
      description: t.description,
      steps: t.parameters.map((schema) => ({
        title: (schema as { title?: string }).title ?? 'Please enter the following information',
        description: (schema as { description?: string }).description,
        schema,
      })),
    });
  });

  app.get('/actions', (c) =>
    c.json(
      [...scaffolder.actions.values()].map((a) => ({ id: a.id, description: a.description, schema: {} })),
    ),
  );
}

/** Tasks: create, cancel, retry, list and read one. */
function taskRoutes(app: Hono, deps: BackstageRouterDeps): void {
  const { runner } = deps;
  app.post('/tasks', async (c) => {
    await deps.auth.authenticate(c, permissions.scaffolderTaskCreate);
    const body = await readJson<{ templateRef?: unknown; values?: unknown; secrets?: unknown }>(
      c,
      256 * 1024,
    );
    if (typeof body.templateRef !== 'string')
      throw new InputError('templateRef: is required, e.g. "template:default/typescript-service"');
    const secrets = secretsOf(body.secrets);
    const template = templateFor(deps, body.templateRef, 'templateRef');
    const task = await runner.start(c, template, body.values ?? {}, { secrets });
    return c.json({ id: task.id }, 201);
  });

  // Backstage's cancel: the task stops before its next step, what it did is rolled back.
  app.post('/tasks/:taskId/cancel', async (c) => {
    const task = await runner.cancel(c, c.req.param('taskId'));
    return c.json({ status: task.status });
  });

  // Backstage's retry: a failed or cancelled task runs again under its id (the client sends `{}` or
  // `{secrets}`); its new events follow the old ones on the same event stream.
  app.post('/tasks/:taskId/retry', async (c) => {
    await deps.auth.authenticate(c, permissions.scaffolderTaskCreate);
    const hasBody = Number(c.req.header('content-length') ?? 0) > 0 || c.req.header('transfer-encoding');
    const body = hasBody ? await readJson<{ secrets?: unknown }>(c, 256 * 1024) : {};
    const task = await runner.retry(
      c,
      c.req.param('taskId'),
      (t) => templateFor(deps, t.template, 'template'),
      secretsOf(body.secrets),
    );
    return c.json({ id: task.id }, 201);
  });

  app.get('/tasks', async (c) => {
    const { items, total } = await runner.list(c);
    return c.json({ tasks: items.map((t) => serializedTask(deps, t)), totalTasks: total });
  });

  app.get('/tasks/:taskId', async (c) =>
    c.json(serializedTask(deps, await runner.readable(c, c.req.param('taskId')))),
  );
}

/** A task's events: as server-sent events, or by long polling. */
function taskEventRoutes(app: Hono, deps: BackstageRouterDeps): void {
  const { tasks, runner } = deps;
  app.get('/tasks/:taskId/eventstream', async (c) => {
    const task = await runner.readable(c, c.req.param('taskId'));
    const after = afterOf(c);
    // The completion carries the task's output, read when the completion is sent.
    return streamTaskEvents(c, tasks, task.id, after, async (e) => {
      const ev = backstageEvent(task.id, e, e.type === 'completion' ? await tasks.get(task.id) : undefined);
      return { event: ev.type, data: JSON.stringify(ev) };
    });
  });

  // Long polling (the client's useLongPollingLogs): events after `after`, waiting up to 30 s for one.
  app.get('/tasks/:taskId/events', async (c) => {
    const task = await runner.readable(c, c.req.param('taskId'));
    const after = afterOf(c);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const events = await tasks.events(task.id, after);
      if (events.length > 0 || Date.now() > deadline) {
        const current = events.some((e) => e.type === 'completion') ? await tasks.get(task.id) : undefined;
        return c.json(events.map((e) => backstageEvent(task.id, e, current)));
      }
      await new Promise<void>((r) => {
        const stop = tasks.subscribe(task.id, () => {
          stop();
          r();
        });
        setTimeout(() => {
          stop();
          r();
        }, 1000).unref();
      });
    }
  });
}

/**
 * Dry-run of a template sent whole (Backstage's template editor), its files in directoryContents (or, when
 * none are sent, the skeleton of the catalogue's or templates/ template of that name). Writes nothing.
 */
function dryRunRoute(app: Hono, deps: BackstageRouterDeps): void {
  const { scaffolder } = deps;
  app.post('/dry-run', async (c) => {
    await deps.auth.authenticate(c, permissions.scaffolderTaskCreate);
    const body = await readJson<{
      template?: unknown;
      values?: unknown;
      secrets?: unknown;
      directoryContents?: unknown;
    }>(c, 2 * 1024 * 1024);
    const secrets = secretsOf(body.secrets);
    const entity = body.template as { metadata?: { name?: unknown } } | undefined;
    if (!entity || typeof entity !== 'object' || typeof entity.metadata?.name !== 'string')
      throw new InputError('template: is required, a Template entity ({apiVersion, kind, metadata, spec})');
    const files = body.directoryContents ?? [];
    if (!Array.isArray(files))
      throw new InputError('directoryContents: must be a list of {path, base64Content}');
    const work = realpathSync(mkdtempSync(path.join(tmpdir(), 'portal-dry-run-')));
    try {
      let dir = work;
      if (files.length === 0) {
        try {
          dir = templateFor(deps, entity.metadata.name, 'template.metadata.name').dir;
        } catch {
          dir = work;
        }
      }
      for (const [i, f] of files.entries()) {
        const file = f as { path?: unknown; base64Content?: unknown };
        if (typeof file.path !== 'string' || typeof file.base64Content !== 'string')
          throw new InputError(`directoryContents[${i}]: needs a path and base64Content`);
        const target = resolveSafeChildPath(work, file.path);
        mkdirSync(path.dirname(target), { recursive: true });
        writeFileSync(target, Buffer.from(file.base64Content, 'base64'), { flag: 'wx' });
      }
      const template = parseTemplate(
        stringify(body.template),
        'template (dry-run)',
        dir,
        'dry-run',
        new Set(scaffolder.actions.keys()),
      );
      const values = await scaffolder.parameters(template, body.values ?? {});
      const owner = typeof values.owner === 'string' ? values.owner : undefined;
      noteAudit(c, { target: `template:${template.name}`, details: { dryRun: true, owner } });
      const actor = await deps.auth.authorize(c, permissions.scaffolderTaskCreate, { owner });
      const log: { body: Record<string, unknown> }[] = [];
      let n = 0;
      const result = await scaffolder
        .execute(template, values, {
          actor,
          dryRun: true,
          secrets,
          onEvent: (e) => {
            if (e.type !== 'completion')
              log.push({ body: backstageEvent('dry-run', { ...e, id: n++ }).body });
          },
        })
        .catch((err: unknown) => {
          throw asPortalError(err);
        });
      return c.json({
        log,
        directoryContents: (result.preview ?? [])
          .filter((f) => f.kind === 'file')
          .map((f) => ({
            path: f.path,
            base64Content: Buffer.from(f.content ?? '', 'utf8').toString('base64'),
            executable: false,
          })),
        output: result.output,
        steps: template.steps.map((s) => ({ id: s.id, name: s.name, action: s.action })),
      });
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
}

/** A task as Backstage's SerializedTask: its spec as far as it is kept (steps from the template now). */
function serializedTask(deps: BackstageRouterDeps, t: Task) {
  let steps: { id: string; name: string; action: string }[] = [];
  try {
    steps = templateFor(deps, t.template, 'template').steps.map((s) => ({
      id: s.id,
      name: s.name,
      action: s.action,
    }));
  } catch {
    // The template is gone or broken since: the task is still shown.
  }
  return {
    id: t.id,
    spec: {
      apiVersion: 'scaffolder.backstage.io/v1beta3',
      steps,
      output: t.result?.output ?? {},
      parameters: t.parameters,
      user: { ref: t.createdBy },
      templateInfo: { entityRef: t.template },
    },
    status: t.status,
    createdAt: t.createdAt,
    lastHeartbeatAt: t.lastHeartbeatAt,
    createdBy: t.createdBy,
  };
}

/** Backstage's task secrets from a request body, or a 400 naming what is wrong. */
function secretsOf(raw: unknown): Record<string, string> {
  try {
    return checkSecrets(raw);
  } catch (err) {
    throw new InputError((err as Error).message);
  }
}

function afterOf(c: Context): number {
  const raw = c.req.query('after');
  if (raw === undefined) return -1;
  if (!/^-?\d+$/.test(raw)) throw new InputError('after: must be an event id (an integer)');
  return Number(raw);
}
