import { stringifyRef } from '@bank/catalog';
import type { GraphIndex } from '@bank/graph';
import type { CatalogService } from '@bank/plugin-catalog';
import { createApp, NotFoundError } from '@bank/plugin-kit';
import type { Hono } from 'hono';
import { entityBundle } from '../lib/bundle.ts';
import { desiredStateOf, type K8sAnswer } from '../lib/k8s.ts';

export interface EntityRouterDeps {
  catalog: CatalogService;
  getIndex: () => GraphIndex;
}

/**
 * Mounted at /api/entity. `GET /:kind/:namespace/:name`: everything the entity page shows in one answer
 * (overview facts, owner and collective, call dependencies with transitive counts, APIs, resources, group
 * and user sections, ingest errors). `GET /:kind/:namespace/:name/k8s`: the desired Kubernetes state read
 * from the service's manifests. Unknown refs are 404s with the closest names.
 */
export function createEntityRouter({ catalog, getIndex }: EntityRouterDeps): Hono {
  const app = createApp();

  const find = (kind: string, namespace: string, name: string) => {
    const view = catalog.loaded;
    const ref = stringifyRef({ kind, namespace, name });
    if (!view.byRef.has(ref)) {
      const suggestions = view.suggestions(ref);
      throw new NotFoundError(
        `No entity ${ref}.${suggestions.length > 0 ? ` Did you mean: ${suggestions.join(', ')}?` : ''}`,
        { suggestions },
      );
    }
    return { view, ref };
  };

  app.get('/:kind/:namespace/:name', async (c) => {
    const { view, ref } = find(c.req.param('kind'), c.req.param('namespace'), c.req.param('name'));
    const errors = await catalog.store.errors();
    return c.json(entityBundle(view, getIndex(), ref, errors));
  });

  app.get('/:kind/:namespace/:name/k8s', async (c) => {
    const { view, ref } = find(c.req.param('kind'), c.req.param('namespace'), c.req.param('name'));
    const answer: K8sAnswer = { ref, k8s: await desiredStateOf(view, ref, catalog.roots) };
    return c.json(answer);
  });
  return app;
}
