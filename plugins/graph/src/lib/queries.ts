import {
  type CyclesResult,
  cycles,
  type GraphIndex,
  GraphQueryError,
  IMPACT_LIMITS,
  type ImpactResult,
  impact,
  NEIGHBOURHOOD_LIMITS,
  type NeighbourhoodResult,
  neighbourhood,
  type OwnershipResult,
  ownership,
  PATHS_LIMITS,
  type PathsResult,
  paths,
  type Via,
} from '@bank/graph';

/** Raw parameters as they arrive from a query string or the command line. */
export type RawParams = Record<string, string | undefined>;

/**
 * A whole-number parameter. Anything that is not digits is refused here with the same limits the graph
 * states, so `k=abc` and `k=99` get the same kind of answer.
 */
export function intParam(
  fn: string,
  name: string,
  raw: string | undefined,
  limits: { min: number; max: number },
): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (!/^-?\d+$/.test(raw.trim())) {
    throw new GraphQueryError(
      `${fn}: ${name} must be an integer from ${limits.min} to ${limits.max} (got ${JSON.stringify(raw)})`,
      {
        field: name,
        ...limits,
        got: raw,
      },
    );
  }
  return Number(raw.trim());
}

function required(fn: string, name: string, raw: string | undefined): string {
  if (raw === undefined || raw.trim() === '') {
    throw new GraphQueryError(
      `${fn}: ${name} is required (a short name like card-api or a ref like component:default/card-api)`,
      {
        field: name,
      },
    );
  }
  return raw;
}

const via = (raw: string | undefined) => (raw === undefined || raw === '' ? undefined : (raw as Via));

export function runPaths(index: GraphIndex, p: RawParams): PathsResult {
  return paths(index, required('paths', 'from', p.from), required('paths', 'to', p.to), {
    k: intParam('paths', 'k', p.k, PATHS_LIMITS.k),
    maxHops: intParam('paths', 'maxHops', p.maxHops, PATHS_LIMITS.maxHops),
    via: via(p.via),
  });
}

export function runImpact(index: GraphIndex, p: RawParams): ImpactResult {
  return impact(index, required('impact', 'ref', p.ref), {
    depth: intParam('impact', 'depth', p.depth, IMPACT_LIMITS.depth),
    via: via(p.via),
  });
}

export function runNeighbourhood(index: GraphIndex, p: RawParams): NeighbourhoodResult {
  return neighbourhood(index, required('neighbourhood', 'ref', p.ref), {
    depth: intParam('neighbourhood', 'depth', p.depth, NEIGHBOURHOOD_LIMITS.depth),
    limit: intParam('neighbourhood', 'limit', p.limit, NEIGHBOURHOOD_LIMITS.limit),
    direction: (p.direction || undefined) as 'up' | 'down' | 'both' | undefined,
    graph: (p.graph || undefined) as 'calls' | 'relations' | undefined,
    via: via(p.via),
  });
}

export function runCycles(index: GraphIndex, p: RawParams): CyclesResult {
  return cycles(index, { via: via(p.via) });
}

export function runOwnership(index: GraphIndex, p: RawParams): OwnershipResult {
  return ownership(index, { via: via(p.via) });
}
