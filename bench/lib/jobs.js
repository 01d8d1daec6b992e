// The plan of a run, and how one planned job (measurement × contender × round) is executed.
import { fileURLToPath } from 'node:url';
import { runChild } from './child.js';

const MEASURE_SCRIPT = fileURLToPath(new URL('../measure.js', import.meta.url));

/**
 * Every round runs every measurement for every contender that takes part in it. Within a
 * measurement the contender order rotates from round to round, so no one always runs first
 * (fresh page cache, cooler CPU) or right after the same neighbour.
 */
export function planJobs(measurements, contenders, rounds) {
  const jobs = [];
  for (let round = 0; round < rounds; round++) {
    for (const measurement of measurements) {
      const taking = contenders.filter((c) => c.measures.includes(measurement.id));
      const shift = taking.length ? round % taking.length : 0;
      for (const contender of [...taking.slice(shift), ...taking.slice(0, shift)]) {
        jobs.push({ round, measurement, contender });
      }
    }
  }
  return jobs;
}

function command(contender, measurement, config) {
  const configJson = JSON.stringify(config);
  if (contender.python) {
    const script = fileURLToPath(new URL(`../${contender.python}`, import.meta.url));
    return ['python3', [script, measurement.id, configJson]];
  }
  return [process.execPath, ['--expose-gc', MEASURE_SCRIPT, measurement.id, contender.id, configJson]];
}

/** Runs a job in a fresh child; resolves to { ok, values, notes, error, wallMs }. */
export async function runJob({ measurement, contender }, config) {
  const [cmd, args] = command(contender, measurement, config);
  const { json, error, wallMs } = await runChild(cmd, args, { timeoutMs: config.childTimeoutMs });
  if (error) return { ok: false, error, wallMs };
  if (!json?.ok) return { ok: false, error: json?.error ?? 'no result', wallMs };
  return { ok: true, values: json.values, notes: json.notes ?? [], wallMs };
}
