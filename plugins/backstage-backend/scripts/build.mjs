#!/usr/bin/env node
// The package as a Backstage app installs it: dist/ holds index.cjs (this plugin with @bank/graph and the
// portal's query parameters bundled in, since those are TypeScript ESM workspace packages no Backstage
// backend can load) and a package.json whose dependencies are what stays outside the bundle: Backstage's
// own packages and express, which must be the app's copies (services are matched by identity).
//   npm run build -w @bank/backstage-plugin-portal-backend      then: npm install <path>/dist in the app
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build as esbuild } from 'esbuild';

const here = join(fileURLToPath(import.meta.url), '..', '..');

/** Builds dist/ (or `outDir`) and returns its path and the bundle's size in bytes. */
export async function build(outDir = join(here, 'dist')) {
  const pkg = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8'));
  const external = Object.keys(pkg.dependencies).filter((d) => !d.startsWith('@bank/'));
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const result = await esbuild({
    entryPoints: [join(here, 'src', 'index.ts')],
    outfile: join(outDir, 'index.cjs'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // neo4j-driver is loaded only by `portal graph sync`, never by these routes.
    external: [...external, 'neo4j-driver'],
    metafile: true,
    logLevel: 'warning',
    // graph/src/neo4j.ts reads import.meta; @bank/graph is sideEffects-free, so the unused module is left out
    // of the bundle (checked below) and the parse-time warning about it says nothing about the output.
    logOverride: { 'empty-import-meta': 'silent' },
    legalComments: 'linked',
  });
  const output = Object.values(result.metafile.outputs)[0];
  const leaked = Object.entries(output.inputs).filter(([f, i]) => /neo4j/.test(f) && i.bytesInOutput > 0);
  if (leaked.length > 0)
    throw new Error(`build: ${leaked.map(([f]) => f).join(', ')} ended up in the bundle`);
  const dependencies = Object.fromEntries(external.map((d) => [d, pkg.dependencies[d]]));
  writeFileSync(
    join(outDir, 'package.json'),
    `${JSON.stringify(
      {
        name: pkg.name,
        version: pkg.version,
        description: pkg.description,
        license: 'UNLICENSED',
        main: 'index.cjs',
        backstage: pkg.backstage,
        dependencies,
      },
      null,
      2,
    )}\n`,
  );
  const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
  return { outDir, bytes };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { outDir, bytes } = await build();
  console.log(`built ${outDir} (${Math.round(bytes / 1024)} KiB)`);
}
