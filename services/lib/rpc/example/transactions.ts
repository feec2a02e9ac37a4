/** transactions: the bottom of the chain. Owns card transactions. */
import { listen, Router, RpcError } from '../src/index.ts';

const store = new Map<string, Array<{ id: string; amountMinor: number; merchant: string }>>([
  ['card-1', [{ id: 'tx-1', amountMinor: 1250, merchant: 'Coffee Corner' }]],
  ['card-2', []],
]);

const router = new Router()
  .get('/transactions/:cardId', (req) => {
    const txs = store.get(req.params.cardId);
    if (!txs) throw new RpcError('not_found.card', `No transactions for card ${req.params.cardId}`);
    return { cardId: req.params.cardId, transactions: txs };
  })
  .post(
    '/transactions/:cardId',
    (req) => {
      const body = req.body as { amountMinor: number; merchant: string };
      const list = store.get(req.params.cardId) ?? [];
      const tx = { id: `tx-${Date.now()}`, ...body };
      list.push(tx);
      store.set(req.params.cardId, list);
      return tx;
    },
    {
      schema: {
        type: 'object',
        required: ['amountMinor', 'merchant'],
        properties: {
          amountMinor: { type: 'integer', minimum: 1 },
          merchant: { type: 'string', minLength: 1 },
        },
        additionalProperties: false,
      },
    },
  )
  // A deliberately flaky route: fails two times in three, to show retries in /metrics.
  .get('/flaky', () => {
    if (Math.random() < 0.66) throw new RpcError('internal_service.flaky', 'Try again');
    return { ok: true };
  });

const server = await listen(router.serve(), {
  name: 'transactions',
  rateLimit: { ratePerSec: 50, burst: 100 },
});
console.log(`transactions listening on ${server.url}`);
process.once('SIGTERM', () => void server.stop(5_000).then(() => process.exit(0)));
