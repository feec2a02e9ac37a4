'use client';
import type { SearchResult } from '@bank/plugin-search';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { type RefObject, useEffect, useId, useRef, useState } from 'react';
import { fetchJson } from '../../lib/api.ts';
import { entityHref, shortName } from '../../lib/refs.ts';
import { TierBadge } from '../common/tier-badge';

/**
 * The global typeahead: every entity by name, title, tag and owner. `/` focuses it from anywhere, arrows
 * move, Enter opens, Escape closes (WAI-ARIA combobox pattern).
 */
export function SearchBox() {
  const router = useRouter();
  const id = useId();
  const input = useRef<HTMLInputElement>(null);
  const [q, setQ] = useState('');
  const [active, setActive] = useState(0);
  const [open, setOpen] = useState(false);
  useSlashFocuses(input);
  const result = useSearch(q, () => setActive(0));

  const term = q.trim().toLowerCase().slice(0, 100);
  // Results for an earlier prefix (the request for the latest keystroke is still out) are never shown or
  // picked: Enter must open what matches what is in the box now.
  const fresh = result !== null && result.q === term;
  const items = fresh ? result.items : [];
  const go = (ref: string) => {
    setOpen(false);
    setQ('');
    input.current?.blur();
    router.push(entityHref(ref));
  };
  const catalogue = () => router.push(`/catalogue?kind=&q=${encodeURIComponent(term)}`);
  const listId = `${id}-list`;
  const showList = open && term !== '' && fresh;

  return (
    <search className="search">
      <label htmlFor={`${id}-input`} className="sr-only">
        Search the catalogue
      </label>
      <input
        ref={input}
        id={`${id}-input`}
        type="search"
        role="combobox"
        aria-expanded={showList}
        aria-controls={listId}
        aria-autocomplete="list"
        aria-activedescendant={showList && items[active] ? `${id}-opt-${active}` : undefined}
        placeholder="Search services, APIs, teams, people…"
        autoComplete="off"
        spellCheck={false}
        value={q}
        data-testid="global-search"
        onChange={(e) => {
          setQ(e.target.value);
          setOpen(true);
        }}
        onFocus={() => setOpen(true)}
        onBlur={() => setTimeout(() => setOpen(false), 150)}
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown') {
            e.preventDefault();
            setActive((a) => Math.min(a + 1, Math.max(0, items.length - 1)));
          } else if (e.key === 'ArrowUp') {
            e.preventDefault();
            setActive((a) => Math.max(a - 1, 0));
          } else if (e.key === 'Enter') {
            e.preventDefault();
            if (items[active]) go(items[active].ref);
            // The answer for what is in the box is not in yet: ask for its best match alone.
            else if (term && !fresh) {
              fetchJson<SearchResult>(`/api/search?q=${encodeURIComponent(term)}&limit=1`)
                .then((r) => (r.items[0] ? go(r.items[0].ref) : catalogue()))
                .catch(catalogue);
            } else if (term) catalogue();
          } else if (e.key === 'Escape') {
            setOpen(false);
            input.current?.blur();
          }
        }}
      />
      <kbd title="Press / to search">/</kbd>
      {showList && (
        <SearchResults
          id={id}
          q={q}
          items={items}
          total={result?.total ?? 0}
          active={active}
          setActive={setActive}
          go={go}
          close={() => setOpen(false)}
        />
      )}
    </search>
  );
}

/** `/` anywhere but in a field focuses the box (and selects what is in it). */
function useSlashFocuses(input: RefObject<HTMLInputElement | null>): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== '/' || e.ctrlKey || e.metaKey || e.altKey) return;
      const t = e.target as HTMLElement | null;
      if (
        t &&
        (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable)
      )
        return;
      e.preventDefault();
      input.current?.focus();
      input.current?.select();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [input]);
}

/** The answer for `q`, asked 60 ms after the last keystroke (an older request is cancelled). */
function useSearch(q: string, onAnswer: () => void): SearchResult | null {
  const [result, setResult] = useState<SearchResult | null>(null);
  const answered = useRef(onAnswer);
  answered.current = onAnswer;
  useEffect(() => {
    const term = q.trim();
    if (!term) {
      setResult(null);
      return;
    }
    const ctrl = new AbortController();
    const timer = setTimeout(() => {
      fetchJson<SearchResult>(`/api/search?q=${encodeURIComponent(term)}&limit=10`, ctrl.signal)
        .then((r) => {
          setResult(r);
          answered.current();
        })
        .catch(() => {});
    }, 60);
    return () => {
      clearTimeout(timer);
      ctrl.abort();
    };
  }, [q]);
  return result;
}

/** The suggestions under the box, and a link to the catalogue when there are more. */
function SearchResults({
  id,
  q,
  items,
  total,
  active,
  setActive,
  go,
  close,
}: {
  id: string;
  q: string;
  items: SearchResult['items'];
  total: number;
  active: number;
  setActive: (i: number) => void;
  go: (ref: string) => void;
  close: () => void;
}) {
  return (
    <div id={`${id}-list`} role="listbox" className="search-results" aria-label="Search results">
      {items.length === 0 && <div className="search-empty">No entity matches “{q.trim()}”.</div>}
      {items.map((hit, i) => (
        <div
          key={hit.ref}
          tabIndex={-1}
          id={`${id}-opt-${i}`}
          role="option"
          aria-selected={i === active}
          onMouseEnter={() => setActive(i)}
          onMouseDown={(e) => {
            e.preventDefault();
            go(hit.ref);
          }}
        >
          <span className="badge kind">{hit.kind}</span>
          <span className="name">{hit.name}</span>
          {hit.tier && <TierBadge tier={hit.tier} />}
          <span className="meta">{hit.owner ? shortName(hit.owner) : (hit.type ?? '')}</span>
        </div>
      ))}
      {total > items.length && (
        <div className="search-empty">
          <Link
            prefetch={false}
            href={`/catalogue?kind=&q=${encodeURIComponent(q.trim())}`}
            onMouseDown={(e) => e.preventDefault()}
            onClick={close}
          >
            {total - items.length} more — see all in the catalogue
          </Link>
        </div>
      )}
    </div>
  );
}
