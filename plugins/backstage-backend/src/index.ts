/**
 * @bank/backstage-plugin-portal-backend: the portal's call paths and blast radius as a Backstage backend
 * plugin over Backstage's own catalogue. `backend.add(import('@bank/backstage-plugin-portal-backend'))`.
 */
import { portalGraphPlugin } from './plugin.ts';

export { GRAPH_FIELDS, readCatalogueIndex } from './catalogue.ts';
export { portalGraphPlugin } from './plugin.ts';
export { createRouter, type RouterOptions } from './router.ts';
export default portalGraphPlugin;
