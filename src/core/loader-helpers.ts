/**
 * Helpers a TypeScript loader writes into function bodies. An inline task is sent as the source
 * `Function.prototype.toString` gives, which under tsx is esbuild's output: a nested function, a
 * `const` arrow or a class in it calls `__name(…)` (tsx keeps names), and a `using` declaration
 * on a Node.js without it (before 24) becomes `__using(…)` / `__callDispose(…)`. Those helpers
 * live in the loader's module scope, not in the function, so the inline task is compiled with
 * them defined — only the ones its source mentions, as parameters of the function that makes
 * it, so nothing global changes and a task's own variable of the same name still wins.
 *
 * Not defined, so still failing with the missing name: helpers for code Node.js 20 runs natively
 * (esbuild's `__async`, `__publicField`, `__privateGet`, … appear only for older targets),
 * decorators, and the helpers tsc or SWC import from tslib / @swc/helpers. Such a function
 * belongs in a task module.
 *
 * The definitions follow esbuild's runtime (MIT), as tsx (esbuild 0.2x) emits calls to them.
 */

type Disposal = [async: boolean, dispose?: (this: unknown) => unknown, value?: unknown];

const helpers = {
  /** Gives a function or class its name (esbuild's `keepNames`). */
  __name: (target: object, value: string): object => Object.defineProperty(target, 'name', { value, configurable: true }),

  /** Registers a `using` (or `await using`) resource on the block's disposal stack. */
  __using: (stack: Disposal[], value: unknown, async?: boolean): unknown => {
    if (value !== null && value !== undefined) {
      if (typeof value !== 'object' && typeof value !== 'function') throw new TypeError('Object expected');
      const resource = value as Record<symbol, unknown>;
      let dispose: unknown;
      let inner: unknown;
      if (async) dispose = resource[Symbol.asyncDispose ?? Symbol.for('Symbol.asyncDispose')];
      if (dispose === undefined) {
        dispose = resource[Symbol.dispose ?? Symbol.for('Symbol.dispose')];
        if (async) inner = dispose;
      }
      if (typeof dispose !== 'function') throw new TypeError('Object not disposable');
      if (inner !== undefined) {
        const sync = inner as (this: unknown) => unknown;
        dispose = function (this: unknown) {
          try {
            sync.call(this);
          } catch (error) {
            return Promise.reject(error);
          }
        };
      }
      stack.push([async === true, dispose as (this: unknown) => unknown, value]);
    } else if (async) {
      stack.push([true]);
    }
    return value;
  },

  /** Disposes a block's resources, last first, keeping every error (SuppressedError). */
  __callDispose: (stack: Disposal[], error: unknown, hasError: boolean): Promise<void> | undefined => {
    const fail = (e: unknown) => {
      error = hasError ? suppressed(e, error) : ((hasError = true), e);
    };
    const next = (): Promise<void> | undefined => {
      for (let it = stack.pop(); it !== undefined; it = stack.pop()) {
        try {
          const result = it[1]?.call(it[2]);
          if (it[0]) return Promise.resolve(result).then(next, (e: unknown) => (fail(e), next()));
        } catch (e) {
          fail(e);
        }
      }
      if (hasError) throw error;
      return undefined;
    };
    return next();
  },
};

function suppressed(error: unknown, suppressedError: unknown): Error {
  const message = 'An error was suppressed during disposal';
  const Suppressed = (globalThis as { SuppressedError?: new (e: unknown, s: unknown, m: string) => Error }).SuppressedError;
  if (Suppressed !== undefined) return new Suppressed(error, suppressedError, message);
  return Object.assign(new Error(message), { name: 'SuppressedError', error, suppressed: suppressedError });
}

const names = Object.keys(helpers) as (keyof typeof helpers)[];

/** The loader helpers `source` mentions, as parameter names and the values to pass. @internal */
export function helpersFor(source: string): { names: string[]; values: unknown[] } | undefined {
  if (!source.includes('__')) return undefined; // the common case: plain JavaScript
  const used = names.filter((name) => new RegExp(`\\b${name}\\b`).test(source));
  return used.length === 0 ? undefined : { names: used, values: used.map((name) => helpers[name]) };
}
