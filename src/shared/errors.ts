/** Errors specific to the shared primitives (the rest live in `wire/errors.ts`). */
import { ThreadloopError } from '../wire/errors.js';

/**
 * A lock was released (or a Condition used) by a thread that does not hold it: it was not held,
 * another thread holds it, or the guard was already released. Raised instead of silently
 * unlocking someone else's critical section.
 */
export class LockNotOwnedError extends ThreadloopError {
  override readonly code = 'ERR_LOCK_NOT_OWNED';
}
