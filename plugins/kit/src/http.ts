import { Hono } from 'hono';
import { errorEnvelope, NotFoundError } from './errors.ts';

/**
 * A Hono app with the portal's error handling: every thrown PortalError becomes its status and the
 * Backstage error envelope; anything else is a 500 with a message (never a stack trace).
 */
export function createApp(): Hono {
  const app = new Hono();
  app.onError((err, c) => {
    const env = errorEnvelope(err, c.req.method, new URL(c.req.url).pathname);
    // A body over the limit was left unread: close the connection rather than read the rest of it.
    if (env.response.statusCode === 413) c.header('connection', 'close');
    if (env.response.statusCode === 503) c.header('retry-after', '5');
    if (env.response.statusCode >= 500)
      process.stderr.write(`${c.req.method} ${c.req.url}: ${err.stack ?? err.message}\n`);
    return c.json(env, env.response.statusCode as 400);
  });
  app.notFound((c) => {
    const env = errorEnvelope(
      new NotFoundError(`No route ${c.req.method} ${new URL(c.req.url).pathname}`),
      c.req.method,
      new URL(c.req.url).pathname,
    );
    return c.json(env, 404);
  });
  return app;
}
