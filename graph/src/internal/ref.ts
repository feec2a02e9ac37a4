// The catalogue's ref rules (catalog/src/model/ref.ts), as graph modules import them.
export { compareForShortName, splitRef } from '@bank/catalog/model';

export function isCallable(kind: string): boolean {
  return kind === 'component' || kind === 'resource';
}

/** Plain code-unit order: locale-independent, so results are the same on every machine. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
