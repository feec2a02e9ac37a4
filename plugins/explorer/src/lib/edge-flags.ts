/**
 * The flags of an edge in the estate graph's `edges` triples (from, to, flags). Imports nothing, so the UI's
 * client code reads them (through `@bank/plugin-explorer/ui`).
 */
export const EDGE_DECLARED = 1;
export const EDGE_OBSERVED = 2;
