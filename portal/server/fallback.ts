import type { CatalogView } from '@bank/plugin-catalog';

const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch] as string,
  );

/** A plain page listing the services, served when the Next.js UI has not been built. */
export function fallbackPage(view: CatalogView): string {
  const rows = view
    .all()
    .filter((e) => e.kind === 'Component')
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
    .map((e) => {
      const owner = e.relations.find((r) => r.type === 'ownedBy')?.targetRef ?? '';
      return `<tr><td>${escapeHtml(e.metadata.name)}</td><td>${escapeHtml(owner.replace(/^group:default\//, ''))}</td><td>${escapeHtml(e.metadata.description ?? '')}</td></tr>`;
    })
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Developer portal</title></head>
<body><h1>Services</h1><p>The UI is not built (run <code>npm run build -w @bank/portal</code>); this is the plain list.</p>
<table><thead><tr><th>Service</th><th>Owner</th><th>Description</th></tr></thead><tbody>${rows}</tbody></table></body></html>`;
}
