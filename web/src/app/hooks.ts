// Data loading hooks: one request per change of inputs, stale answers ignored, and polling
// that waits for each answer before scheduling the next (no pile-up on a slow server).
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from '../api/client';

export interface Async<T> {
  data: T | undefined;
  error: ApiError | null;
  loading: boolean;
  reload: () => void;
  setData: (value: T) => void;
}

function asApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  return new ApiError(0, 'client', e instanceof Error ? e.message : String(e));
}

export function useAsync<T>(load: () => Promise<T>, deps: unknown[]): Async<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const generation = useRef(0);

  useEffect(() => {
    const mine = ++generation.current;
    setLoading(true);
    load().then(
      (value) => {
        if (mine !== generation.current) return;
        setData(value);
        setError(null);
        setLoading(false);
      },
      (e: unknown) => {
        if (mine !== generation.current) return;
        setError(asApiError(e));
        setLoading(false);
      },
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);

  useEffect(() => () => void generation.current++, []);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, loading, reload, setData };
}

// Calls `load` now and then every `intervalMs` after each answer while `active` is true.
export function usePoll<T>(
  load: () => Promise<T>,
  intervalMs: number,
  active: (latest: T | undefined) => boolean,
  deps: unknown[],
): Async<T> & { lastUpdated: number | null } {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(true);
  const [lastUpdated, setLastUpdated] = useState<number | null>(null);
  const [tick, setTick] = useState(0);
  const activeRef = useRef(active);
  activeRef.current = active;

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async () => {
      let latest: T | undefined;
      try {
        latest = await load();
        if (stopped) return;
        setData(latest);
        setError(null);
        setLastUpdated(Date.now());
      } catch (e) {
        if (stopped) return;
        setError(asApiError(e));
        // A lost session stops polling; the app shows sign-in.
        if (e instanceof ApiError && e.status === 401) return;
      } finally {
        if (!stopped) setLoading(false);
      }
      if (!stopped && activeRef.current(latest)) timer = setTimeout(run, intervalMs);
    };
    void run();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, loading, reload, setData, lastUpdated };
}

// Runs a mutating action: tracks "busy" so the button cannot be pressed twice.
export function useAction(): [boolean, <R>(fn: () => Promise<R>) => Promise<R | undefined>, ApiError | null] {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const run = useCallback(async <R,>(fn: () => Promise<R>): Promise<R | undefined> => {
    setBusy(true);
    setError(null);
    try {
      return await fn();
    } catch (e) {
      setError(asApiError(e));
      return undefined;
    } finally {
      setBusy(false);
    }
  }, []);
  return [busy, run, error];
}

export function useTitle(title: string): void {
  useEffect(() => {
    document.title = `${title} · Aloft`;
  }, [title]);
}
