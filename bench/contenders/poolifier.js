// poolifier adapter: a FixedThreadPool; options from the registry (tasks queue, strategy) pass
// straight through.
import { FixedThreadPool } from 'poolifier';
import { fileURLToPath } from 'node:url';

export function create({ workers, options }) {
  const file = fileURLToPath(new URL('../tasks/poolifier.js', import.meta.url));
  const pool = new FixedThreadPool(workers, file, options);
  return {
    run: (name, arg, transfer) => pool.execute(arg, name, undefined, transfer),
    close: () => pool.destroy(),
    notes: ['results cannot be transferred back: echoMove returns a clone'],
  };
}
