import { RpcError } from '@bank/rpc';
import type { Event, EventAck } from './api.ts';
import type { DependencyClient } from './clients.ts';

/** Ids seen recently: redeliveries are acknowledged without handling the event twice. */
export class SeenEvents {
  private readonly ids = new Set<string>();
  constructor(private readonly max = 10_000) {}

  /** True the first time an id is offered. */
  firstTime(id: string): boolean {
    if (this.ids.has(id)) return false;
    this.ids.add(id);
    if (this.ids.size > this.max) this.ids.delete(this.ids.values().next().value as string);
    return true;
  }

  forget(id: string): void {
    this.ids.delete(id);
  }
}

/**
 * Handles one event: replace the body with the consumer's work. It calls every dependency through its
 * typed client; a failure is thrown, so the event is not acknowledged and the router redelivers it.
 */
export function eventHandler(topic: string, dependencies: DependencyClient[], seen = new SeenEvents()) {
  return async (event: Event): Promise<EventAck> => {
    if (event.topic !== topic) {
      throw new RpcError('bad_request.wrong_topic', `This consumer reads ${topic}, not ${event.topic}`);
    }
    if (!seen.firstTime(event.id)) return { id: event.id, duplicate: true, called: [] };
    try {
      await Promise.all(dependencies.map((d) => d.info()));
    } catch (err) {
      seen.forget(event.id);
      throw err;
    }
    return { id: event.id, duplicate: false, called: dependencies.map((d) => d.name) };
  };
}
