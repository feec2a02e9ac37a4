import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from './temp.ts';

/** Write a small descriptor tree into a fresh temp folder (removed at exit): `{ 'svc/a/catalog-info.yaml': '…' }`. */
export function writeTree(files: Record<string, string | Uint8Array>, dir = tempDir('portal-tree-')): string {
  for (const [rel, content] of Object.entries(files)) {
    const abs = path.join(dir, rel);
    mkdirSync(path.dirname(abs), { recursive: true });
    writeFileSync(abs, content);
  }
  return dir;
}

export function removeFile(dir: string, rel: string): void {
  rmSync(path.join(dir, rel));
}
