/**
 * Is the port free before anything slow happens (migrations, a re-index, the UI)? And when it is taken,
 * who has it: a portal answers /healthz with `service: "portal"`, so the message can say which one (its
 * address, what it serves, its process) and how to run another beside it (`--port` with a free one).
 */
import net from 'node:net';

export class PortTakenError extends Error {
  override name = 'PortTakenError';
}

interface PortalHealth {
  service?: string;
  entities?: number;
  pid?: number;
  roots?: string[];
  startedAt?: string;
}

function probeListen(host: string, port: number): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e));
    s.listen({ port, host, exclusive: true }, () => s.close(() => resolve(undefined)));
  });
}

/** The address to reach a server bound to `host` from this machine. */
function reachable(host: string, port: number): string {
  const h = host === '0.0.0.0' ? '127.0.0.1' : host === '::' || host === '::1' ? '[::1]' : host;
  return `http://${h}:${port}`;
}

async function askHealth(origin: string): Promise<PortalHealth | 'not-a-portal' | 'no-answer'> {
  try {
    const res = await fetch(`${origin}/healthz`, { signal: AbortSignal.timeout(1500) });
    const body = (await res.json().catch(() => undefined)) as PortalHealth | undefined;
    return res.ok && body?.service === 'portal' ? body : 'not-a-portal';
  } catch (err) {
    return (err as Error).name === 'TimeoutError' || (err as { cause?: { code?: string } }).cause?.code
      ? 'no-answer'
      : 'not-a-portal';
  }
}

/** The first port after `port` that is free on `host` (up to 20 tried), for the hint. */
async function freePortAfter(host: string, port: number): Promise<number | undefined> {
  for (let p = port + 1; p <= Math.min(port + 20, 65535); p++) if (!(await probeListen(host, p))) return p;
  return undefined;
}

/** Why `host:port` cannot be listened on, in words a person can act on (undefined when it is free). */
export async function portProblem(host: string, port: number): Promise<string | undefined> {
  if (port === 0) return undefined;
  const err = await probeListen(host, port);
  if (!err) return undefined;
  return describeListenError(err, host, port);
}

/** The message for a listen error (EADDRINUSE, EACCES, EADDRNOTAVAIL); others keep their own. */
export async function describeListenError(
  err: NodeJS.ErrnoException,
  host: string,
  port: number,
): Promise<string> {
  if (err.code === 'EACCES')
    return `port ${port} on ${host} needs privileges this user does not have; use --port with a port above 1023 (e.g. --port 7007)`;
  if (err.code === 'EADDRNOTAVAIL')
    return `${host} is not an address of this machine; use --host 127.0.0.1 (the default) or one of its addresses`;
  if (err.code !== 'EADDRINUSE') return err.message;
  const origin = reachable(host, port);
  const [who, free] = await Promise.all([askHealth(origin), freePortAfter(host, port)]);
  const another = free ? `--port ${free}` : '--port <a free port>';
  if (typeof who === 'object') {
    const facts = [
      who.roots?.length ? `catalogue ${who.roots.join(', ')}` : undefined,
      who.entities !== undefined ? `${who.entities} entities` : undefined,
      who.pid ? `process ${who.pid}` : undefined,
      who.startedAt ? `started ${who.startedAt}` : undefined,
    ].filter(Boolean);
    return `a portal is already running on ${origin}${facts.length ? ` (${facts.join(', ')})` : ''}: open it, stop it${who.pid ? ` (kill ${who.pid})` : ''}, or start another beside it with ${another}`;
  }
  return `port ${port} on ${host} is taken by another program (${who === 'no-answer' ? 'it does not answer HTTP' : 'not a portal: its /healthz does not say so'}); stop it or use ${another}`;
}
