// The plan of a run, and how one planned job (measurements × contender × round) is executed.
import { fileURLToPath } from 'node:url';
import { runChild } from './child.js';

const MEASURE_SCRIPT = fileURLToPath(new URL('../measure.js', import.meta.url));

/**
 * Every round runs every measurement for every contender that takes part in it, each contender
 * in a fresh child process per round. Starting a child and its pool costs more than most
 * measurements, so measurements share children, one fresh pool each:
 * - `share: 'module'` (full runs): the measurements of one module (no-op all at once and in a
 *   window; 1 MiB cloned and transferred) share a child;
 * - `share: 'contender'` (quick runs): all of a contender's measurements in a round share one.
 * A measurement marked `alone` (idle memory, which a pool before it would skew) always has a
 * child of its own. The order of the measurements in a child, and of the contenders, rotates
 * from round to round, so no one always runs first (fresh page cache, cooler CPU) or right after
 * the same neighbour.
 */
export function planJobs(measurements, contenders, rounds, share = 'module') {
  const jobs = [];
  const rotate = (list, round) => {
    const shift = list.length ? round % list.length : 0;
    return [...list.slice(shift), ...list.slice(0, shift)];
  };
  const groups = share === 'contender'
    ? [measurements.filter((m) => !m.alone), ...measurements.filter((m) => m.alone).map((m) => [m])]
    : [...new Set(measurements.map((m) => m.module))].map((module) => measurements.filter((m) => m.module === module));
  for (let round = 0; round < rounds; round++) {
    for (const group of groups) {
      const taking = contenders.filter((c) => group.some((m) => c.measures.includes(m.id)));
      for (const contender of rotate(taking, round)) {
        const mine = group.filter((m) => contender.measures.includes(m.id));
        jobs.push({ round, contender, measurements: rotate(mine, round) });
      }
    }
  }
  return jobs;
}

function command(contender, measurements, config) {
  const ids = measurements.map((m) => m.id).join(',');
  const configJson = JSON.stringify(config);
  if (contender.python) {
    const script = fileURLToPath(new URL(`../${contender.python}`, import.meta.url));
    return ['python3', [script, ids, configJson]];
  }
  return [process.execPath, ['--expose-gc', MEASURE_SCRIPT, ids, contender.id, configJson]];
}

/**
 * Runs a job in a fresh child; resolves to { wallMs, outcomes } with one outcome per
 * measurement, in the job's order: { ok, values, notes } or { ok: false, error }.
 */
export async function runJob({ measurements, contender }, config) {
  const [cmd, args] = command(contender, measurements, config);
  const { json, error, wallMs } = await runChild(cmd, args, { timeoutMs: config.childTimeoutMs * measurements.length });
  const outcomes = measurements.map((m) => {
    if (error) return { ok: false, error };
    const one = json?.results?.[m.id];
    if (!one?.ok) return { ok: false, error: one?.error ?? json?.error ?? 'no result' };
    return { ok: true, values: one.values, notes: one.notes ?? [] };
  });
  return { wallMs, outcomes };
}
