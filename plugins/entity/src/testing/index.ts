/**
 * What other packages' tests use: a small catalogue written to a temporary directory ({@link testCatalog})
 * and a router served on a real port ({@link serveRouter}).
 */
export { type TestCatalog, testCatalog } from './estate.ts';
export { serveRouter } from './serve.ts';
