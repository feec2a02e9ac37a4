/**
 * The built-in actions, one per file. Every action supports dry-run: fetch actions only ever write the
 * in-memory workspace; publish and register compute what they would do, and do it only in a real run, each
 * registering its compensation with the task's transaction first.
 */
import type { Action } from '../types.ts';
import { networkPeers } from './bank-network-peers.ts';
import { catalogRegister } from './catalog-register.ts';
import { catalogWrite } from './catalog-write.ts';
import { debugLog } from './debug-log.ts';
import { fetchPlain } from './fetch-plain.ts';
import { fetchTemplate } from './fetch-template.ts';
import { fsDelete } from './fs-delete.ts';
import { fsRename } from './fs-rename.ts';
import { githubPullRequest } from './github-pull-request.ts';
import { kubernetesValidate } from './kubernetes-validate.ts';
import { publishGithub } from './publish-github.ts';
import { publishGitlab } from './publish-gitlab.ts';
import { publishMonorepo } from './publish-monorepo.ts';

export { DATASTORE_PORTS, serviceIdOf } from './bank-network-peers.ts';
export type { CatalogDiff } from './catalog-register.ts';
export { ActionError } from './input.ts';
export { admitCaller } from './network-policy.ts';
export { globToRegExp, readSkeleton } from './skeleton.ts';

export function builtinActions(): Action[] {
  return [
    fetchTemplate,
    fetchPlain,
    debugLog,
    networkPeers,
    kubernetesValidate,
    publishMonorepo,
    catalogRegister,
    catalogWrite,
    fsDelete,
    fsRename,
    publishGithub,
    publishGitlab,
    githubPullRequest,
  ];
}
