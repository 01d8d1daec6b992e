// The picture of a run: threadloop's ratio to each peer and to each raw reference, metric by
// metric, as a grid of coloured cells — hand-written SVG, no dependency. run.js writes it beside
// the results JSON (bench/results/latest.svg) and the README shows it.
import { TARGETS } from '../targets.js';
import { formatNumber } from './format.js';

/** The rows: a measurement's output, labelled. */
const ROWS = [
  { id: 'noop-burst', key: 'opsPerSec', label: 'no-op, all at once', unit: 'tasks/s' },
  { id: 'noop-window', key: 'opsPerSec', label: 'no-op, 1k in flight', unit: 'tasks/s' },
  { id: 'roundtrip', key: 'p50Us', label: 'round trip p50', unit: 'µs' },
  { id: 'sync', key: 'p50Us', label: 'resultSync p50', unit: 'µs' },
  { id: 'sync-worker', key: 'p50Us', label: 'resultSync from a worker p50', unit: 'µs' },
  { id: 'cpu', key: 'speedup', label: 'CPU-bound speed-up', unit: '×' },
  { id: 'payload-clone', key: 'mibPerSec', label: '1 MiB cloned', unit: 'MiB/s' },
  { id: 'payload-transfer', key: 'mibPerSec', label: '1 MiB transferred', unit: 'MiB/s' },
  { id: 'stream', key: 'chunksPerSec', label: 'streamed chunks', unit: '/s' },
  { id: 'startup', key: 'startMs', label: 'start to first result', unit: 'ms' },
  { id: 'startup', key: 'idleRssMiB', label: 'idle RSS of 2 workers', unit: 'MiB' },
];

/** The columns: peers, then the raw references (the physical limits), with short headings. */
const COLUMNS = [
  ['piscina', 'piscina'],
  ['piscina-c16', 'piscina c16'],
  ['tinypool-c16', 'tinypool c16'],
  ['workerpool', 'workerpool'],
  ['poolifier-q16', 'poolifier q16'],
  ['synckit', 'synckit'],
  ['python', 'Python'],
  ['raw-message', 'raw message'],
  ['raw-batch', 'raw batched'],
  ['raw-sab', 'raw SAB'],
];
const FIRST_RAW = COLUMNS.findIndex(([id]) => id.startsWith('raw-'));

const LABEL_W = 250;
const CELL_W = 92;
const CELL_H = 34;
const TOP = 100;

const escape = (text) => String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * How many times better threadloop's median is than `other` (higher is better: ours ÷ theirs;
 * lower is better: theirs ÷ ours), or undefined.
 */
function advantage(output, other) {
  const mine = output.byContender.threadloop?.median;
  const theirs = output.byContender[other]?.median;
  if (!(mine > 0) || !(theirs > 0)) return undefined;
  return output.better === 'higher' ? mine / theirs : theirs / mine;
}

/** Green where threadloop is ahead, red where behind, deeper the further (log scale, to 30×). */
function colour(ratio) {
  const t = Math.min(1, Math.abs(Math.log10(ratio)) / Math.log10(30));
  const mix = (a, b) => Math.round(a + (b - a) * t);
  const [r, g, b] = ratio >= 1 ? [mix(236, 46), mix(247, 139), mix(236, 87)] : [mix(253, 203), mix(236, 52), mix(234, 52)];
  return `rgb(${r},${g},${b})`;
}

const ratioText = (r) => `${r >= 100 ? r.toFixed(0) : r >= 10 ? r.toFixed(1) : r.toFixed(2)}×`;

/**
 * The targets on a cell (measurement, output, contender), as the advantage they ask for, with
 * whether this run met them. A target with an offset (idle RSS: raw + 1 MiB) asks for no fixed
 * ratio: its cell is outlined, without a number.
 */
function targetsOn(run, id, key, contender) {
  return TARGETS.filter((t) => t.m === id && t.key === key && t.vs === contender && t.vsM === undefined).map((t) => ({
    need: t.offset ? undefined : t.op === '>=' ? t.factor : 1 / t.factor,
    pass: run.targets.find((r) => r.name === t.name)?.pass,
  }));
}

/** The SVG of `run` (a results JSON as run.js writes it). */
export function ratioChart(run) {
  const rows = ROWS.map((row) => {
    const output = run.measurements.find((m) => m.id === row.id)?.outputs.find((o) => o.key === row.key);
    return output === undefined ? undefined : { ...row, output };
  }).filter(Boolean);
  const width = LABEL_W + COLUMNS.length * CELL_W + 20;
  const height = TOP + rows.length * CELL_H + 80;
  const met = run.targets.filter((t) => t.pass === true).length;
  const m = run.machine;
  const groupY = TOP - 32;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="10" y="20" font-size="15" font-weight="600">threadloop against each peer and the raw references: how many times better (median of ${run.config.rounds} rounds)</text>`,
    `<text x="10" y="38" fill="#555">${escape(`${run.config.mode} run, ${m.date.slice(0, 10)}, ${m.cores} × ${m.cpu}, Node ${m.node}, load average ${m.loadAverageAtStart[0].toFixed(1)} at the start; ${met} of ${run.targets.length} targets met.`)}</text>`,
    '<text x="10" y="56" fill="#555">Green: threadloop ahead (deeper: further ahead, to 30× and beyond); red: behind. threadloop\'s own median after each metric.</text>',
    `<text x="${LABEL_W + FIRST_RAW * CELL_W + (COLUMNS.length - FIRST_RAW) * CELL_W / 2}" y="${groupY}" text-anchor="middle" fill="#555">raw worker_threads (the limits)</text>`,
    `<text x="${LABEL_W + FIRST_RAW * CELL_W / 2}" y="${groupY}" text-anchor="middle" fill="#555">peers</text>`,
  ];
  COLUMNS.forEach(([, title], i) => {
    out.push(`<text x="${LABEL_W + i * CELL_W + CELL_W / 2}" y="${TOP - 10}" text-anchor="middle" font-weight="600">${escape(title)}</text>`);
  });
  rows.forEach((row, r) => {
    const y = TOP + r * CELL_H;
    const mine = row.output.byContender.threadloop;
    const value = mine === undefined ? '' : `: ${formatNumber(mine.median)}${row.unit === '×' ? '' : ' '}${row.unit}`;
    out.push(`<text x="10" y="${y + CELL_H / 2 + 4}">${escape(row.label + value)}</text>`);
    COLUMNS.forEach(([id], i) => {
      const x = LABEL_W + i * CELL_W;
      const ratio = advantage(row.output, id);
      const fill = ratio === undefined ? '#f4f4f4' : colour(ratio);
      out.push(`<rect x="${x + 1}" y="${y + 1}" width="${CELL_W - 2}" height="${CELL_H - 2}" fill="${fill}" rx="3"/>`);
      const dark = ratio !== undefined && Math.abs(Math.log10(ratio)) > Math.log10(30) * 0.55;
      const targets = targetsOn(run, row.id, row.key, id);
      if (ratio !== undefined) {
        const ty = targets.length > 0 ? y + 15 : y + CELL_H / 2 + 4;
        out.push(`<text x="${x + CELL_W / 2}" y="${ty}" text-anchor="middle" fill="${dark ? '#fff' : '#111'}">${ratioText(ratio)}</text>`);
      }
      if (targets.length > 0) {
        const met = targets.every((t) => t.pass === true);
        const needs = targets.map((t) => (t.need === undefined ? 'target' : `target ≥${+t.need.toFixed(2)}×`)).join(', ');
        out.push(
          `<rect x="${x + 1.5}" y="${y + 1.5}" width="${CELL_W - 3}" height="${CELL_H - 3}" fill="none" rx="3" stroke="${met ? '#1b5e20' : '#b71c1c'}" stroke-width="2"${met ? '' : ' stroke-dasharray="4 2"'}/>`,
          `<text x="${x + CELL_W / 2}" y="${y + 28}" text-anchor="middle" font-size="9" fill="${dark ? '#fff' : '#333'}">${escape(needs)}</text>`,
        );
      }
    });
  });
  const x0 = LABEL_W + FIRST_RAW * CELL_W;
  out.push(`<line x1="${x0}" y1="${groupY - 12}" x2="${x0}" y2="${TOP + rows.length * CELL_H}" stroke="#999" stroke-dasharray="3 3"/>`);
  const foot = TOP + rows.length * CELL_H + 22;
  out.push(
    `<text x="10" y="${foot}" fill="#555">Each cell: threadloop's median ÷ theirs where higher is better, theirs ÷ threadloop's where lower is better; grey: not measured for them.</text>`,
    `<text x="10" y="${foot + 18}" fill="#555">Outlined: a target of issues 7 and 18, solid where this run met it, dashed where it did not.</text>`,
    `<text x="10" y="${foot + 36}" fill="#555">Written by npm run bench from bench/results/latest.json: every sample is there.</text>`,
    '</svg>',
  );
  return `${out.join('\n')}\n`;
}
