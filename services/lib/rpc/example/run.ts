/**
 * Starts card-api → cards → transactions as three processes wired with RPC_DISCOVERY, makes a few
 * calls to show the features, and keeps running until Ctrl-C (`--once`: exit after the demo).
 *   npm run example -w @bank/rpc [-- --once]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const base = Number(process.env.EXAMPLE_BASE_PORT ?? 7101);
const services = [
  { name: 'transactions', port: base + 2 },
  { name: 'cards', port: base + 1 },
  { name: 'card-api', port: base },
];
const discovery = Object.fromEntries(services.map((s) => [s.name, `http://127.0.0.1:${s.port}`]));
const children: ChildProcess[] = [];

function start(name: string, port: number): Promise<void> {
  const file = fileURLToPath(new URL(`./${name}.ts`, import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', file], {
    env: { ...process.env, SERVICE_NAME: name, PORT: String(port), RPC_DISCOVERY: JSON.stringify(discovery) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}`)));
    child.stdout?.on('data', (d: Buffer) => {
      process.stdout.write(`[${name}] ${d}`);
      if (d.toString().includes('listening')) resolve();
    });
  });
}

async function show(label: string, path: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${discovery['card-api']}${path}`, { headers });
  const body = await res.text();
  console.log(
    `\n# ${label}\nGET ${path} → ${res.status} (x-request-id ${res.headers.get('x-request-id')})\n${body}`,
  );
}

function stopAll() {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
}
process.once('SIGINT', () => {
  stopAll();
  process.exit(0);
});

try {
  for (const s of services) await start(s.name, s.port);
  await show('A card, with its transactions (card-api → cards → transactions)', '/v1/cards/card-1', {
    'x-request-id': 'demo-1',
    traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  });
  await show(
    'An unknown card: the typed error (not_found.card) from cards, carried through card-api',
    '/v1/cards/nope',
  );
  await show('A flaky downstream: cards retries it within its retry budget', '/v1/flaky');
  const metrics = await (await fetch(`${discovery.cards}/metrics`)).text();
  console.log('\n# cards /metrics (excerpt)');
  for (const line of metrics.split('\n'))
    if (/^rpc_client_(requests|retries)_total/.test(line)) console.log(line);
  console.log(
    `\ncard-api: ${discovery['card-api']}  cards: ${discovery.cards}  transactions: ${discovery.transactions}`,
  );
  console.log(`try: curl ${discovery['card-api']}/v1/cards/card-2   ·   curl ${discovery.cards}/metrics`);
  if (process.argv.includes('--once')) {
    stopAll();
  } else {
    console.log('running; Ctrl-C stops all three');
  }
} catch (err) {
  console.error(err);
  stopAll();
  process.exitCode = 1;
}
