// Measurements in a fresh process: `node --expose-gc bench/measure.js <measurement[,measurement…]>
// <contender> [config-json]`; the config defaults to quick mode. Each measurement makes its own
// pool. Prints a single JSON line last on stdout: { ok: true, results: { <measurement>: { ok,
// values, notes } or { ok: false, error } } }, or { ok: false, error }. run.js starts this once
// per contender per measurement module per round; it can also be run by hand.
import { findContender } from './contenders/index.js';
import { findMeasurement } from './metrics/index.js';
import { benchConfig } from './lib/config.js';

/** close() is not measured: one that hangs is noted and left behind (this process exits anyway). */
const CLOSE_TIMEOUT_MS = 1000;

function closeWithTimeout(pool, notes) {
  let timer;
  const timeout = new Promise((resolve) => {
    timer = setTimeout(() => {
      notes.push(`close() had not finished after ${CLOSE_TIMEOUT_MS} ms (not measured; abandoned)`);
      resolve();
    }, CLOSE_TIMEOUT_MS);
  });
  return Promise.race([pool.close(), timeout]).finally(() => clearTimeout(timer));
}

async function measure(measurementId, contenderId, config) {
  const measurement = findMeasurement(measurementId);
  const contender = findContender(contenderId);
  const adapter = await import(new URL(`./contenders/${contender.adapter}`, import.meta.url));
  const metric = await import(new URL(`./metrics/${measurement.module}`, import.meta.url));
  const notes = [];
  const create = async () => {
    const pool = await adapter.create({ workers: config.workers, options: contender.options ?? {} });
    notes.push(...(pool.notes ?? []));
    return { ...pool, close: () => closeWithTimeout(pool, notes) };
  };
  const values = await metric[measurement.run]({ create, config });
  return { ok: true, values, notes };
}

const [measurementIds, contenderId, configJson] = process.argv.slice(2);
let result;
try {
  const config = { ...benchConfig({ quick: true }), ...JSON.parse(configJson ?? '{}') };
  const results = {};
  for (const id of measurementIds.split(',')) {
    globalThis.gc?.(); // what the measurement before left behind is not this one's to collect
    try {
      results[id] = await measure(id, contenderId, config);
    } catch (error) {
      results[id] = { ok: false, error: error?.stack ?? String(error) };
    }
  }
  result = { ok: true, results };
} catch (error) {
  result = { ok: false, error: error?.stack ?? String(error) };
}
process.stdout.write(`\n${JSON.stringify(result)}\n`, () => {
  // Exit explicitly: a pool that failed to close must not keep this process alive.
  process.exit(result.ok && Object.values(result.results).every((r) => r.ok) ? 0 : 1);
});
