/**
 * Errors across the wire. Structured clone keeps an Error's message and stack but loses its own
 * properties (`code`, `errno`, …) and flattens classes, so errors travel as plain records and
 * are rebuilt on arrival: built-in classes come back as themselves, threadloop's as themselves,
 * other classes as an `Error` carrying the original `name`. The `cause` chain and
 * AggregateError's `errors` travel too. A thrown value that is not an Error arrives as thrown.
 */
import { threadloopErrorClasses } from './errors.js';

/** An error as sent: either a rebuilt Error, or a thrown non-Error value. */
export type EncodedError =
  | {
      readonly error: true;
      readonly ctor: string;
      readonly name: string;
      readonly message: string;
      readonly stack: string | undefined;
      readonly props: Record<string, unknown> | undefined;
      readonly cause: EncodedError | undefined;
      readonly hasCause: boolean;
      readonly errors: EncodedError[] | undefined;
    }
  | { readonly error: false; readonly value: unknown };

const builtins: Record<string, ErrorConstructor> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

// Carried on their own (name, message, stack) or rebuilt (cause, errors).
const skipProps = new Set(['name', 'stack', 'message', 'cause', 'errors']);

/** Turns anything thrown into a record that survives structured clone. */
export function encodeError(thrown: unknown, depth = 0): EncodedError {
  if (!(thrown instanceof Error) || depth > 16) {
    return { error: false, value: cloneable(thrown) ? thrown : String(thrown) };
  }
  let props: Record<string, unknown> | undefined;
  for (const key of Object.keys(thrown)) {
    if (skipProps.has(key)) continue;
    const v = (thrown as unknown as Record<string, unknown>)[key];
    (props ??= {})[key] = cloneable(v) ? v : String(v);
  }
  const hasCause = 'cause' in thrown;
  return {
    error: true,
    ctor: constructorName(thrown),
    name: thrown.name,
    message: thrown.message,
    stack: thrown.stack,
    props,
    hasCause,
    cause: hasCause ? encodeError(thrown.cause, depth + 1) : undefined,
    errors:
      thrown instanceof AggregateError && Array.isArray(thrown.errors)
        ? thrown.errors.map((e: unknown) => encodeError(e, depth + 1))
        : undefined,
  };
}

/**
 * Rebuilds what `encodeError` made. `callerStack`, when given, is appended to the stack so the
 * error shows both where it was thrown (on the other thread) and where the call was made.
 */
export function decodeError(encoded: EncodedError, callerStack?: string): unknown {
  if (!encoded.error) return encoded.value;
  try {
    return rebuild(encoded, callerStack);
  } catch {
    // Whatever went wrong rebuilding it, an error from another thread must never crash this one.
    const error = new Error(String(encoded.message));
    setName(error, String(encoded.name));
    define(error, 'stack', encoded.stack);
    return error;
  }
}

function rebuild(encoded: Extract<EncodedError, { error: true }>, callerStack: string | undefined): Error {
  const error = construct(encoded);
  if (encoded.props !== undefined) {
    for (const [key, value] of Object.entries(encoded.props)) {
      try {
        define(error, key, value, true);
      } catch {
        // a property the rebuilt class does not allow (a getter of its own): keep the class's
      }
    }
  }
  if (encoded.hasCause) define(error, 'cause', decodeError(encoded.cause!));
  if (encoded.errors !== undefined) define(error, 'errors', encoded.errors.map((e) => decodeError(e)));
  let stack = encoded.stack;
  if (callerStack !== undefined) {
    const frames = callerStack.slice(callerStack.indexOf('\n') + 1);
    stack = `${stack ?? `${encoded.name}: ${encoded.message}`}\n    --- called from another thread ---\n${frames}`;
  }
  define(error, 'stack', stack);
  return error;
}

function define(error: Error, key: string, value: unknown, enumerable = false): void {
  Object.defineProperty(error, key, { value, writable: true, configurable: true, enumerable });
}

function construct(encoded: Extract<EncodedError, { error: true }>): Error {
  // An abort on the other side (a DOMException 'AbortError', say) arrives as threadloop's own.
  if (encoded.name === 'AbortError' && encoded.ctor === 'Error') {
    return Reflect.construct(Error, [encoded.message], threadloopErrorClasses.AbortError) as Error;
  }
  if (encoded.ctor === 'AggregateError') return new AggregateError([], encoded.message);
  const builtin = builtins[encoded.ctor];
  if (builtin !== undefined) {
    const error = new builtin(encoded.message);
    if (encoded.name !== builtin.name) setName(error, encoded.name);
    return error;
  }
  const ours = (threadloopErrorClasses as Record<string, new (...a: never[]) => Error>)[encoded.ctor];
  if (ours !== undefined) return Reflect.construct(Error, [encoded.message], ours) as Error;
  const error = new Error(encoded.message);
  setName(error, encoded.name);
  return error;
}

function setName(error: Error, name: string): void {
  Object.defineProperty(error, 'name', { value: name, writable: true, configurable: true, enumerable: false });
}

function constructorName(error: Error): string {
  for (let proto = Object.getPrototypeOf(error); proto !== null; proto = Object.getPrototypeOf(proto)) {
    const name = proto.constructor?.name;
    if (typeof name === 'string' && (name in builtins || name === 'AggregateError' || name in threadloopErrorClasses)) {
      // A user subclass of a built-in keeps its own name but comes back as the nearest built-in.
      return name;
    }
  }
  return 'Error';
}

function cloneable(value: unknown): boolean {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function' && typeof value !== 'symbol')) {
    return true;
  }
  try {
    structuredClone(value);
    return true;
  } catch {
    return false;
  }
}
