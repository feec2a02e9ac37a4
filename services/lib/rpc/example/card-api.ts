/** card-api: the edge. Public routes that call cards. */
import { createClient, listen, Router } from '../src/index.ts';

const cards = createClient('cards', { timeoutMs: 3_000 });

const router = new Router()
  .get('/v1/cards/:id', (req) => cards.get(`/cards/${encodeURIComponent(req.params.id)}`))
  .get('/v1/flaky', () => cards.get('/flaky'));

const server = await listen(router.serve(), {
  name: 'card-api',
  rateLimit: { ratePerSec: 20, burst: 40 },
});
console.log(`card-api listening on ${server.url}`);
process.once(
  'SIGTERM',
  () =>
    void server
      .stop(5_000)
      .then(() => cards.close())
      .then(() => process.exit(0)),
);
