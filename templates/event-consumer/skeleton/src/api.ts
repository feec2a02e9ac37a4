/** The typed contract: the events this consumer accepts, its answers, and what it reads from dependencies. */

/** One event, as the event router delivers it: POST /v1/events. */
export interface Event<T = Record<string, unknown>> {
  /** Unique per event: redeliveries carry the same id, so handling is idempotent. */
  id: string;
  /** Topic it was published on. */
  topic: string;
  /** e.g. `ledger.entry-created`. */
  type: string;
  /** RFC 3339 time it happened. */
  occurredAt: string;
  data: T;
}

/** The answer: a 2xx acknowledges the event; anything else makes the router redeliver it later. */
export interface EventAck {
  id: string;
  duplicate: boolean;
  /** Which dependencies were called while handling it. */
  called: string[];
}

/** GET /v1/info on a dependency (every service from the bank's templates serves it). */
export interface InfoResponse {
  service: string;
  version: string;
  dependencies: { name: string; ok: boolean }[];
}

/** JSON Schema of Event, checked by @bank/rpc before the handler runs (400 bad_request.invalid_body). */
export const EVENT_SCHEMA = {
  type: 'object',
  required: ['id', 'topic', 'type', 'occurredAt', 'data'],
  properties: {
    id: { type: 'string', minLength: 1, maxLength: 200 },
    topic: { type: 'string', minLength: 1 },
    type: { type: 'string', minLength: 1 },
    occurredAt: { type: 'string', minLength: 1 },
    data: { type: 'object' },
  },
  additionalProperties: false,
} as const;
