// The work every contender runs, shared so that all pools execute the very same code.
// Each library's worker module (./<library>.js) only wraps these in its own calling convention.

/** The no-op task: `x => x`. Measures pure dispatch overhead. */
export const noop = (x) => x;

/** Naive recursive Fibonacci: a CPU-bound task with no allocation and no I/O. */
export function fib(n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

/** Returns its (1 MiB) buffer argument; the library decides whether the result is cloned. */
export const echo = (buf) => buf;
