/**
 * A cheap look for values that structured clone would refuse, so a bad argument fails at the
 * call that passed it, naming it, instead of later on the wire. Primitives (the common case)
 * cost one `typeof`; containers are walked; buffers, dates and the like are leaves. Rare
 * uncloneables this misses (a MessagePort not in the transfer list, say) are still caught when
 * the message is posted, and fail only their own call.
 */

/** Returns a description of the first uncloneable thing inside `value`, or undefined. */
export function findUncloneable(value: unknown): string | undefined {
  const type = typeof value;
  if (type === 'function') return `a function (${(value as () => void).name || 'anonymous'})`;
  if (type === 'symbol') return 'a symbol';
  if (type !== 'object' || value === null) return undefined;
  return walk(value as object, '', new Set());
}

function walk(value: object, path: string, seen: Set<object>): string | undefined {
  if (seen.has(value)) return undefined;
  seen.add(value);
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof SharedArrayBuffer) {
    return undefined;
  }
  if (value instanceof Date || value instanceof RegExp || value instanceof Error) return undefined;
  if (value instanceof Promise) return `a Promise${at(path)} (await it first)`;
  if (value instanceof WeakMap || value instanceof WeakSet || value instanceof WeakRef) {
    return `a ${value.constructor.name}${at(path)}`;
  }
  if (value instanceof Map) {
    for (const [k, v] of value) {
      const bad = child(k, `${path}<key>`, seen) ?? child(v, `${path}.get(${String(k)})`, seen);
      if (bad !== undefined) return bad;
    }
    return undefined;
  }
  if (value instanceof Set) {
    for (const v of value) {
      const bad = child(v, `${path}<item>`, seen);
      if (bad !== undefined) return bad;
    }
    return undefined;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const bad = child(value[i], `${path}[${i}]`, seen);
      if (bad !== undefined) return bad;
    }
    return undefined;
  }
  for (const key of Object.keys(value)) {
    const bad = child((value as Record<string, unknown>)[key], `${path}.${key}`, seen);
    if (bad !== undefined) return bad;
  }
  return undefined;
}

function child(value: unknown, path: string, seen: Set<object>): string | undefined {
  const type = typeof value;
  if (type === 'function') return `a function${at(path)}`;
  if (type === 'symbol') return `a symbol${at(path)}`;
  if (type !== 'object' || value === null) return undefined;
  return walk(value as object, path, seen);
}

function at(path: string): string {
  return path === '' ? '' : ` at ${path}`;
}
