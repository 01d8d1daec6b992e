// The numbers of the README's "threadloop or piscina / tinypool / workerpool / synckit?" section,
// made from bench/results/latest.json (what `npm run bench` last wrote), never typed by hand.
//
//     node scripts/readme-comparison.mjs           # prints the table
//     node scripts/readme-comparison.mjs --write   # puts it into README.md, between its markers
//
// test/readme.test.js fails when the README's table is not what this makes of latest.json.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { formatNumber } from '../bench/lib/format.js';

const root = new URL('..', import.meta.url);
export const BEGIN = '<!-- comparison:begin (scripts/readme-comparison.mjs writes this table from bench/results/latest.json) -->';
export const END = '<!-- comparison:end -->';

/** The columns: the bench's contender ids, and their headings. */
const columns = [
  ['threadloop', 'threadloop'],
  ['piscina', 'piscina'],
  ['piscina-c16', 'piscina, 16 per worker'],
  ['tinypool-c16', 'tinypool, 16 per worker'],
  ['workerpool', 'workerpool'],
  ['synckit', 'synckit'],
];

/** The rows: a measurement, which of its outputs, and how to label and format it. */
const rows = [
  { id: 'noop-burst', output: 0, label: 'no-op tasks/s, 20k submitted at once' },
  { id: 'noop-window', output: 0, label: 'no-op tasks/s, 1k in flight' },
  { id: 'roundtrip', output: 0, label: 'sequential round trip, p50 µs' },
  { id: 'roundtrip', output: 1, label: 'sequential round trip, p99 µs' },
  { id: 'sync', output: 0, label: 'blocking call from the main thread, p50 µs (`resultSync`)' },
  { id: 'cpu', output: 0, label: 'CPU-bound speed-up, 32 × fib(27)', suffix: '×' },
  { id: 'payload-clone', output: 0, label: '1 MiB buffer cloned both ways, MiB/s' },
  { id: 'payload-transfer', output: 0, label: '1 MiB buffer transferred both ways, MiB/s' },
  { id: 'startup', output: 0, label: 'new pool to first result, ms' },
  { id: 'startup', output: 1, label: 'RSS of an idle 2-worker pool, MiB' },
];

/** The markdown table (with its one-line caption) for a bench run. */
export function comparisonTable(run) {
  const m = run.machine;
  const caption =
    `Medians of ${run.config.rounds} rounds of \`npm run bench\` (${run.config.mode} mode, ${run.config.workers} workers, ` +
    `task \`x => x\` unless said) on ${m.cores} × ${m.cpu}, Node ${m.node}, ${m.date.slice(0, 10)}; ` +
    'the best of each row in bold, — where a library has no such call. `bench/results/latest.json` has every sample.';
  const lines = [caption, '', `| | ${columns.map(([, title]) => title).join(' | ')} |`, `|---|${columns.map(() => '---:').join('|')}|`];
  for (const row of rows) {
    const measurement = run.measurements.find((m) => m.id === row.id);
    if (!measurement) throw new Error(`bench/results/latest.json has no '${row.id}' measurement`);
    const output = measurement.outputs[row.output];
    const values = columns.map(([id]) => output.byContender[id]?.median);
    const present = values.filter((v) => v !== undefined);
    const best = output.better === 'higher' ? Math.max(...present) : Math.min(...present);
    const cells = values.map((v) => (v === undefined ? '—' : v === best ? `**${formatNumber(v)}${row.suffix ?? ''}**` : `${formatNumber(v)}${row.suffix ?? ''}`));
    lines.push(`| ${row.label} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** README.md with its comparison table replaced by `table`. */
export function withTable(readme, table) {
  const start = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README.md has no ${BEGIN} … ${END} block`);
  return `${readme.slice(0, start + BEGIN.length)}\n${table}\n${readme.slice(end)}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const run = JSON.parse(readFileSync(new URL('bench/results/latest.json', root), 'utf8'));
  const table = comparisonTable(run);
  if (process.argv.includes('--write')) {
    const readme = new URL('README.md', root);
    writeFileSync(readme, withTable(readFileSync(readme, 'utf8'), table));
  } else {
    console.log(table);
  }
}
