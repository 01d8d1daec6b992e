// The README's generated parts, never typed by hand: the numbers of "threadloop or piscina /
// tinypool / workerpool / synckit?" and of "Performance" (the latest run's medians with their
// spread, its targets and how far each is from its bound, and the targets of the recent runs),
// made from bench/results/latest.json and history.jsonl (what `npm run bench` last wrote), and
// the list of what does not work on Deno and Bun, made from scripts/test-runtime.mjs (which CI
// checks against the runtimes themselves).
//
//     node scripts/readme-tables.mjs           # prints both
//     node scripts/readme-tables.mjs --write   # puts them into README.md, between their markers
//
// test/readme.test.js fails when the README's tables are not what this makes.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { formatNumber } from '../bench/lib/format.js';
import { performanceBlock } from './readme-performance.mjs';
import { known } from './test-runtime.mjs';

const root = new URL('..', import.meta.url);
/** The README's generated blocks: each between a begin and an end marker. */
export const blocks = {
  comparison: '(scripts/readme-tables.mjs writes this table from bench/results/latest.json)',
  performance: '(scripts/readme-tables.mjs writes this from bench/results/latest.json and history.jsonl)',
  runtimes: '(scripts/readme-tables.mjs writes this list from scripts/test-runtime.mjs)',
};
const begin = (block) => `<!-- ${block}:begin ${blocks[block]} -->`;
const end = (block) => `<!-- ${block}:end -->`;

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
  { id: 'noop-burst', output: 0, label: (c) => `no-op tasks/s, bursts of ${c.noopTasks / 1000}k submitted at once` },
  { id: 'noop-window', output: 0, label: 'no-op tasks/s, 1k in flight' },
  { id: 'roundtrip', output: 0, label: 'sequential round trip, p50 µs' },
  { id: 'roundtrip', output: 1, label: 'sequential round trip, p99 µs' },
  { id: 'sync', output: 0, label: 'blocking call from the main thread, p50 µs (`resultSync`)' },
  { id: 'cpu', output: 0, label: (c) => `CPU-bound speed-up, ${c.cpuTasks} × fib(${c.fibN})`, suffix: '×' },
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
    const label = typeof row.label === 'function' ? row.label(run.config) : row.label;
    lines.push(`| ${label} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** The list of tests Deno and Bun do not pass, with the runtimes' upstream issues. */
export function runtimeList() {
  const names = { deno: 'Deno 2.9', bun: 'Bun 1.4' };
  const link = (issue) => {
    const [repo, number] = issue.split('#');
    return `[${issue}](https://github.com/${repo}/issues/${number})`;
  };
  const lines = [];
  for (const [runtime, items] of Object.entries(known)) {
    for (const k of items) {
      const issue = k.issue ? ` (${link(k.issue)})` : k.why.includes('tests Node.js itself') ? '' : ' (no upstream issue found yet)';
      lines.push(`- **${names[runtime]}**, “${k.test}”: ${k.why}${issue}.`);
    }
  }
  return lines.join('\n');
}

/** README.md with `block` replaced by `text`. */
export function withBlock(readme, block, text) {
  const start = readme.indexOf(begin(block));
  const stop = readme.indexOf(end(block));
  if (start < 0 || stop < start) throw new Error(`README.md has no ${begin(block)} … ${end(block)} block`);
  return `${readme.slice(0, start + begin(block).length)}\n${text}\n${readme.slice(stop)}`;
}

/** bench/results/history.jsonl: one line per run, oldest first (none if the file is missing). */
export function readHistory() {
  const file = new URL('bench/results/history.jsonl', root);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line));
}

/** README.md with every generated block as it should be. */
export function generated(readme, run, history = readHistory()) {
  let out = withBlock(readme, 'comparison', comparisonTable(run));
  out = withBlock(out, 'performance', performanceBlock(run, history));
  return withBlock(out, 'runtimes', runtimeList());
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const run = JSON.parse(readFileSync(new URL('bench/results/latest.json', root), 'utf8'));
  if (process.argv.includes('--write')) {
    const readme = new URL('README.md', root);
    writeFileSync(readme, generated(readFileSync(readme, 'utf8'), run));
  } else {
    console.log(`${comparisonTable(run)}\n\n${performanceBlock(run, readHistory())}\n\n${runtimeList()}`);
  }
}
