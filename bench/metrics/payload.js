// 1 MiB payloads: a task that returns its ArrayBuffer argument, with the buffer cloned both ways
// or transferred both ways (where the library can transfer a result back).
import { MiB, latencyPercentiles, now, sequentialLatencies, submitAll, withPool } from '../lib/harness.js';

export const clone = (context) => payload(context, false);
export const transfer = (context) => payload(context, true);

function newBuffer(bytes) {
  const buffer = new ArrayBuffer(bytes);
  new Uint8Array(buffer).fill(7); // touch every page, so the copy is of real memory
  return buffer;
}

/** Sends `buffer`, resolves to the buffer to use next (the returned one, when transferring). */
function caller(pool, byTransfer, bytes) {
  return async (buffer) => {
    const result = await (byTransfer ? pool.run('echoMove', buffer, [buffer]) : pool.run('echo', buffer));
    if (!(result instanceof ArrayBuffer) || result.byteLength !== bytes) {
      throw new Error(`echo returned ${Object.prototype.toString.call(result)}, not the buffer`);
    }
    return byTransfer ? result : buffer;
  };
}

/**
 * `payloadInFlight` lanes, each cycling its own buffer, for `ms` milliseconds (each lane then
 * finishes the call it is in): a fixed time, not a fixed count, so that a fast contender is
 * timed over as long a run as a slow one. Resolves to MiB/s.
 */
async function throughput(call, config, ms) {
  const buffers = Array.from({ length: config.payloadInFlight }, () => newBuffer(config.payloadBytes));
  const start = now();
  const end = start + ms;
  let calls = 0;
  const lane = async (buffer) => {
    while (now() < end) {
      buffer = await call(buffer);
      calls++;
    }
  };
  await Promise.all(buffers.map(lane));
  const seconds = (now() - start) / 1000;
  return (calls * config.payloadBytes) / MiB / seconds;
}

function payload({ create, config }, byTransfer) {
  return withPool(create, async (pool) => {
    const call = caller(pool, byTransfer, config.payloadBytes);
    await submitAll(pool, config.workers * 4); // start the workers
    await throughput(call, config, config.payloadWarmupMs); // untimed: compile, grow the heap
    let spare = newBuffer(config.payloadBytes);
    const mibPerSec = await throughput(call, config, config.payloadMs);
    const latencies = await sequentialLatencies(config.payloadSequential, async () => {
      spare = await call(spare);
    });
    return { mibPerSec, p50Us: latencyPercentiles(latencies).p50Us };
  });
}
