'use client';
import { stringifyRef } from '@bank/catalog/model';
import { useEffect, useMemo, useState } from 'react';
import { fetchJson } from '../../lib/api.ts';

export interface CatalogOption {
  ref: string;
  name: string;
  title?: string;
  type?: string;
}

interface Raw {
  kind: string;
  metadata: { name: string; namespace?: string; title?: string };
  spec?: { type?: string };
}

const cache = new Map<string, Promise<CatalogOption[]>>();

/** Entities of some kinds from the catalogue API (fetched once per kind list). */
export function useCatalogOptions(kinds: string[]): CatalogOption[] {
  const key = kinds.map((k) => k.toLowerCase()).join(',');
  const [options, setOptions] = useState<CatalogOption[]>([]);
  useEffect(() => {
    let p = cache.get(key);
    if (!p) {
      const filter = key
        .split(',')
        .map((k) => `filter=kind=${encodeURIComponent(k)}`)
        .join('&');
      p = fetchJson<Raw[]>(
        `/api/catalog/entities?${filter}&fields=kind,metadata.name,metadata.namespace,metadata.title,spec.type`,
      )
        .then((list) =>
          list
            .map((e) => ({
              ref: stringifyRef({
                kind: e.kind,
                namespace: e.metadata.namespace ?? 'default',
                name: e.metadata.name,
              }),
              name: e.metadata.name,
              title: e.metadata.title,
              type: e.spec?.type,
            }))
            .sort((a, b) => a.name.localeCompare(b.name)),
        )
        .catch(() => []);
      cache.set(key, p);
    }
    let live = true;
    void p.then((o) => live && setOptions(o));
    return () => {
      live = false;
    };
  }, [key]);
  return options;
}

/** One entity (owner, system, topic): a text box with the catalogue's names as suggestions. */
export function EntityPicker(props: {
  id: string;
  kinds: string[];
  value: string;
  onChange: (v: string) => void;
  invalid?: boolean;
  describedBy?: string;
}) {
  const options = useCatalogOptions(props.kinds);
  return (
    <>
      <input
        id={props.id}
        className="input"
        list={`${props.id}-options`}
        value={props.value}
        autoComplete="off"
        placeholder={`a ${props.kinds.join(' or ').toLowerCase()} from the catalogue`}
        aria-invalid={props.invalid || undefined}
        aria-describedby={props.describedBy}
        onChange={(e) => props.onChange(e.target.value)}
      />
      <datalist id={`${props.id}-options`}>
        {options.map((o) => (
          <option key={o.ref} value={o.name}>
            {o.title ?? o.name}
            {o.type ? ` (${o.type})` : ''}
          </option>
        ))}
      </datalist>
    </>
  );
}

/** Several entities (dependencies, datastores): search, pick, and remove again. */
export function MultiEntityPicker(props: {
  id: string;
  kinds: string[];
  value: string[];
  onChange: (v: string[]) => void;
  invalid?: boolean;
  describedBy?: string;
}) {
  const options = useCatalogOptions(props.kinds);
  const [query, setQuery] = useState('');
  const matches = useMemo(() => {
    const q = query.trim().toLowerCase();
    if (!q) return [];
    return options.filter((o) => !props.value.includes(o.name) && o.name.includes(q)).slice(0, 8);
  }, [options, query, props.value]);
  const add = (name: string) => {
    props.onChange([...props.value, name]);
    setQuery('');
  };
  return (
    <div className="stack" data-testid={`${props.id}-picker`}>
      <div className="row" aria-live="polite">
        {props.value.map((name) => (
          <span key={name} className="badge" data-testid={`${props.id}-chosen`}>
            {name}
            <button
              type="button"
              aria-label={`Remove ${name}`}
              onClick={() => props.onChange(props.value.filter((v) => v !== name))}
              style={{
                marginLeft: 4,
                border: 0,
                background: 'transparent',
                color: 'inherit',
                cursor: 'pointer',
                padding: '0 2px',
                font: 'inherit',
              }}
            >
              ×
            </button>
          </span>
        ))}
        {props.value.length === 0 && <span className="muted small">none yet</span>}
      </div>
      <input
        id={props.id}
        className="input"
        aria-controls={`${props.id}-matches`}
        aria-invalid={props.invalid || undefined}
        aria-describedby={props.describedBy}
        placeholder={`search ${props.kinds.join(' or ').toLowerCase()}s (${options.length} in the catalogue)`}
        value={query}
        autoComplete="off"
        onChange={(e) => setQuery(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter') {
            e.preventDefault();
            const exact = options.find((o) => o.name === query.trim());
            if (exact) add(exact.name);
            else if (matches[0]) add(matches[0].name);
          }
        }}
      />
      {matches.length > 0 && (
        <ul id={`${props.id}-matches`} className="list card" aria-label="Matches">
          {matches.map((o) => (
            <li key={o.ref}>
              <button
                type="button"
                className="btn btn-ghost"
                style={{ width: '100%', justifyContent: 'flex-start' }}
                onClick={() => add(o.name)}
                aria-label={`Add ${o.name}`}
              >
                {o.name}
                {o.title && o.title !== o.name ? <span className="muted small">{o.title}</span> : null}
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
