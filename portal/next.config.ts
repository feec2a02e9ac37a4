import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NextConfig } from 'next';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const config: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  devIndicators: false,
  // Served on loopback or behind the bank's proxy, which compresses: gzipping every chunk per request in
  // the portal's own process costs more CPU than it saves.
  compress: false,
  // npm workspaces: the lockfile and node_modules are at the repository root.
  turbopack: { root: repoRoot },
  outputFileTracingRoot: repoRoot,
  // Backstage's paths, typed by habit: its catalogue and its entity pages (/catalog/<namespace>/<kind>/<name>).
  async redirects() {
    return [
      { source: '/catalog', destination: '/catalogue', permanent: true },
      {
        source: '/catalog/:namespace/:kind/:name',
        destination: '/entity/:kind/:namespace/:name',
        permanent: true,
      },
    ];
  },
  async headers() {
    return [
      {
        source: '/:path*',
        headers: [
          { key: 'X-Content-Type-Options', value: 'nosniff' },
          { key: 'Referrer-Policy', value: 'same-origin' },
          { key: 'X-Frame-Options', value: 'DENY' },
        ],
      },
    ];
  },
};

export default config;
