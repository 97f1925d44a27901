// usePoll: fetches a document now and then every `intervalMs`, keeping the last good value
// while a later fetch fails (the error is reported separately, so a blip does not blank the
// page). Requests never overlap: the next one is scheduled when the previous one settled.
import { useEffect, useState } from 'preact/hooks';

export interface Polled<T> {
  data: T | undefined;
  error: string | undefined;
  updatedAt: number | undefined; // Date.now() of the last success
}

export function usePoll<T>(
  fetcher: (signal: AbortSignal) => Promise<T>,
  intervalMs: number,
  deps: unknown[] = [],
): Polled<T> {
  const [state, setState] = useState<Polled<T>>({
    data: undefined,
    error: undefined,
    updatedAt: undefined,
  });
  useEffect(() => {
    let stopped = false;
    let timer: number | undefined;
    const controller = new AbortController();
    const tick = async () => {
      try {
        const data = await fetcher(controller.signal);
        if (!stopped) setState({ data, error: undefined, updatedAt: Date.now() });
      } catch (e) {
        if (!stopped) setState((s) => ({ ...s, error: e instanceof Error ? e.message : String(e) }));
      }
      if (!stopped) timer = window.setTimeout(tick, intervalMs);
    };
    void tick();
    return () => {
      stopped = true;
      controller.abort();
      window.clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  return state;
}
