'use client';
/**
 * Backstage's scaffolder field extensions as react-jsonschema-form fields (`ui:field`): EntityNamePicker,
 * EntityPicker, OwnerPicker, OwnedEntityPicker, MyGroupsPicker, MultiEntityPicker, EntityTagsPicker and
 * RepoUrlPicker, reading the catalogue API (owners are Groups and Users, entities by kind), with the
 * `ui:options` Backstage documents (catalogFilter, allowedKinds, defaultKind, allowedHosts,
 * allowedOwners, allowedRepos). A field renders its own label and description, as Backstage's do; the
 * field template around it shows errors.
 */
import type { FieldProps, FieldTemplateProps, RegistryFieldsType } from '@rjsf/utils';
import { useState } from 'react';
import { EntityPicker, MultiEntityPicker } from './pickers';

type Options = {
  catalogFilter?: unknown;
  allowedKinds?: string[];
  defaultKind?: string;
  allowedHosts?: string[];
  allowedOwners?: string[];
  allowedRepos?: string[];
};

const optionsOf = (p: FieldProps): Options => (p.uiSchema?.['ui:options'] ?? {}) as Options;

/** The kinds a picker offers: catalogFilter's kind(s) (one filter or a list), allowedKinds, or the fallback. */
export function kindsOf(o: Options, fallback: string[]): string[] {
  const filters = Array.isArray(o.catalogFilter) ? o.catalogFilter : o.catalogFilter ? [o.catalogFilter] : [];
  const kinds = filters.flatMap((f) => {
    const k = (f as { kind?: unknown })?.kind;
    return Array.isArray(k) ? k.map(String) : typeof k === 'string' ? [k] : [];
  });
  if (kinds.length) return kinds;
  if (Array.isArray(o.allowedKinds) && o.allowedKinds.length) return o.allowedKinds;
  return fallback;
}

function Label({ p }: { p: FieldProps }) {
  return (
    <label className="field" htmlFor={p.fieldPathId.$id} style={{ marginBottom: 0 }}>
      {p.schema.title ?? p.name}
      {p.required ? ' *' : ''}
    </label>
  );
}

function Help({ p }: { p: FieldProps }) {
  const text = (p.uiSchema?.['ui:description'] as string | undefined) ?? p.schema.description;
  return text ? (
    <span id={`${p.fieldPathId.$id}__description`} className="small muted">
      {text}
    </span>
  ) : null;
}

const invalid = (p: FieldProps) => (p.rawErrors?.length ?? 0) > 0;

function EntityField({ p, fallback }: { p: FieldProps; fallback: string[] }) {
  const kinds = kindsOf(optionsOf(p), fallback);
  return (
    <div className="stack" style={{ gap: 4 }}>
      <Label p={p} />
      <EntityPicker
        id={p.fieldPathId.$id}
        kinds={kinds}
        value={typeof p.formData === 'string' ? p.formData : ''}
        onChange={(v) => p.onChange(v === '' ? undefined : v, p.fieldPathId.path)}
        invalid={invalid(p)}
        describedBy={`${p.fieldPathId.$id}__description`}
      />
      <Help p={p} />
    </div>
  );
}

const ANY_KIND: string[] = [];
const OWNER_KINDS = ['Group', 'User'];
const GROUP_KIND = ['Group'];
const EntityPickerField = (p: FieldProps) => <EntityField p={p} fallback={ANY_KIND} />;
const OwnerPickerField = (p: FieldProps) => <EntityField p={p} fallback={OWNER_KINDS} />;
const MyGroupsPickerField = (p: FieldProps) => <EntityField p={p} fallback={GROUP_KIND} />;

function EntityNamePicker(p: FieldProps) {
  return (
    <div className="stack" style={{ gap: 4 }}>
      <Label p={p} />
      <input
        id={p.fieldPathId.$id}
        className="input"
        value={typeof p.formData === 'string' ? p.formData : ''}
        autoComplete="off"
        // biome-ignore lint/a11y/noAutofocus: the template asks for it (ui:autofocus)
        autoFocus={p.uiSchema?.['ui:autofocus'] === true}
        aria-invalid={invalid(p) || undefined}
        aria-describedby={`${p.fieldPathId.$id}__description`}
        onChange={(e) => p.onChange(e.target.value === '' ? undefined : e.target.value, p.fieldPathId.path)}
      />
      <Help p={p} />
    </div>
  );
}

function MultiPicker(p: FieldProps) {
  return (
    <div className="stack" style={{ gap: 4 }}>
      <Label p={p} />
      <MultiEntityPicker
        id={p.fieldPathId.$id}
        kinds={kindsOf(optionsOf(p), ['Component'])}
        value={Array.isArray(p.formData) ? (p.formData as string[]) : []}
        onChange={(v) => p.onChange(v, p.fieldPathId.path)}
        invalid={invalid(p)}
        describedBy={`${p.fieldPathId.$id}__description`}
      />
      <Help p={p} />
    </div>
  );
}

function EntityTagsPicker(p: FieldProps) {
  const tags = Array.isArray(p.formData) ? (p.formData as string[]) : [];
  const [text, setText] = useState(tags.join(', '));
  return (
    <div className="stack" style={{ gap: 4 }}>
      <Label p={p} />
      <input
        id={p.fieldPathId.$id}
        className="input"
        value={text}
        placeholder="comma-separated, e.g. payments, java"
        aria-invalid={invalid(p) || undefined}
        onChange={(e) => {
          setText(e.target.value);
          const next = e.target.value
            .split(',')
            .map((s) => s.trim().toLowerCase())
            .filter(Boolean);
          p.onChange([...new Set(next)], p.fieldPathId.path);
        }}
      />
      <Help p={p} />
    </div>
  );
}

/** `github.com?owner=o&repo=r`, as Backstage's RepoUrlPicker writes it. */
export function serializeRepoUrl(v: { host: string; owner: string; repo: string }): string {
  const q = new URLSearchParams();
  if (v.owner) q.set('owner', v.owner);
  if (v.repo) q.set('repo', v.repo);
  return `${v.host}?${q.toString()}`;
}

export function parseRepoUrlValue(s: unknown): { host: string; owner: string; repo: string } {
  if (typeof s !== 'string' || !s.includes('?')) return { host: '', owner: '', repo: '' };
  const q = new URLSearchParams(s.slice(s.indexOf('?') + 1));
  return { host: s.slice(0, s.indexOf('?')), owner: q.get('owner') ?? '', repo: q.get('repo') ?? '' };
}

function RepoUrlPicker(p: FieldProps) {
  const o = optionsOf(p);
  const hosts = o.allowedHosts?.length ? o.allowedHosts : ['github.com'];
  const [v, setParts] = useState(() => {
    const parsed = parseRepoUrlValue(p.formData);
    return { ...parsed, host: parsed.host || (hosts[0] as string) };
  });
  const id = p.fieldPathId.$id;
  // The value is only complete with an owner and a repository; until then it is unset (required fails).
  const setV = (next: typeof v) => {
    setParts(next);
    p.onChange(next.owner && next.repo ? serializeRepoUrl(next) : undefined, p.fieldPathId.path);
  };
  const choice = (key: 'owner' | 'repo', list: string[] | undefined, label: string) => (
    <label className="field" htmlFor={`${id}-${key}`}>
      {label}
      {list?.length ? (
        <select
          id={`${id}-${key}`}
          className="input"
          value={v[key]}
          onChange={(e) => setV({ ...v, [key]: e.target.value })}
        >
          <option value="" />
          {list.map((x) => (
            <option key={x} value={x}>
              {x}
            </option>
          ))}
        </select>
      ) : (
        <input
          id={`${id}-${key}`}
          className="input"
          value={v[key]}
          autoComplete="off"
          aria-invalid={invalid(p) || undefined}
          onChange={(e) => setV({ ...v, [key]: e.target.value.trim() })}
        />
      )}
    </label>
  );
  return (
    <fieldset className="stack" style={{ gap: 8, border: 0, padding: 0, margin: 0 }} id={id}>
      <legend className="field" style={{ padding: 0 }}>
        {p.schema.title ?? p.name}
        {p.required ? ' *' : ''}
      </legend>
      <div className="row" style={{ gap: 12, flexWrap: 'wrap', alignItems: 'flex-end' }}>
        <label className="field" htmlFor={`${id}-host`}>
          Host
          <select
            id={`${id}-host`}
            className="input"
            value={v.host}
            onChange={(e) => setV({ ...v, host: e.target.value })}
          >
            {hosts.map((h) => (
              <option key={h} value={h}>
                {h}
              </option>
            ))}
          </select>
        </label>
        {choice('owner', o.allowedOwners, 'Owner')}
        {choice('repo', o.allowedRepos, 'Repository')}
      </div>
      <Help p={p} />
    </fieldset>
  );
}

/** The fields, by the names Backstage templates write in `ui:field`. */
export const BACKSTAGE_FIELDS: RegistryFieldsType = {
  EntityNamePicker,
  EntityPicker: EntityPickerField,
  OwnerPicker: OwnerPickerField,
  OwnedEntityPicker: EntityPickerField,
  MyGroupsPicker: MyGroupsPickerField,
  MultiEntityPicker: MultiPicker,
  EntityTagsPicker,
  RepoUrlPicker,
};

/** Every field's frame: its label (for rjsf's own widgets), description, and errors under it. */
export function PortalFieldTemplate(props: FieldTemplateProps) {
  const { id, label, required, displayLabel, description, rawErrors, children, hidden, fieldPathId, help } =
    props;
  if (hidden) return <div style={{ display: 'none' }}>{children}</div>;
  const name = fieldPathId.path.join('.') || 'root';
  if (name === 'root') return children;
  return (
    <div className="stack" style={{ gap: 4 }} data-testid={`field-${name}`}>
      {displayLabel && (
        <label className="field" htmlFor={id} style={{ marginBottom: 0 }}>
          {label}
          {required ? ' *' : ''}
        </label>
      )}
      {children}
      {displayLabel && description}
      {(rawErrors ?? []).map((e) => (
        <span
          key={e}
          className="small"
          style={{ color: 'var(--danger)' }}
          role="alert"
          data-testid={`problem-${name}`}
        >
          {e}
        </span>
      ))}
      {help}
    </div>
  );
}
