// `npm run bench`: threadloop against piscina, tinypool, workerpool, poolifier, synckit, Python's
// asyncio.to_thread and raw worker_threads. Every measurement runs in a fresh child process
// (measure.js, or python/to_thread.py), contenders alternate within each round, and the report
// gives medians with their spread. Progress goes to stderr, the report to stdout, and the full
// data to bench/results/latest.json.
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { selectContenders } from './contenders/index.js';
import { MEASUREMENTS } from './metrics/index.js';
import { emptyResults, record, summarizeMeasurement } from './lib/aggregate.js';
import { USAGE, parseArgs } from './lib/cli.js';
import { ratioChart } from './lib/chart.js';
import { benchConfig } from './lib/config.js';
import { formatNumber } from './lib/format.js';
import { planJobs, runJob } from './lib/jobs.js';
import { machineInfo } from './lib/machine.js';
import { runSharedSuite } from './lib/shared-suite.js';
import { renderDistributed, runDistributedSuite } from './lib/distributed-suite.js';
import { renderReport } from './report.js';
import { evaluateTargets } from './targets.js';

const ROOT = new URL('../', import.meta.url);
const DEFAULT_OUT = fileURLToPath(new URL('results/latest.json', import.meta.url));
// A run narrowed by --only or --contenders does not replace latest.json, which the README is
// made from (a narrowed run overwrote it twice while we worked on one section).
const PARTIAL_OUT = fileURLToPath(new URL('results/partial.json', import.meta.url));

const progress = (line) => process.stderr.write(`${line}\n`);

function describe(outcome, measurement) {
  if (!outcome.ok) return `ERROR ${outcome.error.split('\n')[0].slice(0, 100)}`;
  const main = measurement.outputs[0];
  return `${formatNumber(outcome.values[main.key])} ${main.unit}`;
}

async function runJobs(jobs, results, config) {
  for (const [index, job] of jobs.entries()) {
    const { wallMs, outcomes } = await runJob(job, config);
    const where = `[${index + 1}/${jobs.length}] round ${job.round + 1}/${config.rounds}`;
    const took = `(${(wallMs / 1000).toFixed(1)} s)`;
    job.measurements.forEach((measurement, i) => {
      record(results, { ...job, measurement }, outcomes[i]);
      progress(`${where} ${measurement.id.padEnd(16)} ${job.contender.id.padEnd(14)} ${describe(outcomes[i], measurement)} ${i === 0 ? took : ''}`);
    });
  }
}

/** Python is a contender only when python3 runs here. */
function availableContenders(ids, machine, quick) {
  const contenders = selectContenders(ids, quick);
  if (machine.python) return contenders;
  if (contenders.some((c) => c.python)) progress('python3 not found: skipping the Python contender');
  return contenders.filter((c) => !c.python);
}

/** What history.jsonl keeps of a run: when, where, how loaded, and each target's outcome. */
function historyLine(run) {
  const { machine: m, config } = run;
  return {
    date: m.date,
    commit: m.threadloopCommit,
    mode: config.mode,
    only: run.only,
    narrowed: run.narrowed,
    rounds: config.rounds,
    cpu: `${m.cores} × ${m.cpu}`,
    node: m.node,
    load: [m.loadAverageAtStart[0], m.loadAverageAtEnd[0]],
    seconds: Math.round(run.durationMs / 1000),
    targets: [...run.targets, ...(run.distributed?.targets ?? [])].map((t) => ({ name: t.name, pass: t.pass, margin: t.margin, detail: t.detail })),
  };
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  if (options.help) return void console.log(USAGE);
  const started = performance.now();
  const config = benchConfig(options);
  const machine = machineInfo(ROOT);
  const contenders = availableContenders(options.contenders, machine, options.quick);
  const measurements = MEASUREMENTS.filter((m) => !options.only || options.only.includes(m.group));
  const jobs = planJobs(measurements, contenders, config.rounds, config.share);
  progress(`threadloop bench: ${config.mode} mode, ${config.rounds} round(s), ${jobs.length} child processes`);

  const results = emptyResults(measurements, contenders);
  await runJobs(jobs, results, config);

  let shared;
  if (!options.only || options.only.includes('shared')) {
    progress('shared primitives: bench/shared.js --json');
    shared = await runSharedSuite({ quick: options.quick, timeoutMs: config.childTimeoutMs });
    if (shared.skipped) progress(`shared primitives skipped: ${shared.skipped}`);
  }

  let distributed;
  if (!options.only || options.only.includes('distributed')) {
    progress('distributed: bench/distributed.js --json (private queue servers and worker processes)');
    distributed = await runDistributedSuite({ quick: options.quick, timeoutMs: config.childTimeoutMs });
    if (distributed.error) progress(`distributed: ${distributed.error}`);
  }

  const summaries = measurements.map((m) => summarizeMeasurement(m, results[m.id], config));
  const run = {
    machine: { ...machine, loadAverageAtEnd: os.loadavg() },
    config,
    measurements: summaries,
    shared,
    distributed,
    targets: evaluateTargets(summaries, shared),
    /** The groups run, when --only narrowed it: such a run checks only some targets. */
    only: options.only ?? null,
    /** Whether --only or --contenders narrowed it: the README's history leaves it out. */
    narrowed: options.only !== undefined || options.contenders !== undefined,
    durationMs: performance.now() - started,
  };
  process.stdout.write(renderReport(run) + renderDistributed(distributed));
  if (options.write) {
    const out = options.out ?? (run.narrowed ? PARTIAL_OUT : DEFAULT_OUT);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(run, null, 2)}\n`);
    const chart = out.replace(/(\.json)?$/, '.svg');
    writeFileSync(chart, ratioChart(run));
    // One line per run, kept: what the README quotes is one run, and the spread between runs.
    appendFileSync(join(dirname(out), 'history.jsonl'), `${JSON.stringify(historyLine(run))}\n`);
    progress(`results written to ${out}, its chart to ${chart}`);
  }
}

main().catch((error) => {
  progress(error?.stack ?? String(error));
  process.exitCode = 1;
});
