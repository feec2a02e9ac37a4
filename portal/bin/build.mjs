// The `portal` CLI and server compiled to JavaScript (esbuild), so that no TypeScript loader runs when a
// person types `portal path card-api feed`: the loader alone cost about a second per command.
//
//   node portal/bin/build.mjs          build now (npm install's postinstall and the test runner do this)
//
// One bundle per build in portal/dist/build-<id>/, split into chunks so that each command loads only the
// modules it imports; npm packages stay external (loaded from node_modules as they are). `current.json`
// names the build in use and the source files it was made from: `portal` (bin/portal.mjs) rebuilds when one
// of them is newer than the build (about half a second), so a `git pull` or an edit never runs old code.
// Builds are written beside each other and `current.json` is replaced atomically, so two commands starting
// at once never see half a build, and a running server keeps the chunks it may still import lazily.
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const PORTAL_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_ROOT = path.resolve(PORTAL_DIR, '..');
export const DIST = path.join(PORTAL_DIR, 'dist');
const CURRENT = path.join(DIST, 'current.json');
const ENTRY = path.join(PORTAL_DIR, 'cli', 'main.ts');
/** Builds older than this that are not current are removed (a server started from one may still need it). */
const KEEP_OLD_MS = 7 * 86_400_000;

/** The build in use, if it is there and no source it was made from changed since. */
export function currentBuild() {
  let current;
  try {
    current = JSON.parse(readFileSync(CURRENT, 'utf8'));
  } catch {
    return undefined;
  }
  const main = path.join(DIST, current.dir, 'main.js');
  if (!existsSync(main)) return undefined;
  for (const input of current.inputs) {
    try {
      if (statSync(path.join(REPO_ROOT, input)).mtimeMs > current.startedAt) return undefined;
    } catch {
      return undefined; // a source was moved or deleted
    }
  }
  return { main, manifest: path.join(DIST, current.dir, 'commands.json') };
}

/**
 * Compiles portal/cli/main.ts (and through it the server and every plugin) into a new build and makes it
 * current. Returns the path of its main.js.
 */
export async function build({ quiet = false } = {}) {
  const started = Date.now();
  mkdirSync(DIST, { recursive: true });
  const { build: esbuild } = await import('esbuild');
  const id = `build-${started.toString(36)}-${process.pid}`;
  const outdir = path.join(DIST, id);
  const result = await esbuild({
    absWorkingDir: REPO_ROOT,
    entryPoints: { main: ENTRY },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    chunkNames: 'chunk-[hash]',
    metafile: true,
    logLevel: 'warning',
    legalComments: 'none',
    plugins: [workspaceOnly(outdir), sourceLocations(outdir)],
  });
  const inputs = [
    ...Object.keys(result.metafile.inputs),
    path.relative(REPO_ROOT, fileURLToPath(import.meta.url)),
    // Not the generated wrappers of CommonJS packages (namespace `cjs-require:`), which are no files.
  ].filter((f) => !f.includes('node_modules') && !f.startsWith('cjs-require:'));
  const main = path.join(outdir, 'main.js');
  // Which source went into which chunk and what each chunk imports: portal/cli/chunks.test.ts reads it to
  // check that the quick commands load no more than they need.
  writeFileSync(path.join(outdir, 'meta.json'), JSON.stringify(result.metafile));
  // Which plugin registers which command, so `portal <command>` loads that plugin alone (see cli/commands.ts).
  const { spawnSync } = await import('node:child_process');
  const manifest = path.join(outdir, 'commands.json');
  const r = spawnSync(process.execPath, [main], {
    env: { ...process.env, PORTAL_CLI_WRITE_MANIFEST: manifest },
    encoding: 'utf8',
  });
  if (r.status !== 0 || !existsSync(manifest))
    throw new Error(`portal build: listing the commands failed (exit ${r.status}): ${r.stderr}`);
  const tmp = `${CURRENT}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ dir: id, startedAt: started, inputs }, null, 1)}\n`);
  renameSync(tmp, CURRENT);
  removeOldBuilds(id);
  if (!quiet)
    process.stderr.write(
      `portal: compiled the CLI and server (${inputs.length} files) to ${path.relative(REPO_ROOT, outdir)} in ${Date.now() - started} ms\n`,
    );
  return { main, manifest };
}

/** The build in use, compiled first when there is none or its sources changed. */
export async function ensureBuilt() {
  return currentBuild() ?? (await build());
}

/**
 * npm packages bundled in after all: @backstage/catalog-model declares itself free of side effects, so
 * esbuild keeps only the policies and validators we use. Loaded whole from node_modules it cost about
 * 0.3 s of every start (zod with all its locales, ajv, lodash) before the first descriptor was read.
 */
const BUNDLED = new Set(['@backstage/catalog-model']);
/**
 * ...except where a file wants the parts we leave out: esbuild puts every module a package's index reaches
 * into the chunk of whoever imports the index, so catalog-model's kind modules (which build model layers with
 * zod when loaded) would join the start-up chunk. The runtime-compiled fallback validators load the package
 * from node_modules instead, and only when they are needed.
 */
const UNBUNDLED_FROM = [path.join('catalog', 'src', 'model', 'runtime-validators.ts')];

/**
 * npm packages are loaded from node_modules at run time; only the workspace's own TypeScript is compiled.
 * A package that npm installed inside a workspace (catalog/node_modules, plugins/scaffolder/node_modules:
 * another version than the root's, or none there) is imported by its path from the chunk, since a bare name
 * would be looked up from portal/dist and find the root's copy or nothing.
 */
function workspaceOnly(outdir) {
  const rootModules = path.join(REPO_ROOT, 'node_modules') + path.sep;
  return {
    name: 'workspace-only',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (
          args.path.startsWith('@bank/') ||
          args.path.startsWith('node:') ||
          args.pluginData === 'inner' ||
          (BUNDLED.has(args.path) && !UNBUNDLED_FROM.some((f) => args.importer.endsWith(f)))
        )
          return undefined;
        const found = await b.resolve(args.path, {
          kind: args.kind,
          resolveDir: args.resolveDir,
          importer: args.importer,
          pluginData: 'inner',
        });
        if (found.errors.length > 0 || !found.path || !path.isAbsolute(found.path))
          return { path: args.path, external: true };
        if (found.path.startsWith(rootModules)) {
          const names = args.kind === 'import-statement' ? commonJsExports(found.path) : undefined;
          return names
            ? { path: args.path, namespace: 'cjs-require', pluginData: names }
            : { path: args.path, external: true };
        }
        const rel = path.relative(outdir, found.path).split(path.sep).join('/');
        return { path: rel.startsWith('.') ? rel : `./${rel}`, external: true };
      });
      // A CommonJS package imported from our ESM chunks is loaded with require(), as it would be from
      // CommonJS: Node's ESM loader first scans its whole source for export names (cjs-module-lexer), which
      // for lodash alone cost 40-50 ms of every start. The names are found here, once per build.
      b.onLoad({ filter: /.*/, namespace: 'cjs-require' }, (args) => ({
        contents: [
          "import { createRequire } from 'node:module';",
          `const m = createRequire(import.meta.url)(${JSON.stringify(args.path)});`,
          'export default m;',
          ...args.pluginData.map((n) => `export const ${n} = m.${n};`),
        ].join('\n'),
        loader: 'js',
      }));
    },
  };
}

/**
 * `import.meta.url` in a compiled chunk would name the chunk, not the source file; code that finds files
 * beside itself (the repo root, migrations, generated validators) expects the source's location. Rewritten
 * relative to the chunk, so the repository can still be moved as a whole.
 */
function sourceLocations(outdir) {
  return {
    name: 'source-locations',
    setup(b) {
      b.onLoad({ filter: /\.tsx?$/ }, (args) => {
        if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
        const text = readFileSync(args.path, 'utf8');
        if (!text.includes('import.meta.url')) return undefined;
        const rel = path.relative(outdir, args.path).split(path.sep).join('/');
        return {
          contents: text.replaceAll(
            'import.meta.url',
            `new URL(${JSON.stringify(rel)}, import.meta.url).href`,
          ),
          loader: args.path.endsWith('x') ? 'tsx' : 'ts',
        };
      });
    },
  };
}

const requireFromRoot = createRequire(path.join(REPO_ROOT, 'package.json'));
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/**
 * The export names of a CommonJS file (what `import { x } from` may ask of it), or undefined when the file
 * is an ES module or cannot be loaded here (then it stays an ordinary external import).
 */
function commonJsExports(file) {
  if (file.endsWith('.mjs') || file.endsWith('.json') || file.endsWith('.node')) return undefined;
  if (!file.endsWith('.cjs') && packageTypeOf(file) === 'module') return undefined;
  try {
    const m = requireFromRoot(file);
    const names = m !== null && (typeof m === 'object' || typeof m === 'function') ? Object.keys(m) : [];
    return names.filter((n) => IDENTIFIER.test(n) && n !== 'default');
  } catch {
    return undefined;
  }
}

function packageTypeOf(file) {
  for (let dir = path.dirname(file); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        return JSON.parse(readFileSync(pkg, 'utf8')).type ?? 'commonjs';
      } catch {
        return 'commonjs';
      }
    }
  }
  return 'commonjs';
}

function removeOldBuilds(keep) {
  const now = Date.now();
  for (const name of readdirSync(DIST)) {
    if (!name.startsWith('build-') || name === keep) continue;
    const dir = path.join(DIST, name);
    try {
      if (now - statSync(dir).mtimeMs > KEEP_OLD_MS) rmSync(dir, { recursive: true, force: true });
    } catch {
      // another build removed it first
    }
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await build();
