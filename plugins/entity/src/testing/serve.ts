import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

/** Mounts `router` at `mount` on a real HTTP server on 127.0.0.1 (port 0) and returns a JSON getter. */
export async function serveRouter(mount: string, router: Hono) {
  const app = new Hono();
  app.route(mount, router);
  let server: ReturnType<typeof serve> | undefined;
  const base = await new Promise<string>((resolve) => {
    server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info: AddressInfo) =>
      resolve(`http://127.0.0.1:${info.port}${mount}`),
    );
  });
  return {
    base,
    // biome-ignore lint/suspicious/noExplicitAny: test bodies are asserted field by field
    get: async (p: string): Promise<{ status: number; body: any }> => {
      const res = await fetch(`${base}${p}`);
      return { status: res.status, body: await res.json() };
    },
    close: () => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())),
  };
}
