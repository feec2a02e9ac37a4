import { attributesOf, collectiveOf, slackOf } from '../card.ts';
import type { GraphIndex } from '../graph-index.ts';
import type { NodeCard } from '../types.ts';

/**
 * Each call node's card, and its squad and collective as small integers ("slots"), kept between queries
 * and computed only for the nodes a query asks about (and for every call node at the end of a build).
 * Impact of a hub reads thousands of cards: from here that is an array read per dependent instead of
 * graphology look-ups and a walk up the org tree, and roll-ups count into typed arrays by slot instead of
 * string-keyed maps.
 *
 * A change forgets exactly the cards it can affect ({@link forgetCards}, called by applyChanges): those
 * of the changed entities, or all of them when a group changed (owners and collectives). A card whose id
 * now belongs to another ref (ids are reused) is rebuilt. Slots are by group ref and never change.
 *
 * The cached cards are shared: callers copy them, never hand them out or change them.
 */
export interface CallCards {
  /** By call id; undefined until first asked for or after being forgotten. */
  cards: (NodeCard | undefined)[];
  /** By call id: slot of the card's owner / collective (a null owner or collective has a slot too). */
  squad: Int32Array;
  collective: Int32Array;
  /** By call id: the tier (0–9), or 10 for unknown. */
  tierColumn: Uint8Array;
  /** Slot → group ref (or null). */
  slotRefs: (string | null)[];
  slotIds: Map<string | null, number>;
  /** Owner → its collective (cleared with all cards). */
  collectives: Map<string, string | null>;
}

const caches = new WeakMap<GraphIndex, CallCards>();

/** Forgets the cards `refs` may have changed; with `all` (a group changed), every card. */
export function forgetCards(index: GraphIndex, refs: Iterable<string>, all: boolean): void {
  const cache = caches.get(index);
  if (!cache) return;
  if (all) {
    cache.cards.fill(undefined);
    cache.collectives.clear();
    return;
  }
  for (const ref of refs) {
    const id = index.calls.ids.get(ref);
    if (id !== undefined && id < cache.cards.length) cache.cards[id] = undefined;
  }
}

function grown<T extends Int32Array | Uint8Array>(array: T, capacity: number, make: (n: number) => T): T {
  if (array.length >= capacity) return array;
  const next = make(capacity);
  next.set(array);
  return next;
}

export function callCards(index: GraphIndex): CallCards {
  const capacity = index.calls.capacity;
  let cache = caches.get(index);
  if (!cache) {
    cache = {
      cards: [],
      squad: new Int32Array(capacity),
      collective: new Int32Array(capacity),
      tierColumn: new Uint8Array(capacity),
      slotRefs: [],
      slotIds: new Map(),
      collectives: new Map(),
    };
    caches.set(index, cache);
  } else if (cache.squad.length < capacity) {
    cache.squad = grown(cache.squad, capacity, (n) => new Int32Array(n));
    cache.collective = grown(cache.collective, capacity, (n) => new Int32Array(n));
    cache.tierColumn = grown(cache.tierColumn, capacity, (n) => new Uint8Array(n));
  }
  // Filled with push: `new Array(n)` of this size gets slow dictionary elements.
  while (cache.cards.length < capacity) cache.cards.push(undefined);
  return cache;
}

function slotOf(cache: CallCards, ref: string | null): number {
  let slot = cache.slotIds.get(ref);
  if (slot === undefined) {
    slot = cache.slotRefs.length;
    cache.slotRefs.push(ref);
    cache.slotIds.set(ref, slot);
  }
  return slot;
}

function collectiveAt(cache: CallCards, index: GraphIndex, owner: string | null): string | null {
  if (owner === null) return null;
  const known = cache.collectives.get(owner);
  if (known !== undefined) return known;
  const collective = collectiveOf(index, owner);
  cache.collectives.set(owner, collective);
  return collective;
}

/** The card of call node `id` (shared: copy it). */
export function cardOf(cache: CallCards, index: GraphIndex, id: number): NodeCard {
  const ref = index.calls.refs[id];
  let card = cache.cards[id];
  if (card !== undefined && card.ref === ref) return card;
  const a = attributesOf(index, ref);
  const owner = a.owner ?? null;
  const collective = collectiveAt(cache, index, owner);
  // The same fields, in the same order, as nodeCard().
  card = {
    ref,
    kind: a.kind,
    name: a.name,
    title: a.title ?? null,
    owner,
    collective,
    tier: a.tier ?? null,
    oncall: a.oncall ?? null,
    runbook: a.runbook ?? null,
    slack: slackOf(index, a),
  };
  if (!a.present) card.missing = true;
  cache.cards[id] = card;
  cache.squad[id] = slotOf(cache, card.owner);
  cache.collective[id] = slotOf(cache, card.collective);
  cache.tierColumn[id] = card.tier !== null && card.tier >= 0 && card.tier <= 9 ? card.tier : 10;
  return card;
}
