/**
 * Getting a call's arguments ready to cross: Shareables become tagged records, and anything
 * structured clone would refuse fails here, at the call that passed it, naming the argument.
 */
import { TaskSerializationError } from '../core/errors.js';
import type { Task } from '../api/task.js';
import { findUncloneable } from './clone-check.js';
import { CallFlag } from './protocol.js';
import { encodeShareables, shareablesInUse } from './shareable.js';

/**
 * Returns the arguments to send and the CALL flags they need. `where` names the destination
 * ('worker thread', 'child process'); without shared memory, a Shareable argument is an error.
 */
export function prepareArgs(task: Task, args: unknown[], where: string, sharedMemory: boolean): [unknown[], number] {
  if (!shareablesInUse() && allPrimitive(args)) return [args, 0]; // the common case, allocation-free
  const encoded = encodeShareables(args, sharedMemory ? undefined : `a ${where}`);
  for (let i = 0; i < args.length; i++) {
    const problem = findUncloneable(args[i]);
    if (problem !== undefined) {
      throw new TaskSerializationError(
        `argument ${i} of task '${task.name}' cannot be sent to a ${where}: it is ${problem} ` +
          '(only structured-cloneable values, and threadloop queues and locks, cross threads)',
      );
    }
  }
  return [encoded.value as unknown[], encoded.found ? CallFlag.Shared : 0];
}

function allPrimitive(args: unknown[]): boolean {
  for (let i = 0; i < args.length; i++) {
    const v = args[i];
    if (v !== null && (typeof v === 'object' || typeof v === 'function' || typeof v === 'symbol')) return false;
  }
  return true;
}
