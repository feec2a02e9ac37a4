/**
 * @bank/catalog/testing: helpers for other packages' tests (not for production code): catalogue trees
 * written to a temporary folder (`writeTree`, `component`, `ORG`), the databases a store test runs on
 * (`testDatabases`: SQLite, and PostgreSQL when it is there) and Backstage's own example material.
 */

export * from './backstage.ts';
export * from './databases.ts';
export * from './tree.ts';
