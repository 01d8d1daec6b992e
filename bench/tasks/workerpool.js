// workerpool worker: methods are registered by name and called with `pool.exec(name, [arg])`.
import workerpool from 'workerpool';
import { echo, fib, noop } from './functions.js';

workerpool.worker({
  noop,
  fib,
  echo,
  // Returns the buffer by transfer rather than by clone.
  echoMove: (buf) => new workerpool.Transfer(buf, [buf]),
});
