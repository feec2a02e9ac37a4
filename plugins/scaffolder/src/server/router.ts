/**
 * /api/scaffolder: templates, dry-run, tasks and their events. Templates and dry-runs write nothing and
 * are open (the portal binds loopback); creating a task needs an authenticated writer and is audited;
 * tasks (kept in the store) are read by whoever started them and by admins.
 * Parameter problems are answered at once (400/404/409, every field named) before any task exists, so a
 * bad request never leaves anything behind.
 */
import path from 'node:path';
import type { CatalogService } from '@bank/plugin-catalog';
import {
  type Auth,
  ConflictError,
  createApp,
  InputError,
  NotFoundError,
  type PortalError,
  permissions,
  readJson,
} from '@bank/plugin-kit';
import type { Hono } from 'hono';
import { Scaffolder, StepFailedError } from '../engine.ts';
import { publicTask, ScaffolderTaskStore } from '../tasks.ts';
import type { Template } from '../template.ts';
import { createBackstageScaffolderRouter } from './backstage.ts';
import { streamTaskEvents, TaskRunner } from './task-runner.ts';

export interface ScaffolderRouterDeps {
  catalog: CatalogService;
  auth: Auth;
  /** The monorepo root; default PORTAL_REPO_ROOT, else the parent of the catalogue's first root (services/). */
  repoRoot?: string;
  scaffolder?: Scaffolder;
  /** The task history (default: in the catalogue's database, without the restart sweep). */
  tasks?: ScaffolderTaskStore;
}

/** Where the monorepo is, for a catalogue rooted at `<repo>/services`. */
export function repoRootFor(catalog: Pick<CatalogService, 'roots'>): string {
  return path.resolve(
    process.env.PORTAL_REPO_ROOT ?? path.dirname(catalog.roots[0] ?? path.join(process.cwd(), 'services')),
  );
}

/** A template as the gallery and the form need it: parameters with their ui: hints, steps by name. */
export function describeTemplate(t: Template) {
  return {
    name: t.name,
    title: t.title,
    description: t.description,
    version: t.version,
    type: t.type,
    tags: t.tags,
    parameters: t.parameters,
    steps: t.steps.map((s) => ({ id: s.id, name: s.name, action: s.action })),
    /** Steps whose action is not available here: the template dry-runs, a real run is refused. */
    missingActions: t.missingActions,
  };
}

/** Turn an engine failure into the portal's error with the right status. */
export function asPortalError(err: unknown): unknown {
  if (err instanceof StepFailedError) {
    const cause = err.cause;
    const status = err.status;
    const details = { step: err.stepId, ...((cause as PortalError).details ?? {}) };
    if (status === 409) return new ConflictError(err.message, details);
    if (status === 400) return new InputError(err.message, details);
    if (status === 404) return new NotFoundError(err.message, details);
    return err;
  }
  return err;
}

interface CreateBody {
  template?: unknown;
  templateRef?: unknown;
  values?: unknown;
  parameters?: unknown;
}

function templateName(body: CreateBody): string {
  const raw = body.template ?? body.templateRef;
  if (typeof raw !== 'string' || raw === '')
    throw new InputError('template: is required, e.g. {"template": "typescript-service", "values": {…}}');
  // Backstage clients send template:default/<name>.
  return raw.replace(/^template:(default\/)?/i, '');
}

export function createScaffolderRouter(deps: ScaffolderRouterDeps): Hono {
  const scaffolder =
    deps.scaffolder ??
    new Scaffolder({ repoRoot: deps.repoRoot ?? repoRootFor(deps.catalog), catalog: deps.catalog });
  const tasks = deps.tasks ?? new ScaffolderTaskStore(deps.catalog.store.driver);
  const runner = new TaskRunner(scaffolder, tasks, deps);
  const app = createApp();
  // Someone opened the scaffolder: its form's dry-run will check manifests soon.
  app.use('*', async (_c, next) => {
    scaffolder.warmUp();
    await next();
  });
  // Backstage's scaffolder API on the same engine and task store.
  app.route('/v2', createBackstageScaffolderRouter({ ...deps, scaffolder, tasks, runner }));

  app.get('/templates', (c) => {
    const { templates, errors } = scaffolder.listTemplates();
    return c.json({
      items: templates.map(describeTemplate),
      errors: errors.map((e) => ({ file: e.file, field: e.field, line: e.line, message: e.message })),
    });
  });

  app.get('/templates/:name', (c) => c.json(describeTemplate(scaffolder.template(c.req.param('name')))));

  app.get('/actions', (c) =>
    c.json([...scaffolder.actions.values()].map((a) => ({ id: a.id, description: a.description }))),
  );

  app.post('/dry-run', async (c) => {
    const body = await readJson<CreateBody>(c, 256 * 1024);
    const actor = (await deps.auth.actor(c)) ?? { kind: 'user', id: 'user:default/guest' };
    try {
      return c.json(
        await scaffolder.dryRun(templateName(body), body.values ?? body.parameters ?? {}, { actor }),
      );
    } catch (err) {
      throw asPortalError(err);
    }
  });

  // Who may scaffold depends on the new service's owner (a member of that team or its collective), so the
  // caller is authenticated first, then authorised once the parameters name the owner.
  app.post('/tasks', async (c) => {
    await deps.auth.authenticate(c, permissions.scaffolderTaskCreate);
    const body = await readJson<CreateBody>(c, 256 * 1024);
    const task = await runner.start(c, templateName(body), body.values ?? body.parameters ?? {});
    return c.json(
      {
        id: task.id,
        status: task.status,
        links: { self: `tasks/${task.id}`, events: `tasks/${task.id}/events` },
      },
      201,
    );
  });

  // Tasks are read by whoever started them and by admins (permission scaffolder.task.read); a list shows
  // the caller what they may read: everything for an admin, else their own.
  app.get('/tasks', async (c) => {
    const { items, total } = await runner.list(c);
    return c.json({
      items: await Promise.all(items.map(async (t) => publicTask(t, await tasks.events(t.id)))),
      totalTasks: total,
    });
  });

  app.get('/tasks/:id', async (c) => {
    const task = await runner.readable(c, c.req.param('id'));
    return c.json(publicTask(task, await tasks.events(task.id)));
  });

  app.get('/tasks/:id/events', async (c) => {
    const task = await runner.readable(c, c.req.param('id'));
    const after = Number(c.req.query('after') ?? '-1');
    if (!Number.isInteger(after)) throw new InputError('after: must be an event id (an integer)');
    if (!(c.req.header('accept') ?? '').includes('text/event-stream')) {
      const current = (await tasks.get(task.id)) ?? task;
      return c.json({
        status: current.status,
        events: await tasks.events(task.id, after),
      });
    }
    return streamTaskEvents(c, tasks, task.id, after, (e) => ({
      id: String(e.id),
      event: e.type,
      data: JSON.stringify(e),
    }));
  });

  return app;
}
