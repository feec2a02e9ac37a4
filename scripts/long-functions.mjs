#!/usr/bin/env node
// The production functions longer than a limit (default 150 lines), longest first: issue 15's bar is none over
// 150. Production: every .ts/.tsx of the workspaces but tests, test helpers (testing.ts, testing/, e2e/),
// generated code, bench/ and scripts/. A function's lines run from its first line to its last, nested
// functions included (each nested one is listed on its own too).
//   node scripts/long-functions.mjs [--over 150] [--json]
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
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
  'skeleton',
  'testing',
  'e2e',
]);
const TOP = ['catalog', 'graph', 'plugins', 'portal', 'services/lib'];

function sourceFiles(dir, out = []) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name)) sourceFiles(join(dir, e.name), out);
    } else if (/\.tsx?$/.test(e.name) && !/\.(test|d)\.tsx?$/.test(e.name) && e.name !== 'testing.ts')
      out.push(join(dir, e.name));
  }
  return out;
}

/** The name a reader would look for: the declaration's, the variable's or the property's it is assigned to. */
function nameOf(node, sf) {
  if (node.name) return node.name.getText(sf);
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const p = node.parent;
  if (p && (ts.isVariableDeclaration(p) || ts.isPropertyAssignment(p) || ts.isPropertyDeclaration(p)))
    return p.name.getText(sf);
  if (p && ts.isCallExpression(p)) return `${p.expression.getText(sf).slice(0, 40)}(…)`;
  return '(anonymous)';
}

/** Every function over `over` lines under the repository's production folders, longest first. */
export function longFunctions(over = 150, root = ROOT) {
  const found = [];
  for (const top of TOP.filter((t) => existsSync(join(root, t)))) {
    for (const file of sourceFiles(join(root, top))) {
      const text = readFileSync(file, 'utf8');
      const kind = file.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS;
      const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, kind);
      const visit = (node) => {
        if (ts.isFunctionLike(node) && 'body' in node && node.body) {
          const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
          const end = sf.getLineAndCharacterOfPosition(node.end).line + 1;
          const lines = end - start + 1;
          if (lines > over)
            found.push({ file: relative(root, file), line: start, name: nameOf(node, sf), lines });
        }
        ts.forEachChild(node, visit);
      };
      visit(sf);
    }
  }
  return found.sort((a, b) => b.lines - a.lines || a.file.localeCompare(b.file));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--over');
  const over = at > 0 ? Number(process.argv[at + 1]) : 150;
  const list = longFunctions(over);
  if (process.argv.includes('--json')) console.log(JSON.stringify(list, null, 2));
  else {
    for (const f of list) console.log(`${String(f.lines).padStart(5)}  ${f.file}:${f.line}  ${f.name}`);
    console.log(`${list.length} production functions over ${over} lines`);
  }
}
