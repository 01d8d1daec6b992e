/**
 * One runtime state per thread, however many copies of threadloop the thread has loaded.
 *
 * A thread can end up with two: under tsx on Node 20, a worker imports a `.ts` task module
 * through tsx's `require()` hook (runtime/task-registry.ts), and that hook loads the module's
 * `import 'threadloop/task'` again, as CommonJS. Module-level variables would then exist twice:
 * the task's `currentTask()` would read a copy nobody set, its `mainLoop()` a loop nobody made,
 * and the two copies would hand out colliding task ids. So every module keeps its per-thread
 * state in a slot of one object on `globalThis`, under a `Symbol.for` key that every copy finds,
 * and each slot carries the version of its shape: a copy that keeps a slot differently fails
 * loudly at load instead of sharing it wrongly. (Each thread has its own `globalThis`, so this
 * is per thread, as the module variables were.)
 */

const KEY = Symbol.for('threadloop.threadState');

interface Slot {
  readonly version: number;
  readonly state: object;
}

type Slots = Map<string, Slot>;

/**
 * The state `name` keeps in this thread, made by `init` the first time any copy of threadloop
 * asks for it. `version` is the shape of that state: bump it whenever the shape changes.
 * @internal
 *
 * @example
 * const state = perThread('current-task', 1, () => ({ current: undefined as RunningCall | undefined }));
 */
export function perThread<T extends object>(name: string, version: number, init: () => T): T {
  const holder = globalThis as { [KEY]?: Slots };
  const slots = (holder[KEY] ??= new Map());
  const slot = slots.get(name);
  if (slot === undefined) {
    const state = init();
    slots.set(name, { version, state });
    return state;
  }
  if (slot.version !== version) {
    throw new Error(
      `threadloop: two incompatible copies of threadloop are loaded in this thread (they keep '${name}' as ` +
        `version ${slot.version} and ${version}); make every import of threadloop resolve to one installed copy`,
    );
  }
  return slot.state as T;
}

/**
 * A brand for classes whose instances must be recognized by every copy of threadloop in the
 * thread (`instanceof` only knows its own copy's class): a property under a `Symbol.for` key.
 * @internal
 */
export function brand(name: string): symbol {
  return Symbol.for(`threadloop.${name}`);
}
