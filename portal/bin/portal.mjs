#!/usr/bin/env node
// The `portal` CLI: compiled JavaScript (portal/dist, see build.mjs), compiled again first when a source
// changed since the last build.
import { currentBuild } from './build.mjs';

const built = currentBuild() ?? (await (await import('./build.mjs')).build());
process.env.PORTAL_CLI_MANIFEST = built.manifest;
await import(built.main);
