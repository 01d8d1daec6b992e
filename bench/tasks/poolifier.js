// poolifier worker: a ThreadWorker with named task functions, called with `execute(arg, name)`.
import { ThreadWorker } from 'poolifier';
import { echo, fib, noop } from './functions.js';

// poolifier has no way to transfer a result back, so echoMove returns a clone like echo.
export default new ThreadWorker({ noop, fib, echo, echoMove: echo });
