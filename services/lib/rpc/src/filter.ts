/** A Filter sees the request and the next Service: it may change either, or answer without calling next. */
import type { Request, Response, Service } from './service.ts';

export type Filter = (req: Request, next: Service) => Promise<Response>;

/** Applies filters in order, so the last one is the outermost: `chain(svc, a, b)` = `svc.filter(a).filter(b)`. */
export function chain(svc: Service, ...filters: Filter[]): Service {
  let s = svc;
  for (const f of filters) s = s.filter(f);
  return s;
}
