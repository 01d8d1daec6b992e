// tinypool worker: named exports are selected with `run(arg, { name })`.
import Tinypool from 'tinypool';
import { echo, fib, noop } from './functions.js';

export { echo, fib, noop };

/** Returns the buffer by transfer rather than by clone. */
export const echoMove = (buf) => Tinypool.move(buf);
