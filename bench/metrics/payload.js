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

/** `payloadInFlight` lanes, each cycling its own buffer, until `tasks` calls are done. */
async function throughput(call, config, tasks) {
  const buffers = Array.from({ length: config.payloadInFlight }, () => newBuffer(config.payloadBytes));
  let started = 0;
  const lane = async (buffer) => {
    while (started++ < tasks) buffer = await call(buffer);
  };
  const start = now();
  await Promise.all(buffers.map(lane));
  const seconds = (now() - start) / 1000;
  return (tasks * config.payloadBytes) / MiB / seconds;
}

function payload({ create, config }, byTransfer) {
  return withPool(create, async (pool) => {
    const call = caller(pool, byTransfer, config.payloadBytes);
    await submitAll(pool, config.workers * 4); // start the workers
    // A transfer moves no bytes, so it takes many more calls to time it; both are timed after
    // one untimed run of the same workload.
    const tasks = byTransfer ? config.transferTasks : config.payloadTasks;
    await throughput(call, config, tasks);
    let spare = newBuffer(config.payloadBytes);

    const mibPerSec = await throughput(call, config, tasks);
    const latencies = await sequentialLatencies(config.payloadSequential, async () => {
      spare = await call(spare);
    });
    return { mibPerSec, p50Us: latencyPercentiles(latencies).p50Us };
  });
}
