// Collects per-round samples into per-contender summaries with ratios to piscina (default) and to
// the measurement's raw reference.
import { summarize } from './stats.js';

export const BASELINE = 'piscina';

/** Empty results: measurement id → contender id → { label, samples: { key: [] }, errors, notes }. */
export function emptyResults(measurements, contenders) {
  const results = {};
  for (const m of measurements) {
    results[m.id] = {};
    for (const c of contenders.filter((c) => c.measures.includes(m.id))) {
      results[m.id][c.id] = { label: c.label, samples: {}, errors: [], notes: [] };
    }
  }
  return results;
}

export function record(results, job, outcome) {
  const entry = results[job.measurement.id][job.contender.id];
  if (!outcome.ok) {
    entry.errors.push(`round ${job.round + 1}: ${outcome.error}`);
    return;
  }
  for (const [key, value] of Object.entries(outcome.values)) (entry.samples[key] ??= []).push(value);
  for (const note of outcome.notes) if (!entry.notes.includes(note)) entry.notes.push(note);
}

const ratio = (value, reference) => (reference > 0 && Number.isFinite(value) ? value / reference : null);

/** Contender id → { samples, median, min, max, q1, q3, ratioToPiscina, ratioToReference }. */
function summarizeOutput(key, entries, reference) {
  const summaries = {};
  for (const [id, entry] of Object.entries(entries)) {
    if (entry.samples[key]?.length) summaries[id] = summarize(entry.samples[key]);
  }
  for (const summary of Object.values(summaries)) {
    summary.ratioToPiscina = ratio(summary.median, summaries[BASELINE]?.median);
    summary.ratioToReference = ratio(summary.median, summaries[reference]?.median);
  }
  return summaries;
}

/** The final shape (also what latest.json holds) for one measurement. */
export function summarizeMeasurement(measurement, entries, config) {
  const contenders = Object.fromEntries(
    Object.entries(entries).map(([id, e]) => [id, { label: e.label, notes: e.notes, errors: e.errors }]),
  );
  return {
    id: measurement.id,
    title: measurement.title(config),
    reference: measurement.reference,
    outputs: measurement.outputs.map((o) => ({
      ...o,
      byContender: summarizeOutput(o.key, entries, measurement.reference),
    })),
    contenders,
  };
}
