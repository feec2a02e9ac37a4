import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Write a small descriptor tree into a fresh temp folder: `{ 'svc/a/catalog-info.yaml': '…' }`. */
export function writeTree(
  files: Record<string, string | Uint8Array>,
  dir = mkdtempSync(path.join(tmpdir(), 'portal-tree-')),
): string {
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
