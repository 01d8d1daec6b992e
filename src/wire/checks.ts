/**
 * The checks of values every layer above makes of what it is given, and the words its errors use
 * for them: a timeout, a wait's options, any value in a message.
 */

/** Throws a TypeError naming the first key of `options` not in `known`: a misspelt option is named, not ignored. */
export function refuseUnknownOptions(what: string, options: object, known: ReadonlySet<string>): void {
  for (const key of Object.keys(options)) if (!known.has(key)) throw new TypeError(`${what}: unknown option '${key}'`);
}

/** The `timeoutMs` of a wait's options, checked, as the options object itself. */
export function waitTimeout(options: { timeoutMs?: number | undefined }): number | undefined {
  if (typeof options !== 'object' || options === null) throw new TypeError(`wait options must be an object ({ timeoutMs }), got ${describe(options)}`);
  return checkTimeout(options.timeoutMs);
}

/** Validates a `timeoutMs` option: undefined, or a number >= 0; Infinity means none (undefined). */
export function checkTimeout(timeoutMs: unknown, name = 'timeoutMs'): number | undefined {
  if (timeoutMs === undefined || timeoutMs === Infinity) return undefined;
  if (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs)) {
    throw new TypeError(`${name} must be a number of milliseconds, got ${describe(timeoutMs)}`);
  }
  if (timeoutMs < 0) throw new RangeError(`${name} must be >= 0, got ${timeoutMs}`);
  return timeoutMs;
}

/** A short description of a value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value);
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  if (typeof value === 'object') return value.constructor?.name ?? 'object';
  return `${typeof value} ${String(value)}`;
}
