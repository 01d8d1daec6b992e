/**
 * One 'abort' listener per AbortSignal, however many calls share it: a signal shared by many
 * calls (one per request, say) would otherwise collect a listener per call and trip Node's
 * MaxListenersExceededWarning at eleven.
 */
export class SignalWatch<T> {
  readonly #watching = new Map<AbortSignal, Set<T>>();

  constructor(
    /** Called for each watched item when its signal aborts. */
    private readonly aborted: (item: T, signal: AbortSignal) => void,
  ) {}

  /** Watches `signal` for `item`. */
  add(signal: AbortSignal, item: T): void {
    let items = this.#watching.get(signal);
    if (items === undefined) {
      const watched = new Set<T>();
      items = watched;
      this.#watching.set(signal, watched);
      signal.addEventListener('abort', () => {
        this.#watching.delete(signal);
        for (const i of [...watched]) this.aborted(i, signal);
      }, { once: true });
    }
    items.add(item);
  }

  /** Stops watching `signal` for `item`. */
  delete(signal: AbortSignal, item: T): void {
    const items = this.#watching.get(signal);
    if (items === undefined) return;
    items.delete(item);
    // The listener stays on the signal (it cannot be told apart), but holds an empty set.
    if (items.size === 0) this.#watching.delete(signal);
  }
}
