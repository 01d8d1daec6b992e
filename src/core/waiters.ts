/**
 * Waiters: promises that resolve when something they wait for may have happened (room in a queue,
 * an idle executor, …). Whoever changes the state wakes them all; each checks again.
 */
export class Waiters {
  #list: (() => void)[] = [];

  /** Whether anyone waits. */
  get waiting(): boolean {
    return this.#list.length > 0;
  }

  /**
   * Resolves at the next `wakeAll()`.
   *
   * @example
   * while (!hasRoom()) await roomWaiters.wait();
   */
  wait(): Promise<void> {
    return new Promise((resolve) => this.#list.push(resolve));
  }

  /** Resolves every pending `wait()`. */
  wakeAll(): void {
    if (this.#list.length === 0) return;
    const list = this.#list;
    this.#list = [];
    for (const wake of list) wake();
  }
}
