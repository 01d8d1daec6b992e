/**
 * A cheap look for values that structured clone would refuse, so a bad argument fails at the
 * call that passed it, naming it, instead of later on the wire. Primitives (the common case)
 * cost one `typeof`; containers are walked; buffers, dates and the like are leaves. Rare
 * uncloneables this misses (a MessagePort not in the transfer list, say) are still caught when
 * the message is posted, and fail only their own call.
 *
 * The walk keeps its own stack instead of recursing, so it never overflows the thread's: a value
 * structured clone can copy, however deeply nested, passes it.
 */
import { isMainThread } from 'node:worker_threads';
import { TaskSerializationError } from './errors.js';
import { toShared, type Shareable } from './shareable.js';

/** How a value was reached from its container, for the path in messages. */
const enum Step { Root, Index, Key, MapKey, MapValue, SetItem }

/** One container still to look into, and how it was reached. */
interface Pending {
  readonly value: object;
  readonly parent: Pending | undefined;
  readonly step: Step;
  /** The index, property name or Map key it was reached by. */
  readonly key: unknown;
  /** How many containers deep it is: 1 for the value itself. */
  readonly depth: number;
}

/**
 * How deeply nested a value the receiving thread can rebuild. Structured clone recurses once per
 * level on the receiving thread's stack, and a message that fails there is dropped without a
 * word (a 'messageerror' event, or an exception in the child process's IPC reader), so what
 * could not be rebuilt is refused before it is sent. Measured limits, for `{ a: { a: … } }`
 * (the costliest shape per level): a main thread (V8's default 984 KiB stack) 1,930 levels on
 * Node 20 and 1,630 on Node 24; a worker thread (4 MiB) 7,770 and 6,540. These leave a margin.
 */
export const MAX_DEPTH = { mainThread: 1000, workerThread: 4000, mainThreadSends: 3000 } as const;
// mainThreadSends: how deeply nested a value the main thread's own structured clone can write,
// measured for `{ a: { a: … } }` posted from a main thread: 3,075 levels on Node 20, 3,292 on 24,
// 3,680 on 26. A worker thread (4 MiB of stack) writes deeper than any receiver rebuilds.

/**
 * Returns a description of the first uncloneable thing inside `value`, or undefined. A value
 * nested more than `maxDepth` containers deep counts as uncloneable.
 */
export function findUncloneable(value: unknown, maxDepth = Infinity): string | undefined {
  const type = typeof value;
  if (type === 'function') return `a function (${(value as () => void).name || 'anonymous'})`;
  if (type === 'symbol') return 'a symbol';
  if (type !== 'object' || value === null || isLeaf(value as object)) return undefined;
  return walk(value as object, maxDepth);
}

/**
 * How deeply nested a value can be sent from this thread to `where`: as deep as the receiving
 * thread can rebuild, and this thread can write (a main thread writes less deep than a worker
 * thread rebuilds: such a value failed only as its call was sent, not at the call).
 */
export function maxDepthFor(where: string): number {
  if (where !== 'worker thread') return MAX_DEPTH.mainThread;
  return isMainThread ? Math.min(MAX_DEPTH.workerThread, MAX_DEPTH.mainThreadSends) : MAX_DEPTH.workerThread;
}

function walk(root: object, maxDepth: number): string | undefined {
  const seen = new Set<object>([root]);
  // Children are taken in order from `found`; the stack takes them last first, so the walk is
  // depth first in order and the first problem reported is the first one in the value.
  const stack: Pending[] = [{ value: root, parent: undefined, step: Step.Root, key: undefined, depth: 1 }];
  const found: Pending[] = [];
  let item: Pending | undefined;
  let problem: string | undefined;
  /** Notes one child of `item`: a problem, a container to walk, or nothing (a primitive). */
  const visit = (child: unknown, step: Step, key: unknown): boolean => {
    const type = typeof child;
    if (type === 'function' || type === 'symbol') {
      problem = `a ${type}${at(path({ value: item!.value, parent: item, step, key, depth: 0 }))}`;
      return false;
    }
    if (type === 'object' && child !== null && !seen.has(child as object)) {
      if (item!.depth >= maxDepth && !isLeaf(child as object)) {
        problem =
          `nested more than ${maxDepth} levels deep, which structured clone cannot rebuild on the receiving ` +
          "thread's stack (flatten it, or send it encoded as a string or buffer)";
        return false;
      }
      seen.add(child as object);
      found.push({ value: child as object, parent: item, step, key, depth: item!.depth + 1 });
    }
    return true;
  };
  while ((item = stack.pop()) !== undefined) {
    const { value } = item;
    if (isLeaf(value)) continue;
    if (value instanceof Promise) return `a Promise${at(path(item))} (await it first)`;
    if (value instanceof WeakMap || value instanceof WeakSet || value instanceof WeakRef) {
      return `a ${value.constructor.name}${at(path(item))}`;
    }
    if (value instanceof Map) {
      for (const [k, v] of value) if (!visit(k, Step.MapKey, k) || !visit(v, Step.MapValue, k)) return problem;
    } else if (value instanceof Set) {
      for (const v of value) if (!visit(v, Step.SetItem, undefined)) return problem;
    } else if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) if (!visit(value[i], Step.Index, i)) return problem;
    } else {
      for (const key of Object.keys(value)) if (!visit((value as Record<string, unknown>)[key], Step.Key, key)) return problem;
    }
    while (found.length > 0) stack.push(found.pop()!);
  }
  return undefined;
}

/**
 * Values structured clone copies whole, without looking into them as containers; and
 * Shareables, which are swapped for their shared state before sending (wire/shareable.ts).
 */
function isLeaf(value: object): boolean {
  return ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof SharedArrayBuffer ||
    value instanceof Date || value instanceof RegExp || value instanceof Error ||
    typeof (value as Partial<Shareable>)[toShared] === 'function';
}

/** The path from the argument to `item`, built only when there is something to report. */
function path(item: Pending): string {
  const steps: string[] = [];
  for (let p: Pending | undefined = item; p !== undefined; p = p.parent) {
    switch (p.step) {
      case Step.Index: steps.push(`[${p.key as number}]`); break;
      case Step.Key: steps.push(`.${p.key as string}`); break;
      case Step.MapKey: steps.push('<key>'); break;
      case Step.MapValue: steps.push(`.get(${String(p.key)})`); break;
      case Step.SetItem: steps.push('<item>'); break;
    }
  }
  return steps.reverse().join('');
}

function at(path: string): string {
  return path === '' ? '' : ` at ${path}`;
}

/**
 * What posting a message threw, explained: structured clone recurses, so a value nested more
 * deeply than this thread's stack allows (a few thousand levels) fails with a bare RangeError.
 */
export function explainCloneFailure(error: unknown): unknown {
  if (!(error instanceof RangeError) || !/call stack/i.test(error.message)) return error;
  return new TaskSerializationError(
    'it is nested too deeply for structured clone to copy on this thread (Maximum call stack size exceeded); ' +
      'flatten it, or send it as a string or buffer you encode yourself',
    { cause: error },
  );
}

let budget = 0;
/**
 * How many containers the quick look visits before it leaves the answer to the exact walk: enough
 * for large shallow values (an array of 100,000 rows costs a few percent of cloning it), bounded
 * for graphs that share nodes heavily, which it would visit once per path.
 */
const QUICK_BUDGET = 1 << 20;

/**
 * Whether `value` nests containers at most `maxDepth` deep — for every message a thread sends,
 * so it must be cheap: a quick recursive look that allocates nothing decides the common case
 * (small, shallow values), and the exact walk above the rest (large, cyclic or deep values).
 */
export function withinDepth(value: unknown, maxDepth: number): boolean {
  if (typeof value !== 'object' || value === null) return true;
  budget = QUICK_BUDGET;
  try {
    if (quick(value, maxDepth)) return true;
  } catch {
    // this thread's own stack ran short: the exact walk needs none
  }
  return !(findUncloneable(value, maxDepth)?.startsWith('nested') ?? false);
}

/** True when `value` is surely within `left` levels; false when unsure. */
function quick(value: object, left: number): boolean {
  if (--budget < 0 || left <= 0) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      if (typeof v === 'object' && v !== null && !quick(v, left - 1)) return false;
    }
    return true;
  }
  if (isLeaf(value)) return true;
  if (value instanceof Map) {
    for (const [k, v] of value) {
      if (typeof k === 'object' && k !== null && !quick(k, left - 1)) return false;
      if (typeof v === 'object' && v !== null && !quick(v, left - 1)) return false;
    }
    return true;
  }
  if (value instanceof Set) {
    for (const v of value) if (typeof v === 'object' && v !== null && !quick(v, left - 1)) return false;
    return true;
  }
  // for-in also sees inherited enumerable keys: at worst the exact walk is asked.
  for (const key in value) {
    const v: unknown = (value as Record<string, unknown>)[key];
    if (typeof v === 'object' && v !== null && !quick(v, left - 1)) return false;
  }
  return true;
}
