import { preload } from 'react-dom';

/**
 * Starts the view's first API request while the page's JavaScript is still loading: a
 * `<link rel=preload as=fetch>` that the client component's fetch of the same URL then reuses.
 */
export function PreloadApi({ href }: { href: string | null }) {
  if (href) preload(href, { as: 'fetch', crossOrigin: 'anonymous' });
  return null;
}
