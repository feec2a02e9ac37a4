'use client';
import { createContext, type ReactNode, useContext } from 'react';
import { NotFoundView } from './not-found-view';

interface Missing {
  what: string;
  suggestions: string[];
}

/**
 * Next's not-found.tsx takes no props, so the entity segment's layout hands it what the page was asked for
 * and the catalogue's closest names through this context.
 */
const MissingEntity = createContext<Missing | null>(null);

export function MissingEntityProvider({ value, children }: { value: Missing | null; children: ReactNode }) {
  return <MissingEntity.Provider value={value}>{children}</MissingEntity.Provider>;
}

/** The entity segment's 404 view. */
export function MissingEntityView() {
  const missing = useContext(MissingEntity);
  return <NotFoundView what={missing?.what ?? 'this entity'} suggestions={missing?.suggestions ?? []} />;
}
