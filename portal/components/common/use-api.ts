'use client';
import { useEffect, useState } from 'react';
import { ApiError, fetchJson } from '../../lib/api.ts';

export interface ApiState<T> {
  data: T | null;
  error: ApiError | null;
  loading: boolean;
}

/** Fetches `url` (null = nothing to fetch) from the portal's API, aborting when the url changes. */
export function useApi<T>(url: string | null): ApiState<T> {
  const [state, setState] = useState<ApiState<T>>({ data: null, error: null, loading: url !== null });
  useEffect(() => {
    if (url === null) {
      setState({ data: null, error: null, loading: false });
      return;
    }
    const ctrl = new AbortController();
    setState((s) => ({ data: s.data, error: null, loading: true }));
    fetchJson<T>(url, ctrl.signal)
      .then((data) => setState({ data, error: null, loading: false }))
      .catch((err: Error) => {
        if (err.name === 'AbortError') return;
        setState({
          data: null,
          error: err instanceof ApiError ? err : new ApiError(err.message, 0),
          loading: false,
        });
      });
    return () => ctrl.abort();
  }, [url]);
  return state;
}
