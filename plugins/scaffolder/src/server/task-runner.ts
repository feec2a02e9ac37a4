/**
 * Starting, running and reading tasks, for both APIs (/api/scaffolder/tasks and Backstage's /v2/tasks):
 * parameters validated and the caller authorised before a task exists; the task stored with its
 * parameters (secrets redacted) before its id is answered; every event stored as it happens; the outcome
 * and an audit row at the end. Reading a task needs scaffolder.task.read (its creator, or an admin).
 */
import type { CatalogService } from '@bank/plugin-catalog';
import {
  type Actor,
  type Auth,
  ConflictError,
  InputError,
  NotFoundError,
  noteAudit,
  type Permission,
  permissions,
} from '@bank/plugin-kit';
import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { type Scaffolder, StepFailedError, TaskCancelledError } from '../engine.ts';
import {
  REDACTED,
  redactParameters,
  type ScaffolderTaskStore,
  type StoredTaskEvent,
  type Task,
  type TaskStatus,
  taskResultOf,
} from '../tasks.ts';
import type { Template } from '../template.ts';
import { asPortalError } from './router.ts';

const STATUSES: readonly TaskStatus[] = ['processing', 'completed', 'failed', 'cancelled'];

export class TaskRunner {
  /** The tasks this process runs, each with what cancels it. */
  private readonly controllers = new Map<string, AbortController>();

  constructor(
    private readonly scaffolder: Scaffolder,
    private readonly tasks: ScaffolderTaskStore,
    private readonly deps: { auth: Auth; catalog: CatalogService },
  ) {
    tasks.onCancelled((id) => this.controllers.get(id)?.abort());
  }

  /**
   * Validate, authorise (scaffolder.task.create on the new service's owner), store and start a task.
   * The caller was authenticated before the body was read. `template` may be given already loaded (a
   * Template entity of the catalogue).
   */
  async start(
    c: Context,
    name: string | Template,
    raw: unknown,
    opts: { secrets?: Record<string, string> } = {},
  ): Promise<Task> {
    const template = typeof name === 'string' ? this.scaffolder.template(name) : name;
    this.scaffolder.assertRunnable(template);
    const values = await this.scaffolder.parameters(template, raw);
    const owner = typeof values.owner === 'string' ? values.owner : undefined;
    noteAudit(c, {
      target:
        typeof values.name === 'string' ? `component:default/${values.name}` : `template:${template.name}`,
      details: { template: template.name, owner },
    });
    const actor: Actor = await this.deps.auth.authorize(c, permissions.scaffolderTaskCreate, { owner });
    const task = await this.tasks.create({
      template: `template:default/${template.name}`,
      version: template.version,
      actor,
      parameters: redactParameters(
        raw && typeof raw === 'object' ? (raw as Record<string, unknown>) : {},
        template.parameters,
      ),
    });
    noteAudit(c, { details: { template: template.name, owner, task: task.id } });
    // Secrets live only in this run's memory: never stored, so a retry is sent them again.
    void this.run(task, template, values, actor, opts.secrets);
    return task;
  }

  /**
   * Cancel a processing task (Backstage's POST /v2/tasks/:id/cancel): its creator or an admin. The run
   * stops before its next step and rolls back what it did; its completion says `cancelled`.
   */
  async cancel(c: Context, id: string): Promise<Task> {
    const task = await this.readable(c, id, permissions.scaffolderTaskCancel);
    if (task.status !== 'processing' || !(await this.tasks.cancel(task.id)))
      throw new ConflictError(`task ${id} is ${task.status}: only a processing task can be cancelled`);
    noteAudit(c, { target: task.template, details: { task: task.id, cancelled: true } });
    return (await this.tasks.get(task.id)) ?? task;
  }

  /**
   * Run a failed or cancelled task again, under the same id, with the parameters it was given (Backstage's
   * POST /v2/tasks/:id/retry; `secrets` as on create). The caller must be allowed to read it and to create
   * with its owner. A task given a secret parameter cannot be retried: the secret was never kept.
   */
  async retry(
    c: Context,
    id: string,
    templateOf: (task: Task) => Template,
    secrets: Record<string, string> = {},
  ): Promise<Task> {
    const task = await this.readable(c, id);
    if (task.status !== 'failed' && task.status !== 'cancelled')
      throw new ConflictError(`task ${id} is ${task.status}: only a failed or cancelled task can be retried`);
    const secret = Object.entries(task.parameters).find(([, v]) =>
      JSON.stringify(v).includes(`"${REDACTED}"`),
    );
    if (secret)
      throw new ConflictError(
        `task ${id} cannot be retried: its parameter "${secret[0]}" was secret and is not kept; run the template again`,
      );
    const template = templateOf(task);
    this.scaffolder.assertRunnable(template);
    const values = await this.scaffolder.parameters(template, task.parameters);
    const owner = typeof values.owner === 'string' ? values.owner : undefined;
    noteAudit(c, { target: task.template, details: { task: task.id, retry: true, owner } });
    const actor = await this.deps.auth.authorize(c, permissions.scaffolderTaskCreate, { owner });
    const restarted = await this.tasks.restart(task.id);
    if (!restarted) throw new ConflictError(`task ${id} is still stopping; retry once it has stopped`);
    void this.run(restarted, template, values, actor, secrets);
    return restarted;
  }

  private async run(
    task: Task,
    template: Template,
    values: Record<string, unknown>,
    actor: Actor,
    secrets?: Record<string, string>,
  ): Promise<void> {
    const controller = new AbortController();
    this.controllers.set(task.id, controller);
    try {
      await this.execute(task, template, values, actor, { secrets, signal: controller.signal });
    } finally {
      this.controllers.delete(task.id);
    }
  }

  private async execute(
    task: Task,
    template: Template,
    values: Record<string, unknown>,
    actor: Actor,
    opts: { secrets?: Record<string, string>; signal: AbortSignal },
  ): Promise<void> {
    const lost = (err: Error) =>
      process.stderr.write(`scaffolder: could not store an event of task ${task.id}: ${err.message}\n`);
    try {
      const result = await this.scaffolder.execute(template, values, {
        actor,
        taskId: task.id,
        ...opts,
        onEvent: (e) => {
          if (e.type !== 'completion') void this.tasks.append(task.id, e).catch(lost);
        },
      });
      await this.tasks.finish(task.id, { status: 'completed', result: taskResultOf(result) });
      await this.deps.catalog.store
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
      await this.tasks
        .finish(task.id, {
          status: err instanceof TaskCancelledError ? 'cancelled' : 'failed',
          error: {
            message: e.message,
            step: err instanceof StepFailedError ? err.stepId : undefined,
            status: e.status ?? 500,
          },
        })
        .catch(lost);
      await this.deps.catalog.store
        .audit(
          actor.id,
          err instanceof TaskCancelledError ? 'scaffolder.cancelled' : 'scaffolder.failed',
          template.name,
          { task: task.id, error: e.message },
        )
        .catch(() => undefined);
    }
  }

  /**
   * The task, if the caller may read it (or, given scaffolder.task.cancel, cancel it): 401 without a
   * caller, 404 unknown, 403 someone else's.
   */
  async readable(
    c: Context,
    id: string,
    permission: Permission = permissions.scaffolderTaskRead,
  ): Promise<Task> {
    await this.deps.auth.authenticate(c, permission);
    const task = await this.tasks.get(id);
    if (!task) throw new NotFoundError(`No task ${id}`);
    await this.deps.auth.authorize(c, permission, { createdBy: task.createdBy });
    return task;
  }

  /**
   * Tasks the caller may read, newest first: `createdBy` (a ref; Backstage's client sends it), `status`,
   * `limit` (1–1000, default 100) and `offset`. Without `createdBy` an admin sees every task and anyone
   * else their own.
   */
  async list(c: Context): Promise<{ items: Task[]; total: number }> {
    const actor = await this.deps.auth.authenticate(c, permissions.scaffolderTaskRead);
    let createdBy = c.req.query('createdBy');
    if (createdBy !== undefined)
      await this.deps.auth.authorize(c, permissions.scaffolderTaskRead, { createdBy });
    else if (!this.deps.auth.decide(actor, permissions.scaffolderTaskRead).allowed) createdBy = actor.id;
    const status = c.req.query('status');
    if (status !== undefined && !(STATUSES as readonly string[]).includes(status))
      throw new InputError(`status: must be one of ${STATUSES.join(', ')}, got "${status.slice(0, 32)}"`);
    return this.tasks.list({
      createdBy,
      status: status as TaskStatus | undefined,
      limit: intParam(c.req.query('limit'), 'limit', 1, 1000),
      offset: intParam(c.req.query('offset'), 'offset', 0, 1_000_000_000),
    });
  }
}

function intParam(raw: string | undefined, name: string, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max)
    throw new InputError(`${name}: must be an integer from ${min} to ${max}, got "${raw.slice(0, 32)}"`);
  return n;
}

/**
 * Server-sent events of a task from event `after` on, until its completion: what is stored first, then
 * what this process stores as it happens (another replica's task is read again every second).
 */
export function streamTaskEvents(
  c: Context,
  tasks: ScaffolderTaskStore,
  taskId: string,
  after: number,
  format: (
    e: StoredTaskEvent,
  ) => { id?: string; event: string; data: string } | Promise<{ id?: string; event: string; data: string }>,
) {
  return streamSSE(c, async (stream) => {
    let last = after;
    let wake: (() => void) | undefined;
    const unsubscribe = tasks.subscribe(taskId, () => wake?.());
    stream.onAbort(unsubscribe);
    let quiet = 0;
    try {
      for (;;) {
        const events = await tasks.events(taskId, last);
        for (const e of events) {
          last = e.id;
          await stream.writeSSE(await format(e));
          if (e.type === 'completion') return;
        }
        if (events.length === 0) {
          const task = await tasks.get(taskId);
          if (task?.status !== 'processing') {
            // Finished, with its completion read above or stored just now: one last read.
            for (const e of await tasks.events(taskId, last)) await stream.writeSSE(await format(e));
            return;
          }
        }
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 1000).unref();
        });
        wake = undefined;
        quiet = events.length === 0 ? quiet + 1 : 0;
        if (quiet >= 15) {
          quiet = 0;
          await stream.writeSSE({ event: 'ping', data: '{}' });
        }
      }
    } finally {
      unsubscribe();
    }
  });
}
