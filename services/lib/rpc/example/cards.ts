/** cards: owns cards; asks transactions for a card's recent transactions. */
import { createClient, listen, Router, RpcError } from '../src/index.ts';

const transactions = createClient('transactions', { timeoutMs: 2_000, attemptTimeoutMs: 500 });
const cards = new Map([
  ['card-1', { id: 'card-1', holder: 'Ada Lovelace', status: 'active' }],
  ['card-2', { id: 'card-2', holder: 'Alan Turing', status: 'frozen' }],
]);

const router = new Router()
  .get('/cards/:id', async (req) => {
    const card = cards.get(req.params.id);
    if (!card)
      throw new RpcError('not_found.card', `No card ${req.params.id}`, { params: { card: req.params.id } });
    // No context passed by hand: trace, request id, deadline and cancellation flow from the inbound request.
    const recent = await transactions.get<{ transactions: unknown[] }>(`/transactions/${card.id}`);
    return { ...card, recent: recent.transactions };
  })
  .get('/flaky', () => transactions.get('/flaky'));

const server = await listen(router.serve(), { name: 'cards' });
console.log(`cards listening on ${server.url}`);
process.once(
  'SIGTERM',
  () =>
    void server
      .stop(5_000)
      .then(() => transactions.close())
      .then(() => process.exit(0)),
);
