/**
 * The app shell (dev/App.tsx) bundled with esbuild and served on 127.0.0.1, standing where a Backstage
 * installation's app and backend stand for the browser: one origin serving the app and, under /api, the
 * two backend routes the shell needs, forwarded to a real portal:
 *   /api/catalog/*        → <portal>/api/catalog/*  (the portal serves Backstage's catalog REST API)
 *   /api/proxy/portal/*   → <portal>/api/*          (what Backstage's proxy-backend does with the README's
 *                                                    `proxy: /portal` entry)
 * The app finds both through Backstage's discovery API: backend.baseUrl is this server, and
 * `discovery.endpoints` points the 'portal' plugin id at the proxy path, as the README configures it.
 *
 * By hand: node --import tsx plugins/backstage-frontend/dev/shell.ts --portal http://127.0.0.1:7007 [--port 3000]
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build, type Plugin } from 'esbuild';

const DEV = import.meta.dirname;
const OUT = path.join(DEV, 'dist');

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

/**
 * csv-stringify 5 (the catalogue's CSV export) requires Node's `stream`; the package ships a browserified
 * build of the same module, which is what a browser gets (Backstage's webpack polyfills `stream` instead).
 */
const browserCsv: Plugin = {
  name: 'csv-stringify-browser',
  setup(b) {
    b.onResolve({ filter: /^csv-stringify\/lib\/sync$/ }, async (args) =>
      b.resolve('csv-stringify/lib/browser/sync.js', { resolveDir: args.resolveDir, kind: args.kind }),
    );
  },
};

/** The app bundled in memory: URL path under /static → file contents. */
export async function bundleApp(): Promise<Map<string, Uint8Array>> {
  const result = await build({
    entryPoints: [path.join(DEV, 'index.tsx')],
    bundle: true,
    splitting: true, // the plugin's lazy components load as chunks, as in an installation's app
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    jsx: 'automatic',
    write: false,
    outdir: OUT,
    publicPath: '/static',
    entryNames: '[name]',
    chunkNames: 'chunks/[name]-[hash]',
    assetNames: 'assets/[name]-[hash]',
    loader: { '.svg': 'file', '.png': 'file', '.woff': 'file', '.woff2': 'file' },
    define: {
      'process.env.NODE_ENV': '"production"',
      // The config comes from index.html's backstage.io/config script, not from the build.
      'process.env.APP_CONFIG': '[]',
      // Node's name for the global object, which some libraries still use (webpack 4 rewrote it).
      global: 'globalThis',
    },
    // Libraries that read process.env.SOMETHING else in the browser find an empty env, as webpack's shim gives.
    banner: { js: 'globalThis.process ??= { env: {} };' },
    plugins: [browserCsv],
    logLevel: 'error',
  });
  const files = new Map<string, Uint8Array>();
  for (const f of result.outputFiles) files.set(`/static/${path.relative(OUT, f.path)}`, f.contents);
  return files;
}

/** index.html with the app's config in a backstage.io/config script (read by core-app-api's config loader). */
function indexHtml(config: object): string {
  const json = JSON.stringify([{ context: 'app-shell', data: config }]).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Backstage app shell</title>
<script type="backstage.io/config">${json}</script>
</head>
<body>
<div id="root"></div>
<script type="module" src="/static/index.js"></script>
</body>
</html>
`;
}

/** Headers a browser sends that belong to this origin, not to the portal behind it. */
const HOP_HEADERS = new Set(['host', 'origin', 'referer', 'cookie', 'connection', 'keep-alive']);

function forward(req: http.IncomingMessage, res: http.ServerResponse, target: URL): void {
  const headers = Object.fromEntries(
    Object.entries(req.headers).filter(([k]) => !HOP_HEADERS.has(k.toLowerCase())),
  );
  const upstream = http.request(target, { method: req.method, headers }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  upstream.on('error', (err) => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { name: 'BadGatewayError', message: err.message } }));
  });
  req.pipe(upstream);
}

export interface AppShell {
  url: string;
  close(): Promise<void>;
}

/** Bundles the app and serves it on 127.0.0.1 (port 0: a free one), forwarding the backend routes to `portalUrl`. */
export async function startAppShell(opts: { portalUrl: string; port?: number }): Promise<AppShell> {
  const portal = new URL(opts.portalUrl);
  const files = await bundleApp();
  let html = '';
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://app-shell');
    const p = url.pathname;
    if (p.startsWith('/api/catalog/') || p === '/api/catalog') {
      return forward(req, res, new URL(`${p}${url.search}`, portal));
    }
    if (p.startsWith('/api/proxy/portal/')) {
      return forward(req, res, new URL(`/api/${p.slice('/api/proxy/portal/'.length)}${url.search}`, portal));
    }
    if (p.startsWith('/api/')) {
      res.writeHead(404, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ error: { name: 'NotFoundError', message: `no backend route ${p}` } }));
    }
    const file = files.get(p);
    if (file) {
      res.writeHead(200, { 'content-type': TYPES[path.extname(p)] ?? 'application/octet-stream' });
      return res.end(file);
    }
    if (p.startsWith('/static/')) {
      res.writeHead(404);
      return res.end();
    }
    // Every other path is the single-page app's (react-router's) to answer.
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  html = indexHtml({
    app: { title: 'Backstage app shell', baseUrl: url },
    backend: { baseUrl: url },
    discovery: { endpoints: [{ target: `${url}/api/proxy/portal`, plugins: ['portal'] }] },
  });
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { portal: { type: 'string' }, port: { type: 'string' } } });
  if (!values.portal) {
    console.error('usage: shell.ts --portal <portal URL, e.g. http://127.0.0.1:7007> [--port 3000]');
    process.exit(2);
  }
  const shell = await startAppShell({ portalUrl: values.portal, port: Number(values.port ?? 0) });
  console.log(`Backstage app shell on ${shell.url} (portal: ${values.portal})`);
  console.log(`  ${shell.url}/portal/paths?from=card-api&to=feed`);
  console.log(`  ${shell.url}/catalog/default/component/card-api/portal`);
}
