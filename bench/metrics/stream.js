// Streamed results: one task yields `streamChunks` small integers, consumed with for await.
// threadloop streams an async generator (credit backpressure, highWaterMark 16); the reference
// is a raw worker posting the same items to a MessagePort, one message each, with no flow control.
import { now, withPool } from '../lib/harness.js';

export function stream({ create, config }) {
  return withPool(create, async (pool) => {
    await pool.drainStream(config.streamWarmup); // start the worker, compile the paths
    const start = now();
    const received = await pool.drainStream(config.streamChunks);
    const seconds = (now() - start) / 1000;
    if (received !== config.streamChunks) throw new Error(`received ${received} of ${config.streamChunks} chunks, in order`);
    return { chunksPerSec: config.streamChunks / seconds };
  });
}
