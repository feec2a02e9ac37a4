#!/usr/bin/env node
// The layering rules of ARCHITECTURE.md, checked on every import of every .ts/.tsx/.mjs file (tests included):
//   1. nothing imports upward: services/lib → catalog → the estate generator (bench/estate) → graph →
//      plugins/kit → plugins → portal → bench, scripts, services (the tools and the estate on top);
//   2. a product package (catalog, graph, plugins/*, portal, services/lib/*) reaches another package by its
//      npm name, never by a relative path into it;
//   3. that name is declared in the importer's package.json (dependencies or devDependencies);
//   4. the subpath is one the target's package.json `exports` lists (a closed package exports its public API
//      only);
//   5. plugins depend on each other without cycles.
// Two pieces low down have no package of their own and may be reached by path from tests: the estate
// generator (bench/estate: it needs only the catalogue's annotation names) and scripts/pg-harness.mjs (a
// throwaway PostgreSQL for tests).
// bench/ and scripts/ measure and drive the product from outside: they may reach into internals by path.
//   node scripts/architecture.mjs [--json]
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const ROOT = join(fileURLToPath(import.meta.url), '..', '..');
const SKIP_DIRS = new Set([
  'node_modules',
  '.git',
  '.next',
  'dist',
  'data',
  'generated',
  'test-results',
  '.cache',
]);
// A separate npm project (React 18, its own lock file): it reaches the portal over HTTP only.
const SEPARATE = new Set(['plugins/backstage-frontend', 'templates']);

/** The unit a repository path belongs to, and its layer (higher may import lower, never the reverse). */
export function unitOf(file) {
  const p = file.split(sep).join('/');
  if (p === 'scripts/pg-harness.mjs') return { unit: 'scripts/pg-harness.mjs', layer: 0, tool: true };
  if (p.startsWith('bench/estate/')) return { unit: 'bench/estate', layer: 1.5, tool: true };
  if (p.startsWith('services/lib/')) return { unit: p.split('/').slice(0, 3).join('/'), layer: 0 };
  if (p.startsWith('catalog/')) return { unit: 'catalog', layer: 1 };
  if (p.startsWith('graph/')) return { unit: 'graph', layer: 2 };
  if (p.startsWith('plugins/kit/')) return { unit: 'plugins/kit', layer: 3 };
  if (p.startsWith('plugins/')) return { unit: p.split('/').slice(0, 2).join('/'), layer: 4 };
  if (p.startsWith('portal/')) return { unit: 'portal', layer: 5 };
  if (p.startsWith('bench/')) return { unit: 'bench', layer: 6, tool: true };
  if (p.startsWith('scripts/')) return { unit: 'scripts', layer: 6, tool: true };
  if (p.startsWith('services/')) return { unit: 'services', layer: 6 };
  return undefined;
}

function sourceFiles(root, dir = root, out = []) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, e.name);
    const rel = relative(root, full).split(sep).join('/');
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name) && !SEPARATE.has(rel)) sourceFiles(root, full, out);
    } else if (/\.(tsx?|mjs)$/.test(e.name) && !/\.d\.ts$/.test(e.name)) out.push(rel);
  }
  return out;
}

/** package name → { unit, exports, deps } for every package.json of a unit. */
function packages(root) {
  const byName = new Map();
  const byUnit = new Map();
  const visit = (dir) => {
    const file = join(root, dir, 'package.json');
    if (!existsSync(file)) return;
    const pkg = JSON.parse(readFileSync(file, 'utf8'));
    const info = {
      unit: dir,
      name: pkg.name,
      exports: pkg.exports,
      deps: new Set([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.devDependencies ?? {})]),
    };
    byName.set(pkg.name, info);
    byUnit.set(dir, info);
  };
  for (const top of ['catalog', 'graph', 'portal', 'bench']) visit(top);
  for (const parent of ['plugins', 'services/lib']) {
    const at = join(root, parent);
    if (existsSync(at))
      for (const e of readdirSync(at, { withFileTypes: true }))
        if (e.isDirectory() && !SEPARATE.has(`${parent}/${e.name}`)) visit(`${parent}/${e.name}`);
  }
  return { byName, byUnit };
}

/** Does `exports` (a package.json exports field) list `subpath` ('.' or './x/y.ts')? Patterns with one `*`. */
export function exportsList(exportsField, subpath) {
  if (exportsField === undefined) return subpath === '.';
  if (typeof exportsField === 'string') return subpath === '.';
  return Object.keys(exportsField).some((key) => {
    if (key === subpath) return true;
    const star = key.indexOf('*');
    return star >= 0 && subpath.startsWith(key.slice(0, star)) && subpath.endsWith(key.slice(star + 1));
  });
}

/** Every problem found, as "file: what is wrong" lines; `[]` when the layering holds. */
export function architectureProblems(root = ROOT) {
  const { byName, byUnit } = packages(root);
  const problems = [];
  const pluginEdges = new Map();
  for (const file of sourceFiles(root)) {
    const from = unitOf(file);
    if (!from) continue;
    const text = readFileSync(join(root, file), 'utf8');
    for (const imported of ts.preProcessFile(text, true, true).importedFiles) {
      const spec = imported.fileName;
      let to;
      let byPath = false;
      let target;
      if (spec.startsWith('.')) {
        const resolved = relative(root, resolve(root, dirname(file), spec))
          .split(sep)
          .join('/');
        to = unitOf(resolved);
        byPath = true;
      } else if (spec.startsWith('@bank/')) {
        const name = spec.split('/').slice(0, 2).join('/');
        target = byName.get(name);
        if (!target) {
          problems.push(`${file}: imports ${spec}, and no package of ours is named ${name}`);
          continue;
        }
        to = unitOf(`${target.unit}/package.json`);
      } else continue;
      if (!to || to.unit === from.unit) continue;
      if (to.layer > from.layer)
        problems.push(
          `${file}: ${from.unit} imports ${spec} of ${to.unit}, a layer above it (imports go downward)`,
        );
      if (byPath && !from.tool && !to.tool)
        problems.push(
          `${file}: reaches into ${to.unit} by a relative path (${spec}); import it by its package name`,
        );
      if (target && !from.tool) {
        const own = byUnit.get(from.unit);
        if (own && !own.deps.has(target.name))
          problems.push(`${file}: imports ${target.name}, which ${from.unit}/package.json does not declare`);
      }
      if (target) {
        const sub = spec === target.name ? '.' : `.${spec.slice(target.name.length)}`;
        if (!exportsList(target.exports, sub))
          problems.push(`${file}: imports ${spec}, which ${target.unit}/package.json does not export`);
      }
      if (from.unit.startsWith('plugins/') && to.unit.startsWith('plugins/') && to.unit !== 'plugins/kit') {
        if (!pluginEdges.has(from.unit)) pluginEdges.set(from.unit, new Set());
        pluginEdges.get(from.unit).add(to.unit);
      }
    }
  }
  for (const cycle of cycles(pluginEdges)) problems.push(`plugins depend on each other in a cycle: ${cycle}`);
  return problems;
}

function cycles(edges) {
  const out = [];
  const state = new Map();
  const stack = [];
  const visit = (n) => {
    state.set(n, 1);
    stack.push(n);
    for (const m of edges.get(n) ?? []) {
      if (state.get(m) === 1) out.push([...stack.slice(stack.indexOf(m)), m].join(' → '));
      else if (!state.has(m)) visit(m);
    }
    stack.pop();
    state.set(n, 2);
  };
  for (const n of [...edges.keys()].sort()) if (!state.has(n)) visit(n);
  return out;
}

/** Packages whose exports still let anyone import any file (`./*`): not closed yet. */
export function openPackages(root = ROOT) {
  const { byUnit } = packages(root);
  return [...byUnit.values()]
    .filter(
      (p) =>
        p.unit !== 'bench' &&
        (p.exports === undefined || Object.keys(p.exports).some((k) => k.includes('*'))),
    )
    .map((p) => p.unit)
    .sort();
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const problems = architectureProblems();
  if (process.argv.includes('--json'))
    console.log(JSON.stringify({ problems, open: openPackages() }, null, 2));
  else {
    for (const p of problems) console.log(p);
    console.log(
      `${problems.length} problem(s); packages exporting every file: ${openPackages().join(', ') || 'none'}`,
    );
  }
  process.exitCode = problems.length > 0 ? 1 : 0;
}
