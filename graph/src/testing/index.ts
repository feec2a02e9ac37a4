/**
 * @bank/graph/testing: entities for other packages' tests and benches (a small estate with the bank's
 * shapes, a synthetic estate of any size, and a builder from short specs). Not for production code.
 */

export { type EntitySpec, refOf, toEntities } from './entities.ts';
export { smallEstate, smallEstateSpecs } from './small-estate.ts';
export { CANONICAL_CHAIN, syntheticEstate } from './synthetic-estate.ts';
