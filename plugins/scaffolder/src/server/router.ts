/**
 * /api/scaffolder: templates, dry-run, tasks and their events. Reads and dry-runs write nothing and are
 * open (the portal binds loopback); creating a task needs an authenticated writer and is audited.
 * Parameter problems are answered at once (400/404/409, every field named) before any task exists, so a
 * bad request never leaves anything behind.
 */
import path from 'node:path';
import type { CatalogService } from '@bank/plugin-catalog';
import {
  type Actor,
  type Auth,
  ConflictError,
  createApp,
  InputError,
  NotFoundError,
  noteAudit,
  type PortalError,
  permissions,
  readJson,
} from '@bank/plugin-kit';
import type { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { Scaffolder, StepFailedError } from '../engine.ts';
import { publicTask, type Task, TaskStore } from '../tasks.ts';
import type { Template } from '../template.ts';

export interface ScaffolderRouterDeps {
  catalog: CatalogService;
  auth: Auth;
  /** The monorepo root; default PORTAL_REPO_ROOT, else the parent of the catalogue's first root (services/). */
  repoRoot?: string;
  scaffolder?: Scaffolder;
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
  const tasks = new TaskStore();
  const app = createApp();

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
    const name = templateName(body);
    const template = scaffolder.template(name);
    const values = await scaffolder.parameters(template, body.values ?? body.parameters ?? {});
    const owner = typeof values.owner === 'string' ? values.owner : undefined;
    noteAudit(c, {
      target: typeof values.name === 'string' ? `component:default/${values.name}` : `template:${name}`,
      details: { template: name, owner },
    });
    const actor: Actor = await deps.auth.authorize(c, permissions.scaffolderTaskCreate, { owner });
    const task = tasks.create(name, actor);
    noteAudit(c, { details: { template: name, owner, task: task.id } });
    void run(task, template, values, actor);
    return c.json(
      {
        id: task.id,
        status: task.status,
        links: { self: `tasks/${task.id}`, events: `tasks/${task.id}/events` },
      },
      201,
    );
  });

  async function run(
    task: Task,
    template: Template,
    values: Record<string, unknown>,
    actor: Actor,
  ): Promise<void> {
    try {
      const result = await scaffolder.execute(template, values, {
        actor,
        taskId: task.id,
        onEvent: (e) => {
          if (e.type !== 'completion') tasks.push(task, e);
        },
      });
      tasks.finish(task, { status: 'completed', result });
      await deps.catalog.store
        .audit(actor.id, 'scaffolder.create', result.entityRef ?? template.name, {
          task: task.id,
          template: template.name,
          version: template.version,
          dir: result.dir,
          branch: result.branch,
          commit: result.commitHash,
        })
        .catch(() => undefined);
    } catch (err) {
      const e = asPortalError(err) as Error & { status?: number };
      tasks.finish(task, {
        status: 'failed',
        error: {
          message: e.message,
          step: err instanceof StepFailedError ? err.stepId : undefined,
          status: e.status ?? 500,
        },
      });
      await deps.catalog.store
        .audit(actor.id, 'scaffolder.failed', template.name, { task: task.id, error: e.message })
        .catch(() => undefined);
    }
  }

  app.get('/tasks', (c) => c.json({ items: tasks.list().slice(0, 100).map(publicTask) }));

  app.get('/tasks/:id', (c) => {
    const task = tasks.get(c.req.param('id'));
    if (!task) throw new NotFoundError(`No task ${c.req.param('id')}`);
    return c.json(publicTask(task));
  });

  app.get('/tasks/:id/events', (c) => {
    const task = tasks.get(c.req.param('id'));
    if (!task) throw new NotFoundError(`No task ${c.req.param('id')}`);
    const after = Number(c.req.query('after') ?? '-1');
    if (!Number.isInteger(after)) throw new InputError('after: must be an event id (an integer)');
    if (!(c.req.header('accept') ?? '').includes('text/event-stream')) {
      return c.json({ status: task.status, events: task.events.filter((e) => e.id > after) });
    }
    return streamSSE(c, async (stream) => {
      let last = after;
      const queue: (typeof task.events)[number][] = [];
      let wake: (() => void) | undefined;
      const unsubscribe = tasks.subscribe(task.id, (e) => {
        queue.push(e);
        wake?.();
      });
      stream.onAbort(unsubscribe);
      for (const e of task.events) if (e.id > last) queue.push(e);
      try {
        for (;;) {
          while (queue.length) {
            const e = queue.shift() as (typeof task.events)[number];
            if (e.id <= last) continue;
            last = e.id;
            await stream.writeSSE({ id: String(e.id), event: e.type, data: JSON.stringify(e) });
            if (e.type === 'completion') return;
          }
          if (task.status !== 'processing' && task.events.every((e) => e.id <= last)) return;
          await new Promise<void>((r) => {
            wake = r;
            setTimeout(r, 15_000).unref();
          });
          wake = undefined;
          if (queue.length === 0) await stream.writeSSE({ event: 'ping', data: '{}' });
        }
      } finally {
        unsubscribe();
      }
    });
  });

  return app;
}
