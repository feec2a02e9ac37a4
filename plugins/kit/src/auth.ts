import type { Context } from 'hono';

/** Who made a request: a person (signed in) or a machine (bearer token). Recorded in the audit log. */
export interface Actor {
  kind: 'user' | 'token';
  /** `user:default/jane.doe` or `token:<name>`. */
  id: string;
  /** A token's scopes (see TOKEN_SCOPES); absent for people, whose rights come from the policy. */
  scopes?: readonly string[];
}

/**
 * A named permission, as in Backstage's permission framework: what a route is about to do. `resourceType`
 * says the decision may depend on a resource (the entity written, or the owner of what is created); the
 * route then passes that resource to `authorize`.
 */
export interface Permission {
  name: string;
  action: 'create' | 'read' | 'update' | 'delete';
  resourceType?: 'catalog-entity' | 'scaffolder-task';
  /** The token scope that grants it to a machine. */
  scope: TokenScope;
}

/** What a machine token may be given. `admin` grants every permission. */
export const TOKEN_SCOPES = [
  'catalog:write',
  'deploys:write',
  'traces:write',
  'scaffolder:create',
  'admin',
] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

const permission = (
  name: string,
  action: Permission['action'],
  scope: TokenScope,
  resourceType?: Permission['resourceType'],
): Permission => ({ name, action, scope, ...(resourceType ? { resourceType } : {}) });

/**
 * Every permission the portal checks. A write route names one in `auth.authorize(c, permissions.x, …)`;
 * the portal's route table test fails when a write route has none.
 */
export const permissions = {
  catalogEntityRefresh: permission('catalog.entity.refresh', 'update', 'catalog:write', 'catalog-entity'),
  catalogEntityDelete: permission('catalog.entity.delete', 'delete', 'catalog:write', 'catalog-entity'),
  catalogLocationCreate: permission('catalog.location.create', 'create', 'catalog:write'),
  catalogLocationDelete: permission('catalog.location.delete', 'delete', 'catalog:write'),
  scaffolderTaskCreate: permission('scaffolder.task.create', 'create', 'scaffolder:create', 'catalog-entity'),
  // A machine that may start tasks may follow the tasks it started.
  scaffolderTaskRead: permission('scaffolder.task.read', 'read', 'scaffolder:create', 'scaffolder-task'),
  // Backstage's scaffolder.task.cancel: whoever started the task (or an admin) may stop it.
  scaffolderTaskCancel: permission(
    'scaffolder.task.cancel',
    'update',
    'scaffolder:create',
    'scaffolder-task',
  ),
  deploysWrite: permission('deploys.write', 'create', 'deploys:write', 'catalog-entity'),
  tracesWrite: permission('traces.write', 'create', 'traces:write'),
  tokenManage: permission('token.manage', 'update', 'admin'),
  sessionManage: permission('session.manage', 'update', 'admin'),
  auditRead: permission('audit.read', 'read', 'admin'),
} as const satisfies Record<string, Permission>;

/**
 * The resource a conditional decision is made on: `ref`, an existing entity (its owner is looked up), or
 * `owner`, the owning group of something about to be created (a scaffolded service, say).
 */
export interface PermissionResource {
  ref?: string;
  owner?: string;
  /** Who started it (a scaffolder task): `user:default/jane.doe` or `token:<name>`. */
  createdBy?: string;
}

/** What a write route wants in the audit row beside who/when/where/outcome (the portal records it). */
export interface AuditNote {
  action?: string;
  target?: string;
  details?: unknown;
}

declare module 'hono' {
  interface ContextVariableMap {
    /** Set by authorize: the permission this request asked for (names the audit row's action). */
    permission: Permission;
    /** Set by authorize when allowed. */
    actor: Actor;
    /** Set by a write route: its target and details for the audit row. */
    audit: AuditNote;
  }
}

/** What plugins need of the portal's authentication and authorization. */
export interface Auth {
  /** The caller if authenticated (a live session or a valid token), else undefined. */
  actor(c: Context): Promise<Actor | undefined>;
  /**
   * The caller, if the policy allows `permission` (on `resource` when it depends on one); otherwise an
   * AuthenticationError (401: nobody signed in) or NotAllowedError (403), each naming the permission and
   * what would grant it. Call it before reading the body; the attempt is audited either way.
   */
  authorize(c: Context, permission: Permission, resource?: PermissionResource): Promise<Actor>;
  /**
   * Only the first half of `authorize`: the authenticated caller, or a 401 naming the permission. For a
   * route whose resource is in the body (the owner of a service to scaffold): call this before reading the
   * body, then `authorize` with the resource.
   */
  authenticate(c: Context, permission: Permission): Promise<Actor>;
  /**
   * The policy's answer for an already authenticated caller, without throwing: for a list a caller may
   * see only part of (allowed without a resource: everything; else filter by the resource's rule).
   */
  decide(
    actor: Actor,
    permission: Permission,
    resource?: PermissionResource,
  ): { allowed: true } | { allowed: false; reason: string };
}

/** Name the target (and details) of this write in its audit row. */
export function noteAudit(c: Context, note: AuditNote): void {
  c.set('audit', { ...(c.get('audit') ?? {}), ...note });
}

// readJson lives in body.ts (one streaming body limit for every reader); re-exported from the package.
