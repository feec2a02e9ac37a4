/**
 * @bank/catalog/model: the catalogue's model without the store or the file system, safe in a browser
 * bundle and cheap for the CLI's quick commands: annotation names, safe links, entity refs (parsing,
 * resolution, closest names) and relation rules. Validation (kinds, policy, JSON schemas) needs the
 * compiled validators and comes from `@bank/catalog`.
 */

export * from './annotations.ts';
export * from './links.ts';
export * from './ref.ts';
export * from './relations.ts';
