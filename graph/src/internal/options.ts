import { GraphQueryError } from '../errors.ts';
import type { Via } from '../types.ts';

/** Checks an integer option against its limits; the message states them. */
export function intOption(
  fn: string,
  field: string,
  value: unknown,
  min: number,
  max: number,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new GraphQueryError(
      `${fn}: ${field} must be an integer from ${min} to ${max} (got ${JSON.stringify(value)})`,
      {
        field,
        min,
        max,
        got: value,
      },
    );
  }
  return value;
}

export function oneOf<T extends string>(
  fn: string,
  field: string,
  value: unknown,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new GraphQueryError(
      `${fn}: ${field} must be one of ${allowed.join(', ')} (got ${JSON.stringify(value)})`,
      {
        field,
        allowed,
        got: value,
      },
    );
  }
  return value as T;
}

export const VIAS: readonly Via[] = ['declared', 'observed', 'any'];
