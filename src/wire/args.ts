/**
 * Getting a call's arguments ready to cross: Shareables become tagged records, and anything
 * structured clone would refuse fails here, at the call that passed it, naming the argument.
 */
import { TaskSerializationError } from './errors.js';
import { findUncloneable, maxDepthFor } from './clone-check.js';
import { CallFlag } from './protocol.js';
import { encodeShareables, shareablesInUse } from './shareable.js';
import type { Transferable } from './transferable.js';

/** Buffers and ports to move (not copy) with a call or a result. */
export type TransferList = readonly Transferable[];

/** What prepareArgs needs of a task: its name (for messages) and what it moves. */
export interface ArgsOwner {
  readonly name: string;
  readonly options: { readonly transfer?: TransferList };
}

/** What prepareArgs found besides the arguments: CALL flags and things to transfer. */
export interface PreparedArgs {
  args: unknown[];
  flags: number;
  transfer: TransferList | undefined;
}

/**
 * Returns the arguments to send, the CALL flags they need and what to transfer with them (the
 * task's `transfer` option plus ports of loop handles). `where` names the destination ('worker
 * thread', 'child process'); without shared memory, a Shareable argument is an error.
 */
export function prepareArgs(task: ArgsOwner, args: unknown[], where: string, sharedMemory: boolean): PreparedArgs {
  if (plainArgs(args)) return { args, flags: 0, transfer: task.options.transfer };
  // Looked at before Shareables are swapped out, whose walk recurses: too deep a value fails here.
  const maxDepth = maxDepthFor(where);
  for (let i = 0; i < args.length; i++) {
    const problem = findUncloneable(args[i], maxDepth);
    if (problem !== undefined) {
      throw new TaskSerializationError(
        `argument ${i} of task '${task.name}' cannot be sent to a ${where}: it is ${problem} ` +
          '(only structured-cloneable values, and threadloop queues and locks, cross threads)',
      );
    }
  }
  const encoded = encodeShareables(args, sharedMemory ? undefined : `a ${where}`);
  const own = task.options.transfer;
  const transfer = encoded.transfer === undefined ? own : [...(own ?? []), ...encoded.transfer];
  return { args: encoded.value as unknown[], flags: encoded.found ? CallFlag.Shared : 0, transfer };
}

/** The common case, which needs no preparing: primitives only, and no Shareable in this thread. */
export function plainArgs(args: unknown[]): boolean {
  return !shareablesInUse() && allPrimitive(args);
}

function allPrimitive(args: unknown[]): boolean {
  for (let i = 0; i < args.length; i++) {
    const v = args[i];
    if (v !== null && (typeof v === 'object' || typeof v === 'function' || typeof v === 'symbol')) return false;
  }
  return true;
}
