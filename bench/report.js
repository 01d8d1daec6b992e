// The human-readable report printed on stdout: one table per measured quantity, then
// bench/shared.js's rows, then the targets.
import { BASELINE } from './lib/aggregate.js';
import { firstLine, formatNumber, formatRatio, renderTable } from './lib/format.js';

const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;

function header(run) {
  const m = run.machine;
  return [
    `threadloop bench — ${run.config.mode} mode, ${plural(run.config.rounds, 'round')}, ${run.config.workers} workers`,
    `${m.node} on ${m.cores} × ${m.cpu}, ${m.platform}, ${m.date}`,
    `Load average (1 min): ${m.loadAverageAtStart[0].toFixed(2)} at start, ${m.loadAverageAtEnd[0].toFixed(2)} at end.`,
    'Each value: median over rounds (one fresh process per contender per round); spread: min–max.',
    `Ratios: contender median ÷ ${BASELINE} (default) median, and ÷ the raw worker_threads reference.`,
  ].join('\n');
}

function contenderRow(meta, summary, rounds) {
  if (!summary && !meta.errors.length) return [meta.label, 'n/a'];
  if (!summary) return [meta.label, `error: ${firstLine(meta.errors[0])}`];
  const failed = meta.errors.length ? ` (${meta.errors.length}/${rounds} rounds failed)` : '';
  return [
    meta.label,
    formatNumber(summary.median),
    `${formatNumber(summary.min)}–${formatNumber(summary.max)}`,
    formatRatio(summary.ratioToPiscina),
    formatRatio(summary.ratioToReference) + failed,
  ];
}

function outputSection(measurement, output, rounds) {
  const title = `${measurement.title} — ${output.unit}, ${output.better} is better`;
  const head = ['contender', 'median', 'spread', `÷${BASELINE}`, `÷${measurement.reference}`];
  const rows = Object.entries(measurement.contenders).map(([id, meta]) =>
    contenderRow(meta, output.byContender[id], rounds),
  );
  return `${title}\n${renderTable(head, rows)}`;
}

function notesOf(measurement) {
  return Object.values(measurement.contenders)
    .flatMap((meta) => meta.notes.map((note) => `  note — ${meta.label}: ${note}`))
    .join('\n');
}

function sharedSection(shared) {
  const title = 'Shared primitives (bench/shared.js): ThreadQueue vs MessagePort, Mutex';
  if (!shared) return `${title}\n  not run (--only)`;
  if (shared.skipped) return `${title}\n  skipped: ${shared.skipped}`;
  if (shared.error) return `${title}\n  error: ${firstLine(shared.error, 200)}`;
  const keys = [...new Set(shared.rows.flatMap((row) => Object.keys(row)))];
  const cell = (v) => (typeof v === 'number' ? formatNumber(v) : typeof v === 'object' ? JSON.stringify(v) : String(v ?? ''));
  return `${title}\n${renderTable(keys, shared.rows.map((row) => keys.map((k) => cell(row[k]))))}`;
}

function targetsSection(targets) {
  const mark = (pass) => (pass === true ? 'PASS' : pass === false ? 'FAIL' : 'n/a ');
  const lines = targets.map((t) => `  ${mark(t.pass)}  ${t.name}: ${t.detail}`);
  const met = targets.filter((t) => t.pass === true).length;
  return `Targets of issues 7 and 18 for threadloop (${met}/${targets.length} met)\n${lines.join('\n')}`;
}

export function renderReport(run) {
  const sections = [header(run)];
  for (const measurement of run.measurements) {
    for (const output of measurement.outputs) sections.push(outputSection(measurement, output, run.config.rounds));
    const notes = notesOf(measurement);
    if (notes) sections[sections.length - 1] += `\n${notes}`;
  }
  sections.push(sharedSection(run.shared));
  sections.push(targetsSection(run.targets));
  sections.push(`Run time: ${(run.durationMs / 1000).toFixed(0)} s.`);
  return `${sections.join('\n\n')}\n`;
}
