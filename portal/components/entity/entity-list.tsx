import type { EntitySummary } from '@bank/plugin-entity';
import { EntityLink } from '../common/entity-link';
import { TierBadge } from '../common/tier-badge';

/** A relation's target that is not in the catalogue: kept, as Backstage keeps it, and said so. */
export function MissingBadge() {
  return (
    <span className="badge badge-warn" title="Named by this entity, but no descriptor defines it">
      not in the catalogue
    </span>
  );
}

/** A list of linked entities with kind and tier; long lists are cut with a count of the rest. */
export function EntityList({
  items,
  empty = 'None',
  max = 40,
  extra,
}: {
  items: EntitySummary[];
  empty?: string;
  max?: number;
  extra?: (item: EntitySummary) => React.ReactNode;
}) {
  if (items.length === 0)
    return (
      <p className="muted small" style={{ margin: 0 }}>
        {empty}
      </p>
    );
  return (
    <>
      <ul className="list">
        {items.slice(0, max).map((item) => (
          <li key={item.ref}>
            <span className="badge kind">{item.kind}</span>
            <span className="grow">
              <EntityLink entityRef={item.ref} label={item.name} />
              {item.title && item.title !== item.name && <span className="muted small"> · {item.title}</span>}
              {item.missing && <MissingBadge />}
            </span>
            {extra?.(item)}
            <TierBadge tier={item.tier} />
          </li>
        ))}
      </ul>
      {items.length > max && <p className="muted small">and {items.length - max} more</p>}
    </>
  );
}
