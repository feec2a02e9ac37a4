import { toRef } from '@bank/catalog';
import { collectiveOf, type GraphIndex } from '@bank/graph';
import type { CatalogView } from '@bank/plugin-catalog';
import type { Actor, Permission, PermissionResource } from '@bank/plugin-kit';

/**
 * Authorization in the shape of Backstage's permission framework: a policy sees who asks for which named
 * permission and answers allow, deny, or conditional (a rule applied to the resource). The route never
 * decides; `PortalAuth.authorize` asks the policy, applies a conditional decision to the resource and
 * throws 401/403 with the reason. Callers only ever learn allow or deny, and why they were denied.
 */

/** Who the policy sees: the caller and, for a person, every group they belong to (ownership refs). */
export interface PolicyUser {
  actor: Actor;
  /** `user:default/jane.doe` and the groups the user is a member of (memberOf); empty for tokens. */
  ownershipRefs: string[];
  admin: boolean;
}

export interface PermissionRule {
  name: string;
  description: string;
  /** True when the resource passes the rule for this user. */
  apply(resource: ResolvedResource, user: PolicyUser, graph: GraphIndex): boolean;
}

/** The resource with its owner resolved (for an existing entity, from its ownedBy relation). */
export interface ResolvedResource {
  ref?: string;
  owner?: string;
  /** Who started it (a scaffolder task). */
  createdBy?: string;
}

export type PolicyDecision =
  | { result: 'allow' }
  | { result: 'deny'; reason: string }
  | { result: 'conditional'; rule: PermissionRule; reason: string };

export interface PermissionPolicy {
  handle(permission: Permission, user: PolicyUser): PolicyDecision;
}

/** Is the user a member of the group that owns the resource? */
export const isEntityOwner: PermissionRule = {
  name: 'IS_ENTITY_OWNER',
  description: 'the user is a member of the group that owns the entity',
  apply: (resource, user) => resource.owner !== undefined && user.ownershipRefs.includes(resource.owner),
};

/**
 * Is the user a member of the owning team, or of the collective above it (a collective lead may act for
 * every squad in it)? The collective is the org graph's own notion (graph/src/card.ts collectiveOf).
 */
export const isMemberOfOwnerOrCollective: PermissionRule = {
  name: 'IS_MEMBER_OF_OWNER_OR_COLLECTIVE',
  description: 'the user is a member of the owning team or of its collective',
  apply: (resource, user, graph) => {
    if (isEntityOwner.apply(resource, user, graph)) return true;
    const collective = collectiveOf(graph, resource.owner);
    return collective !== null && user.ownershipRefs.includes(collective);
  },
};

/** Did the caller start it (a scaffolder task: its parameters and log are theirs to read)? */
export const isTaskCreator: PermissionRule = {
  name: 'IS_TASK_CREATOR',
  description: 'the caller started the task',
  apply: (resource, user) => resource.createdBy !== undefined && resource.createdBy === user.actor.id,
};

/**
 * The policy a bank ships. Anyone signed in reads (reads never reach here). Tokens get exactly their
 * scopes. People: admins (members of PORTAL_ADMIN_GROUPS) may do everything; others may scaffold, record
 * deploys for and refresh what their team or collective owns; location registration, traces, tokens,
 * sessions and the audit log are for admins. Scaffolder tasks are read and cancelled by whoever started them (a
 * person, or a token with scaffolder:create) and by admins.
 */
export class BankPolicy implements PermissionPolicy {
  handle(permission: Permission, user: PolicyUser): PolicyDecision {
    const { actor } = user;
    if (
      (permission.name === 'scaffolder.task.read' || permission.name === 'scaffolder.task.cancel') &&
      !user.admin &&
      !actor.scopes?.includes('admin')
    ) {
      if (actor.kind === 'token' && !actor.scopes?.includes(permission.scope))
        return {
          result: 'deny',
          reason: `${actor.id} lacks the scope "${permission.scope}" (it has: ${actor.scopes?.join(', ') || 'none'})`,
        };
      return {
        result: 'conditional',
        rule: isTaskCreator,
        reason:
          permission.name === 'scaffolder.task.read'
            ? `${actor.id} may read only the tasks it started (admins read every task)`
            : `${actor.id} may cancel only the tasks it started (admins cancel any task)`,
      };
    }
    if (actor.kind === 'token') {
      const scopes = actor.scopes ?? [];
      return scopes.includes('admin') || scopes.includes(permission.scope)
        ? { result: 'allow' }
        : {
            result: 'deny',
            reason: `${actor.id} lacks the scope "${permission.scope}" (it has: ${scopes.join(', ') || 'none'})`,
          };
    }
    if (user.admin) return { result: 'allow' };
    switch (permission.name) {
      case 'scaffolder.task.create':
      case 'deploys.write':
      case 'catalog.entity.refresh':
        return {
          result: 'conditional',
          rule: isMemberOfOwnerOrCollective,
          reason: `${actor.id} must be a member of the owning team or its collective, or of an admin group`,
        };
      default:
        return { result: 'deny', reason: `${actor.id} is not in an admin group (PORTAL_ADMIN_GROUPS)` };
    }
  }
}

/** PORTAL_ADMIN_GROUPS: comma-separated group refs or names (`platform`, `group:default/security`). */
export function adminGroupsOf(raw: string | undefined): Set<string> {
  return new Set(
    (raw ?? '')
      .split(',')
      .map((g) => g.trim())
      .filter((g) => g !== '')
      .map((g) => toRef(g, { kind: 'group' })),
  );
}

/** The user's ownership refs: itself and every group it is a member of, from the catalogue. */
export function ownershipRefsOf(view: CatalogView, userRef: string): string[] {
  const entity = view.byRef.get(userRef);
  const groups = (entity?.relations ?? []).filter((r) => r.type === 'memberOf').map((r) => r.targetRef);
  return [userRef, ...groups];
}

/** Fill in the owner of an existing entity (its ownedBy relation), or normalise a given owner to a ref. */
export function resolveResource(view: CatalogView, resource: PermissionResource): ResolvedResource {
  if (resource.createdBy !== undefined) return { createdBy: resource.createdBy };
  if (resource.ref !== undefined) {
    const entity = view.byRef.get(resource.ref);
    const owner = entity?.relations?.find((r) => r.type === 'ownedBy')?.targetRef;
    return { ref: resource.ref, owner: owner ?? undefined };
  }
  if (resource.owner !== undefined) {
    try {
      return { owner: toRef(resource.owner, { kind: 'group' }) };
    } catch {
      return {};
    }
  }
  return {};
}
