import { safeUrl } from '@bank/catalog/model';
import type { ReactNode } from 'react';

/** An external link, rendered only for http(s)/mailto URLs; anything else is shown as inert text. */
export function SafeLink({ href, children }: { href: unknown; children?: ReactNode }) {
  const safe = safeUrl(href);
  if (!safe) {
    return (
      <span className="muted" title="Link hidden: only http, https and mailto links are shown">
        {children ?? String(href ?? '')} <span className="badge badge-warn">link blocked</span>
      </span>
    );
  }
  return (
    <a href={safe} target="_blank" rel="noopener noreferrer nofollow">
      {children ?? safe}
    </a>
  );
}
