// Whether this package's own node_modules are there (the root postinstall runs `npm ci` here unless
// PORTAL_SKIP_BACKSTAGE_PLUGIN_INSTALL=1). The root typecheck and `npm test` ask before touching the package.
import { existsSync } from 'node:fs';
import path from 'node:path';

export const PACKAGE_DIR = path.resolve(import.meta.dirname, '..');

/** Why this package cannot be checked or tested here, or undefined when its install is there. */
export function notInstalled() {
  if (existsSync(path.join(PACKAGE_DIR, 'node_modules', '@backstage', 'core-plugin-api', 'package.json')))
    return undefined;
  return 'plugins/backstage-frontend has no node_modules (installed by the root postinstall unless PORTAL_SKIP_BACKSTAGE_PLUGIN_INSTALL=1; `node plugins/backstage-frontend/scripts/install.mjs` installs it)';
}
