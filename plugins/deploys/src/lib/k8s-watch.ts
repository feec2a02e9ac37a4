import http, { STATUS_CODES } from 'node:http';
import https from 'node:https';
import { type KubeConfig, Watch } from '@kubernetes/client-node';

/**
 * The longest watch line taken: no Kubernetes object comes near it (the API server refuses requests over
 * 3 MiB), so a longer line is not an event.
 */
export const MAX_WATCH_LINE_BYTES = 16 * 1024 * 1024;

/**
 * Cuts a byte stream into lines at `\n` without decoding what is not a whole line yet. `push` answers
 * false when the unfinished line has grown past `maxLineBytes` (the stream is then not a watch stream).
 */
export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(
    private readonly maxLineBytes: number,
    private readonly onLine: (line: string) => void,
  ) {}

  push(chunk: Buffer): boolean {
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl !== -1; nl = chunk.indexOf(10, start)) {
      let line: Buffer = chunk.subarray(start, nl);
      if (this.pendingBytes > 0) {
        line = Buffer.concat([...this.pending, line], this.pendingBytes + line.length);
        this.pending = [];
        this.pendingBytes = 0;
      }
      start = nl + 1;
      if (line.length > this.maxLineBytes) return false;
      const end = line.length > 0 && line[line.length - 1] === 13 ? line.length - 1 : line.length;
      if (end > 0) this.onLine(line.toString('utf8', 0, end));
    }
    if (start < chunk.length) {
      this.pending.push(chunk.subarray(start));
      this.pendingBytes += chunk.length - start;
    }
    return this.pendingBytes <= this.maxLineBytes;
  }
}

/**
 * client-node's `Watch` (the same request: the kubeconfig's server, TLS, proxy and credentials through
 * `applyToHTTPSOptions`, `?watch=true` and the informer's query; one JSON event a line, lines that are
 * not JSON skipped), reading the stream with a `LineSplitter` instead of readline. Readline keeps an
 * unfinished line whole however long it grows: a stream sending bytes without a newline took the portal's
 * memory with it, and at 512 MiB the process died on "Invalid string length". Here a line over
 * `maxLineBytes` ends the watch with an error; the informer's error handler marks the cluster unknown and
 * relists.
 */
export class BoundedWatch extends Watch {
  constructor(
    config: KubeConfig,
    private readonly maxLineBytes = MAX_WATCH_LINE_BYTES,
  ) {
    super(config);
  }

  override async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    // biome-ignore lint/suspicious/noExplicitAny: client-node's Watch callback type, passed on as it is
    callback: (phase: string, apiObj: any, watchObj?: any) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    const cluster = this.config.getCurrentCluster();
    if (!cluster) throw new Error('No currently active cluster');
    const url = new URL(cluster.server + path);
    url.searchParams.set('watch', 'true');
    for (const [key, val] of Object.entries(queryParams ?? {}))
      if (val !== undefined) url.searchParams.set(key, String(val));
    const opts: https.RequestOptions = {};
    await this.config.applyToHTTPSOptions(opts);
    const controller = new AbortController();
    let finished = false;
    const finish = (err: unknown) => {
      if (finished) return;
      finished = true;
      controller.abort();
      done(err);
    };
    const request = (url.protocol === 'http:' ? http : https).request(
      url,
      { ...opts, method: 'GET', signal: controller.signal },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          const status = res.statusCode ?? 500;
          finish(
            Object.assign(new Error(res.statusMessage || STATUS_CODES[status] || 'Error'), {
              statusCode: status,
            }),
          );
          return;
        }
        const lines = new LineSplitter(this.maxLineBytes, (line) => {
          try {
            const data = JSON.parse(line);
            callback(data.type, data.object, data);
          } catch {
            // not JSON (or not an event): skipped, as client-node's Watch does
          }
        });
        res.on('data', (chunk: Buffer) => {
          if (!lines.push(chunk))
            finish(
              new Error(`watch ${path}: a line over ${this.maxLineBytes} bytes is not a Kubernetes event`),
            );
        });
        res.on('end', () => finish(null));
        res.on('close', () => finish(null));
        res.on('error', (err) => finish(controller.signal.aborted ? null : err));
      },
    );
    request.on('socket', (socket) => socket.setKeepAlive(true, 30_000));
    // Aborted by the informer (stopped): a plain end, not an error.
    request.on('error', (err) => finish(controller.signal.aborted ? null : err));
    request.end();
    return controller;
  }
}
