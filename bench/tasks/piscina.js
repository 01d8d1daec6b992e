// piscina worker: named exports are selected with `run(arg, { name })`.
import { move } from 'piscina';
import { echo, fib, noop } from './functions.js';

export { echo, fib, noop };

/** Returns the buffer by transfer rather than by clone. */
export const echoMove = (buf) => move(buf);
