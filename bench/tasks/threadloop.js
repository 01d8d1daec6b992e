// threadloop task module: plain exports, addressed as `taskModule(url).<name>`.
import * as threadloop from 'threadloop';
import { echo, fib, noop } from './functions.js';

export { echo, fib, noop };

// threadloop may offer a way to return a result by transfer (`move`, like piscina's); until it
// does, echoMove falls back to a cloned result and the contender says so in its notes.
const move = typeof threadloop.move === 'function' ? threadloop.move : (value) => value;

/** Returns the buffer by transfer when threadloop supports it, by clone otherwise. */
export const echoMove = (buf) => move(buf);
