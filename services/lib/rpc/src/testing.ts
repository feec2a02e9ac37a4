/**
 * Helpers for this package's tests (not exported from index.ts): real servers on 127.0.0.1:0.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { RpcMetrics } from './metrics.ts';
import { Router } from './router.ts';
import { listen, type RpcServer, type ServerOptions } from './server.ts';

export interface Bare {
  url: string;
  hits: number;
  close(): Promise<void>;
}

/** A bare Node HTTP server (not this library), counting requests. */
export async function bareServer(
  handler: (req: http.IncomingMessage, res: http.ServerResponse) => void,
): Promise<Bare> {
  const state = { hits: 0 };
  const server = http.createServer((req, res) => {
    state.hits++;
    handler(req, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get hits() {
      return state.hits;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/** A TCP server that resets every connection once the request arrives. */
export async function resettingServer(): Promise<Bare> {
  const state = { hits: 0 };
  const server = net.createServer((socket) => {
    socket.once('data', () => {
      state.hits++;
      socket.resetAndDestroy();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get hits() {
      return state.hits;
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** A separate process serving HTTP that SIGKILLs itself when a request arrives. */
export async function suicidalProcess(): Promise<{
  url: string;
  child: ChildProcess;
  exited: Promise<unknown>;
}> {
  const code = `
    const http = require('node:http');
    const s = http.createServer((req) => { req.resume(); process.kill(process.pid, 'SIGKILL'); });
    s.listen(0, '127.0.0.1', () => process.stdout.write(String(s.address().port) + '\\n'));`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = once(child, 'exit');
  const [chunk] = (await once(child.stdout as NodeJS.ReadableStream, 'data')) as [Buffer];
  return { url: `http://127.0.0.1:${chunk.toString().trim()}`, child, exited };
}

/** A library server with its own metrics registry, counting served requests. */
export async function rpcServer(
  build: (r: Router) => void,
  opts: ServerOptions = {},
): Promise<RpcServer & { metricsRegistry: RpcMetrics }> {
  const router = new Router();
  build(router);
  const metrics = opts.metrics ?? new RpcMetrics();
  const server = await listen(router.serve(), { host: '127.0.0.1', port: 0, ...opts, metrics });
  return Object.assign(server, { metricsRegistry: metrics });
}

/** A manual clock for the 5 s–300 s backoffs. */
export function manualClock(start = 1_000_000) {
  let t = start;
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
  };
}

export const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));
