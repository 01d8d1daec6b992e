// synckit adapter: synchronous calls only, into its single worker thread.
import { createSyncFn } from 'synckit';

export function create() {
  const call = createSyncFn(new URL('../tasks/synckit.js', import.meta.url));
  return {
    runSync: (_name, arg) => call(arg),
    // synckit's worker is unref'ed and lives until the process exits; there is no close.
    close: async () => {},
    notes: ['one worker (synckit has no pool)'],
  };
}
