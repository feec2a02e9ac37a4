/**
 * OpenTelemetry spans exported through the OpenTelemetry JS SDK over OTLP/HTTP (`POST <endpoint>/v1/traces`,
 * protobuf by default), when OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set.
 * SERVER spans carry `service.name`; CLIENT spans also `peer.service`, so the portal pairs them into call
 * edges.
 */
import {
  type SpanKind as ApiSpanKind,
  type HrTime,
  type SpanContext,
  SpanStatusCode,
  TraceFlags,
} from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter as OTLPJsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { envDetector, type Resource, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace';

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

export interface ExporterOptions {
  /** Full URL of the traces endpoint. */
  url: string;
  /** Export when this many spans are queued (default 512). */
  maxBatch?: number;
  /** Export at least this often (default 1000 ms). */
  intervalMs?: number;
  /** Drop spans beyond this many queued (default 8192), so a dead collector costs bounded memory. */
  maxQueue?: number;
  resource?: Record<string, AttributeValue>;
  /** `http/protobuf` (the SDK's default) or `http/json`; default from OTEL_EXPORTER_OTLP[_TRACES]_PROTOCOL. */
  protocol?: 'http/protobuf' | 'http/json';
  /** Extra request headers (e.g. Authorization); default from OTEL_EXPORTER_OTLP[_TRACES]_HEADERS. */
  headers?: Record<string, string>;
}

/** OTLP kind → the JS API's SpanKind (INTERNAL 0, SERVER 1, CLIENT 2, PRODUCER 3, CONSUMER 4). */
function apiKind(otlpKind: number): ApiSpanKind {
  return Math.max(0, otlpKind - 1) as ApiSpanKind;
}

function hrTime(ns: bigint): HrTime {
  return [Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n)];
}

const SCOPE = { name: '@bank/rpc', version: '0.1.0' };

/**
 * Sends the library's spans through the OpenTelemetry JS SDK: its BatchSpanProcessor and its OTLP/HTTP
 * exporter (protobuf, `@opentelemetry/exporter-trace-otlp-proto`, or JSON with `-http`). The library makes
 * its own span ids and context (it propagates them in `traceparent` and `l5d-ctx-*` headers without the
 * OpenTelemetry API's global context); each finished span is handed to the SDK as a ReadableSpan, so what
 * goes on the wire is exactly what the SDK sends. Pinned to the 2.x SDK / 0.2xx exporter line, the newest
 * that still supports Node 20 (the 3.x / 0.3xx line needs Node ≥ 22.15).
 */
export class OtlpExporter {
  private readonly processor: BatchSpanProcessor;
  private readonly resources = new Map<string, Resource>();
  dropped = 0;
  exported = 0;
  private queued = 0;

  constructor(private readonly opts: ExporterOptions) {
    const protocol =
      opts.protocol ??
      ((process.env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? process.env.OTEL_EXPORTER_OTLP_PROTOCOL) ===
      'http/json'
        ? 'http/json'
        : 'http/protobuf');
    const config = { url: opts.url, ...(opts.headers ? { headers: opts.headers } : {}) };
    const sdkExporter: SpanExporter =
      protocol === 'http/json' ? new OTLPJsonTraceExporter(config) : new OTLPProtoTraceExporter(config);
    // Counts what the collector took and what it refused; the SDK never throws at the caller.
    const counting: SpanExporter = {
      export: (spans, done) =>
        sdkExporter.export(spans, (result) => {
          if (result.code === ExportResultCode.SUCCESS) this.exported += spans.length;
          else this.dropped += spans.length;
          this.queued -= spans.length;
          done(result);
        }),
      shutdown: () => sdkExporter.shutdown(),
      forceFlush: () => sdkExporter.forceFlush?.() ?? Promise.resolve(),
    };
    this.processor = new BatchSpanProcessor({
      exporter: counting,
      maxExportBatchSize: opts.maxBatch ?? 512,
      scheduledDelayMillis: opts.intervalMs ?? 1000,
      maxQueueSize: opts.maxQueue ?? 8192,
      exportTimeoutMillis: 10_000,
    });
  }

  private resourceOf(service: string): Resource {
    let r = this.resources.get(service);
    if (!r) {
      r = resourceFromAttributes({ ...(this.opts.resource ?? {}), 'service.name': service });
      this.resources.set(service, r);
    }
    return r;
  }

  /** Queues a finished span of `service`. */
  export(service: string, span: SpanData): void {
    if (this.queued >= (this.opts.maxQueue ?? 8192)) {
      this.dropped++;
      return;
    }
    this.queued++;
    const context: SpanContext = {
      traceId: span.traceId,
      spanId: span.spanId,
      traceFlags: TraceFlags.SAMPLED,
    };
    const readable: ReadableSpan = {
      name: span.name,
      kind: apiKind(span.kind),
      spanContext: () => context,
      parentSpanContext: span.parentSpanId
        ? { traceId: span.traceId, spanId: span.parentSpanId, traceFlags: TraceFlags.SAMPLED, isRemote: true }
        : undefined,
      startTime: hrTime(span.startNs),
      endTime: hrTime(span.endNs),
      duration: hrTime(span.endNs - span.startNs),
      status: span.error
        ? { code: SpanStatusCode.ERROR, ...(span.message ? { message: span.message } : {}) }
        : { code: SpanStatusCode.UNSET },
      attributes: span.attributes,
      links: [],
      events: [],
      ended: true,
      resource: this.resourceOf(service),
      instrumentationScope: SCOPE,
      droppedAttributesCount: 0,
      droppedEventsCount: 0,
      droppedLinksCount: 0,
    };
    this.processor.onEnd(readable);
  }

  /** Sends everything queued; resolves when the collector answered (errors are counted, not thrown). */
  flush(): Promise<void> {
    return this.processor.forceFlush().catch(() => undefined);
  }

  /** Flushes and stops the SDK's timer. */
  shutdown(): Promise<void> {
    return this.processor.shutdown().catch(() => undefined);
  }
}

let configured: OtlpExporter | null | undefined;

/** The exporter configured from the environment, or undefined when tracing export is off. */
export function envExporter(): OtlpExporter | undefined {
  if (configured === undefined) {
    const traces = process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
    const base = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    const url = traces || (base ? `${base.replace(/\/+$/, '')}/v1/traces` : undefined);
    configured = url ? new OtlpExporter({ url, resource: envResource() }) : null;
  }
  return configured ?? undefined;
}

/**
 * OTEL_RESOURCE_ATTRIBUTES as the SDK reads it (e.g. `bank.io/service-id=service.ledger`, which the portal
 * resolves spans by). `service.name` stays the library's own: one process may serve several services.
 */
function envResource(): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const [k, v] of Object.entries(envDetector.detect().attributes ?? {}))
    if (k !== 'service.name' && (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'))
      out[k] = v;
  return out;
}

/** Forgets the environment's exporter (tests change OTEL_EXPORTER_OTLP_ENDPOINT between cases). */
export function resetEnvExporter(): void {
  configured = undefined;
}
