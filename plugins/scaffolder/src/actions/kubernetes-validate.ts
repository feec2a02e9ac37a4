import { parseManifests, validateManifests } from '../manifests.ts';
import { safeRelative } from '../paths.ts';
import type { Action } from '../types.ts';
import { ActionError, str } from './input.ts';

export const kubernetesValidate: Action = {
  id: 'kubernetes:validate',
  description:
    'Validate the Kubernetes manifests in a workspace directory offline (kubernetes-models) plus the bank checks (path, default k8s)',
  async handler(ctx) {
    const dir = safeRelative(str(ctx, 'path', { fallback: 'k8s' }), `${ctx.field}.path`);
    const files = ctx.workspace
      .list(dir)
      .filter((f) => f.entry.kind === 'file' && /\.ya?ml$/.test(f.path))
      .map((f) => ({
        path: `${dir}/${f.path}`,
        text: (f.entry as { content: Buffer }).content.toString('utf8'),
      }));
    if (files.length === 0) throw new ActionError(`${ctx.field}.path: no manifests under ./${dir}`);
    const { objects, errors } = parseManifests(files);
    const reports = [...errors, ...(await validateManifests(objects))];
    ctx.output('manifests', reports);
    const bad = reports.filter((r) => r.errors.length > 0);
    if (bad.length > 0) {
      throw new ActionError(
        `Kubernetes manifests are invalid: ${bad.map((r) => `${r.file} ${r.kind}/${r.name}: ${r.errors.join('; ')}`).join(' | ')}`,
      );
    }
    ctx.log(
      `${objects.length} Kubernetes objects valid: ${objects.map((o) => `${o.kind}/${o.name}`).join(', ')}`,
    );
  },
};
