/**
 * The card-api → feed chain as real services on this library, for the portal's traffic demo
 * (`npm run traffic`) and its browser journey: card-api → card-processing → cards → transactions → balance
 * → transaction-enrichment → merchant → feed-generator → feed, each calling the next as its descriptor
 * declares, plus one call no descriptor declares (cards → feed). Every service exports its spans through the
 * OpenTelemetry SDK to OTEL_EXPORTER_OTLP_ENDPOINT (set it, and OTEL_EXPORTER_OTLP_HEADERS for the token).
 *
 *   tsx services/lib/rpc/example/chain.ts [--rate 10] [--requests N]
 */
import { parseArgs } from 'node:util';
import {
  type Client,
  createClient,
  envExporter,
  listen,
  Router,
  RpcError,
  type RpcServer,
} from '../src/index.ts';

/** The chain in call order; each service's id is its bank.io/service-id in the catalogue. */
export const CHAIN = [
  'card-api',
  'card-processing',
  'cards',
  'transactions',
  'balance',
  'transaction-enrichment',
  'merchant',
  'feed-generator',
  'feed',
] as const;

/** The call nobody declared. */
export const UNDECLARED = { from: 'cards', to: 'feed' } as const;

export interface Chain {
  /** card-api's base URL. */
  url: string;
  /** One request through the whole chain; `fail` makes transactions fail it. */
  request(id: string, fail?: boolean): Promise<number>;
  stop(): Promise<void>;
}

const id = (name: string) => `service.${name}`;

/** Starts the chain on 127.0.0.1 (ports chosen by the OS), last service first. */
export async function startChain(): Promise<Chain> {
  const servers: RpcServer[] = [];
  const clients: Client[] = [];
  const urls: Record<string, string> = {};
  const client = (name: string) => {
    const c = createClient(id(name), { discovery: { [id(name)]: urls[id(name)] }, maxRetries: 0 });
    clients.push(c);
    return c;
  };
  for (let i = CHAIN.length - 1; i >= 0; i--) {
    const name = CHAIN[i];
    const next = i + 1 < CHAIN.length ? client(CHAIN[i + 1]) : undefined;
    const extra = name === UNDECLARED.from ? client(UNDECLARED.to) : undefined;
    const router = new Router().get('/r/:id', async (req) => {
      // A little work, so latencies differ per hop.
      await new Promise((r) => setTimeout(r, 1 + Math.random() * 4));
      if (name === 'transactions' && req.params.id.startsWith('fail'))
        throw new RpcError('internal_service.ledger_timeout', 'the ledger did not answer in time');
      if (extra) await extra.get(`/r/${req.params.id}`);
      return next ? next.get(`/r/${req.params.id}`) : { id: req.params.id, served: name };
    });
    const server = await listen(router.serve(), { name: id(name), host: '127.0.0.1', port: 0 });
    servers.push(server);
    urls[id(name)] = server.url;
  }
  const edge = urls[id(CHAIN[0])];
  return {
    url: edge,
    request: async (rid, fail = false) => {
      const res = await fetch(`${edge}/r/${fail ? 'fail-' : ''}${rid}`);
      await res.arrayBuffer();
      return res.status;
    },
    stop: async () => {
      for (const s of servers) await s.stop(500);
      for (const c of clients) await c.close();
      await envExporter()?.flush();
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: { rate: { type: 'string', default: '10' }, requests: { type: 'string' } },
  });
  if (!process.env.OTEL_EXPORTER_OTLP_ENDPOINT)
    process.stderr.write('OTEL_EXPORTER_OTLP_ENDPOINT is not set: spans go nowhere\n');
  const chain = await startChain();
  process.stdout.write(
    `traffic demo: ${CHAIN.join(' → ')} (+ undeclared ${UNDECLARED.from} → ${UNDECLARED.to}) at ${chain.url}\n`,
  );
  const rate = Math.max(1, Number(values.rate));
  const total = values.requests ? Number(values.requests) : Number.POSITIVE_INFINITY;
  let n = 0;
  // One request in twenty fails at transactions, spread out (five in a row would trip failure accrual).
  const timer = setInterval(() => {
    if (n >= total) {
      clearInterval(timer);
      void chain.stop().then(() => process.exit(0));
      return;
    }
    n++;
    void chain.request(String(n), n % 20 === 7).catch(() => undefined);
  }, 1000 / rate);
  const stop = () => {
    clearInterval(timer);
    // The portal may be gone already: its last spans get 3 s, then the demo exits regardless.
    setTimeout(() => process.exit(0), 3000).unref();
    void chain.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  // Started by `portal start --traffic` with a pipe on stdin: when the portal goes, so does the demo.
  if (!process.stdin.isTTY) process.stdin.on('end', stop).resume();
}
