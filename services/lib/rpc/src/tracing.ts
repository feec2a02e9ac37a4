/**
 * OpenTelemetry spans exported over OTLP/HTTP with the OTLP JSON encoding (`POST <endpoint>/v1/traces`),
 * when OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set. SERVER spans carry
 * `service.name`; CLIENT spans also `peer.service`, so the portal pairs them into call edges.
 */

/** OTLP enum values (not the JS API's): SERVER 2, CLIENT 3. */
export const SpanKind = { Server: 2, Client: 3 } as const;

export type AttributeValue = string | number | boolean;

export interface SpanData {
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  kind: number;
  /** From `now()` below, in nanoseconds since the epoch. */
  startNs: bigint;
  endNs: bigint;
  attributes: Record<string, AttributeValue>;
  /** true for ERROR. */
  error: boolean;
  message?: string;
}

const EPOCH_NS = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
/** Nanoseconds since the Unix epoch, monotonic within the process. */
export function nowNs(): bigint {
  return EPOCH_NS + process.hrtime.bigint();
}

function otlpValue(v: AttributeValue): Record<string, unknown> {
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  return Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v };
}

function otlpAttributes(attrs: Record<string, AttributeValue>): Array<{ key: string; value: object }> {
  return Object.entries(attrs).map(([key, v]) => ({ key, value: otlpValue(v) }));
}

export interface ExporterOptions {
  /** Full URL of the traces endpoint. */
  url: string;
  /** Flush when this many spans are buffered (default 512). */
  maxBatch?: number;
  /** Flush at least this often (default 1000 ms). */
  intervalMs?: number;
  /** Drop spans beyond this many buffered (default 8192), so a dead collector costs bounded memory. */
  maxQueue?: number;
  resource?: Record<string, AttributeValue>;
}

/** Buffers spans per service and posts them as OTLP/JSON `ExportTraceServiceRequest`s. */
export class OtlpExporter {
  private readonly buffers = new Map<string, SpanData[]>();
  private size = 0;
  private timer: NodeJS.Timeout | undefined;
  private inflight: Promise<void> = Promise.resolve();
  dropped = 0;
  exported = 0;

  constructor(private readonly opts: ExporterOptions) {}

  /** Queues a span of `service`. */
  export(service: string, span: SpanData): void {
    if (this.size >= (this.opts.maxQueue ?? 8192)) {
      this.dropped++;
      return;
    }
    let buf = this.buffers.get(service);
    if (!buf) {
      buf = [];
      this.buffers.set(service, buf);
    }
    buf.push(span);
    this.size++;
    if (this.size >= (this.opts.maxBatch ?? 512)) void this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.opts.intervalMs ?? 1000);
      this.timer.unref();
    }
  }

  /** Sends everything buffered; resolves when the collector answered (errors are counted, not thrown). */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.size === 0) return this.inflight;
    const resourceSpans = [...this.buffers].map(([service, spans]) => ({
      resource: {
        attributes: otlpAttributes({ ...(this.opts.resource ?? {}), 'service.name': service }),
      },
      scopeSpans: [{ scope: { name: '@bank/rpc', version: '0.1.0' }, spans: spans.map(encodeSpan) }],
    }));
    const count = this.size;
    this.buffers.clear();
    this.size = 0;
    const body = JSON.stringify({ resourceSpans });
    const send = fetch(this.opts.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      signal: AbortSignal.timeout(10_000),
    })
      .then(async (res) => {
        await res.arrayBuffer();
        if (res.ok) this.exported += count;
        else this.dropped += count;
      })
      .catch(() => {
        this.dropped += count;
      });
    this.inflight = Promise.all([this.inflight, send]).then(() => undefined);
    return this.inflight;
  }
}

function encodeSpan(s: SpanData): object {
  return {
    traceId: s.traceId,
    spanId: s.spanId,
    parentSpanId: s.parentSpanId ?? '',
    name: s.name,
    kind: s.kind,
    startTimeUnixNano: String(s.startNs),
    endTimeUnixNano: String(s.endNs),
    attributes: otlpAttributes(s.attributes),
    status: s.error ? { code: 2, message: s.message ?? '' } : { code: 0 },
  };
}

let configured: OtlpExporter | null | undefined;

/** The exporter configured from the environment, or undefined when tracing export is off. */
export function envExporter(): OtlpExporter | undefined {
  if (configured === undefined) {
    const traces = process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
    const base = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    const url = traces || (base ? `${base.replace(/\/+$/, '')}/v1/traces` : undefined);
    configured = url ? new OtlpExporter({ url }) : null;
  }
  return configured ?? undefined;
}

/** Forgets the environment's exporter (tests change OTEL_EXPORTER_OTLP_ENDPOINT between cases). */
export function resetEnvExporter(): void {
  configured = undefined;
}
