// The builder from compact specs is the shared test estate builder in @bank/catalog/testing; the graph's
// tests and benches keep reaching it here too.
export { type EntitySpec, refOf, toEntities } from '@bank/catalog/testing';
