import type { Via } from '../types.ts';

export const DECLARED = 1;
export const OBSERVED = 2;

export function viaMask(via: Via): number {
  return via === 'declared' ? DECLARED : via === 'observed' ? OBSERVED : DECLARED | OBSERVED;
}

/**
 * Call edges again, as integer adjacency lists beside the graphology graph, so that path and impact
 * searches run over arrays instead of string-keyed maps. Lists are kept sorted by ref, which makes a
 * breadth-first search find the lexicographically smallest of the shortest paths: the stable tie order.
 * Updated edge by edge (never rebuilt), in the same synchronous step as the graphology graph.
 */
export class CallAdjacency {
  readonly ids = new Map<string, number>();
  /** ref by id; '' for a freed id. */
  readonly refs: string[] = [];
  readonly out: number[][] = [];
  readonly outMask: number[][] = [];
  readonly inn: number[][] = [];
  readonly innMask: number[][] = [];
  private readonly free: number[] = [];

  /** Number of ids ever allocated: size for per-query scratch arrays. */
  get capacity(): number {
    return this.refs.length;
  }

  ensure(ref: string): number {
    const known = this.ids.get(ref);
    if (known !== undefined) return known;
    const id = this.free.pop() ?? this.refs.length;
    this.refs[id] = ref;
    this.out[id] = [];
    this.outMask[id] = [];
    this.inn[id] = [];
    this.innMask[id] = [];
    this.ids.set(ref, id);
    return id;
  }

  /** Forgets a node; its edges must already be gone. */
  release(ref: string): void {
    const id = this.ids.get(ref);
    if (id === undefined) return;
    this.ids.delete(ref);
    this.refs[id] = '';
    this.free.push(id);
  }

  /** Sets the source mask of src → dst; 0 removes the edge. */
  set(src: number, dst: number, mask: number): void {
    this.setIn(this.out[src], this.outMask[src], dst, mask);
    this.setIn(this.inn[dst], this.innMask[dst], src, mask);
  }

  mask(src: number, dst: number): number {
    const list = this.out[src];
    const i = this.find(list, this.refs[dst]);
    return i < list.length && list[i] === dst ? this.outMask[src][i] : 0;
  }

  private find(list: number[], ref: string): number {
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.refs[list[mid]] < ref) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private setIn(list: number[], masks: number[], other: number, mask: number): void {
    const i = this.find(list, this.refs[other]);
    const present = i < list.length && list[i] === other;
    if (mask === 0) {
      if (present) {
        list.splice(i, 1);
        masks.splice(i, 1);
      }
    } else if (present) {
      masks[i] = mask;
    } else {
      list.splice(i, 0, other);
      masks.splice(i, 0, mask);
    }
  }
}
