import { collectiveOf } from '../card.ts';
import type { GraphIndex } from '../graph-index.ts';
import type { NodeCard } from '../types.ts';

/**
 * Each call node's card, and its squad and collective as small integers ("slots"), computed once per
 * index version and only for the nodes a query asks about. Impact of a hub reads thousands of cards: from
 * here that is an array read per dependent instead of graphology look-ups and a walk up the org tree, and
 * roll-ups count into typed arrays by slot instead of string-keyed maps.
 *
 * The cached cards are shared: callers copy them, never hand them out or change them.
 */
export interface CallCards {
  version: number;
  /** By call id; undefined until first asked for. */
  cards: (NodeCard | undefined)[];
  /** By call id: slot of the card's owner / collective (a null owner or collective has a slot too). */
  squad: Int32Array;
  collective: Int32Array;
  /** By call id: the tier (0–9), or 10 for unknown. */
  tierColumn: Uint8Array;
  /** Slot → group ref (or null). */
  slotRefs: (string | null)[];
  slotIds: Map<string | null, number>;
  /** Owner → its collective. */
  collectives: Map<string, string | null>;
}

const caches = new WeakMap<GraphIndex, CallCards>();

export function callCards(index: GraphIndex): CallCards {
  const known = caches.get(index);
  if (known && known.version === index.version && known.squad.length >= index.calls.capacity) return known;
  const capacity = index.calls.capacity;
  const fresh: CallCards = {
    version: index.version,
    cards: [],
    squad: new Int32Array(capacity),
    collective: new Int32Array(capacity),
    tierColumn: new Uint8Array(capacity),
    slotRefs: [],
    slotIds: new Map(),
    collectives: new Map(),
  };
  // Filled with push: `new Array(n)` of this size gets slow dictionary elements.
  for (let id = 0; id < capacity; id++) fresh.cards.push(undefined);
  caches.set(index, fresh);
  return fresh;
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

/** The card of call node `id` (shared: copy it). */
export function cardOf(cache: CallCards, index: GraphIndex, id: number): NodeCard {
  let card = cache.cards[id];
  if (card === undefined) {
    const ref = index.calls.refs[id];
    const a = index.relations.getNodeAttributes(ref);
    const owner = a.owner ?? null;
    let collective: string | null = null;
    if (owner !== null) {
      const known = cache.collectives.get(owner);
      collective = known === undefined ? collectiveOf(index, owner) : known;
      if (known === undefined) cache.collectives.set(owner, collective);
    }
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
    };
    if (!a.present) card.missing = true;
    cache.cards[id] = card;
    cache.squad[id] = slotOf(cache, card.owner);
    cache.collective[id] = slotOf(cache, card.collective);
    cache.tierColumn[id] = card.tier !== null && card.tier >= 0 && card.tier <= 9 ? card.tier : 10;
  }
  return card;
}
