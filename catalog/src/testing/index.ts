/**
 * @bank/catalog/testing: helpers for other packages' tests (not for production code). The test estate
 * builder (`estate.ts`: compact entity specs as Backstage entities with relations, `toEntities`, or as a
 * descriptor tree, `estateFiles`/`writeTestEstate`; `component` and `ORG` for the common case), any files
 * written to a temporary folder (`writeTree`; `tempDir` for any other, both removed when the test process exits), the databases a store test runs on (`testDatabases`:
 * SQLite, and PostgreSQL when it is there) and Backstage's own example material.
 */

export * from './backstage.ts';
export * from './databases.ts';
export * from './estate.ts';
export * from './temp.ts';
export * from './tree.ts';
