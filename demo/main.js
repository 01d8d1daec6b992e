// `npm run demo`: what a blocking call does to a Node.js server, and what moving it to a thread
// changes. Three rounds, each on a fresh server (demo/server.js, in a child process so that the
// load generator does not compete for the server's event loop):
//
//   1. /hash runs PBKDF2 inline, on the event loop;
//   2. /hash runs it with toThread();
//   3. /hash runs it with the threadloop/fastify plugin (request.runInThreadpool).
//
// In each round autocannon puts /hash under heavy load while a health checker calls /health
// 50 times a second (on a fixed schedule, waiting for every answer); the table shows /hash
// throughput, /health latency, and the server's event-loop delay, and demo/results/timeline.svg
// shows /health latency and event-loop delay over each round. Everything runs on 127.0.0.1 and
// ends by itself in well under a minute (DEMO_ROUND_SECONDS=2 npm run demo for a quicker look).
import autocannon from 'autocannon';
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { timelineSvg } from './timeline.js';

const ROUND_SECONDS = Number(process.env.DEMO_ROUND_SECONDS ?? 7);
const HASH_CONNECTIONS = 32;
const HEALTH_RATE = 50; // requests per second
const ROUNDS = [
  { mode: 'inline', label: 'blocking inline' },
  { mode: 'toThread', label: 'toThread()' },
  { mode: 'plugin', label: 'fastify plugin' },
];

const progress = startProgress(ROUNDS.length * ROUND_SECONDS);
const results = [];
let hashMs;
try {
  for (const [index, round] of ROUNDS.entries()) {
    progress.round(index, round.label);
    const result = await runRound(round.mode);
    hashMs ??= result.hashMs;
    results.push({ ...round, ...result });
  }
} finally {
  progress.stop();
}
report(results);
const svg = fileURLToPath(new URL('./results/timeline.svg', import.meta.url));
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(svg, timelineSvg(results, ROUND_SECONDS));
console.log(`\nThe timeline of each round (/health latency, event-loop delay): ${svg}`);

/** One round: a fresh server in `mode`, warmed up, then heavy /hash load and light /health load together. */
async function runRound(mode) {
  const server = fork(new URL('./server.js', import.meta.url), [mode], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const { port, hashMs } = await reply(server, 'ready');
    const base = `http://127.0.0.1:${port}`;
    // Warm up: start the workers and import the task module before measuring.
    await autocannon({ url: `${base}/hash?password=warm-up`, connections: 8, amount: 40 });

    server.send('start');
    await reply(server, 'started');
    const [hash, health] = await Promise.all([
      autocannon({ url: `${base}/hash?password=correct-horse-battery-staple`, connections: HASH_CONNECTIONS, duration: ROUND_SECONDS }),
      checkHealth(`${base}/health`, ROUND_SECONDS),
    ]);
    server.send('stop');
    const { loopDelay, blocks, timeline } = await reply(server, 'stopped');
    return {
      hashMs,
      hashRps: hash.requests.average,
      hashFailed: hash.errors + hash.non2xx + hash.timeouts,
      healthP50: percentile(health.latencies, 50),
      healthP99: percentile(health.latencies, 99),
      healthFailed: health.failed,
      loopDelay,
      blocks,
      timeline,
      health: health.series,
    };
  } finally {
    await stopServer(server);
  }
}

/**
 * The health checker: calls `url` HEALTH_RATE times a second for `seconds`, on a fixed schedule
 * whatever the answers take (so a stalled server cannot hide its latency by slowing the checker
 * down), then waits for every answer. Resolves to the latencies in ms and the failure count.
 */
async function checkHealth(url, seconds) {
  const latencies = [];
  /** [ms since the checker started, latency ms] of each answered call, for the timeline. */
  const series = [];
  let failed = 0;
  const calls = [];
  const origin = performance.now();
  const call = () => {
    const started = performance.now();
    calls.push(
      fetch(url).then(
        async (response) => {
          await response.arrayBuffer();
          const latency = performance.now() - started;
          if (response.ok) {
            latencies.push(latency);
            series.push([Math.round(started - origin), Math.round(latency * 10) / 10]);
          } else failed++;
        },
        () => failed++,
      ),
    );
  };
  const timer = setInterval(call, 1000 / HEALTH_RATE);
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  clearInterval(timer);
  await Promise.all(calls);
  return { latencies, series, failed };
}

function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** The next IPC message of `type` from the server (or its early exit, as an error). */
async function reply(server, type) {
  const exited = once(server, 'exit').then(([code]) => {
    throw new Error(`the demo server exited with code ${code} before sending '${type}'`);
  });
  const message = (async () => {
    for (;;) {
      const [msg] = await once(server, 'message');
      if (msg.type === type) return msg;
    }
  })();
  try {
    return await Promise.race([message, exited]);
  } finally {
    exited.catch(() => {});
  }
}

/** Asks the server to close and waits for it to exit by itself (killing it after 5 s). */
async function stopServer(server) {
  if (server.exitCode !== null || server.signalCode !== null) return;
  const exited = once(server, 'exit');
  if (server.connected) server.send('exit');
  const timer = setTimeout(() => server.kill(), 5_000);
  await exited;
  clearTimeout(timer);
}

// ── output ─────────────────────────────────────────────────────────────────────────────────

function report(rows) {
  const ms = (v) => (v >= 100 ? `${Math.round(v)} ms` : v < 1 ? '<1 ms' : `${v.toFixed(1)} ms`);
  console.log(
    `\nthreadloop demo — a Fastify server whose /hash runs PBKDF2 (~${ms(hashMs)} of CPU per call), ` +
      `under ${HASH_CONNECTIONS} concurrent connections for ${ROUND_SECONDS} s per round, while a health ` +
      `checker calls /health ${HEALTH_RATE}×/s. ${availableParallelism()} CPUs; loopback only.\n`,
  );
  const header = ['round', '/hash req/s', '/health p50', '/health p99', 'loop delay p50', 'p99', 'max', 'blocks >100ms'];
  const table = rows.map((r) => [
    r.label,
    r.hashRps.toFixed(0) + (r.hashFailed > 0 ? ` (${r.hashFailed} failed)` : ''),
    ms(r.healthP50),
    ms(r.healthP99) + (r.healthFailed > 0 ? ` (${r.healthFailed} failed)` : ''),
    ms(r.loopDelay.p50),
    ms(r.loopDelay.p99),
    ms(r.loopDelay.max),
    String(r.blocks),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('   ');
  console.log(line(header));
  console.log(widths.map((w) => '─'.repeat(w)).join('   '));
  for (const row of table) console.log(line(row));
  console.log(`\n${conclusion(rows, ms)}`);
}

/** One sentence saying what the numbers show, computed from them. */
function conclusion(rows, ms) {
  const [inline, ...offloaded] = rows;
  const p99s = offloaded.map((r) => r.healthP99);
  const worstP99 = Math.max(...p99s);
  const factor = inline.healthP99 / Math.max(worstP99, 1);
  if (factor < 2) {
    return `/health p99 was ${ms(inline.healthP99)} inline and ${ms(worstP99)} at worst offloaded: on this machine, offloading made little difference.`;
  }
  const range = (values) => {
    const [lo, hi] = [Math.min(...values), Math.max(...values)];
    return lo === hi ? ms(lo) : `${ms(lo)}–${ms(hi)}`.replace(/ ms–/, '–');
  };
  const rps = offloaded.map((r) => r.hashRps);
  const near = (v) => Math.abs(v - inline.hashRps) <= 0.15 * inline.hashRps;
  const throughput = `${inline.hashRps.toFixed(0)} req/s inline, ${rps.map((v) => v.toFixed(0)).join(' and ')} offloaded`;
  const how = rps.every(near)
    ? `at about the same /hash throughput (${throughput})`
    : rps.every((v) => v > inline.hashRps)
      ? `and /hash served more (${throughput})`
      : `with /hash at ${throughput}`;
  return (
    `/health p99 fell from ${ms(inline.healthP99)} inline to ${range(p99s)} offloaded (${Math.round(factor)}× lower) and the ` +
    `worst event-loop delay from ${ms(inline.loopDelay.max)} to ${range(offloaded.map((r) => r.loopDelay.max))}: with the ` +
    `hashing on worker threads the event loop stays free, ${how}.`
  );
}

/** A progress line on stderr: a spinner and a percentage on a terminal, one line per round otherwise. */
function startProgress(totalSeconds) {
  const tty = process.stderr.isTTY === true;
  const frames = '⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏';
  let label = '';
  let index = 0;
  let roundStart = performance.now();
  let frame = 0;
  const draw = () => {
    const elapsed = index * ROUND_SECONDS + Math.min(ROUND_SECONDS, (performance.now() - roundStart) / 1000);
    const percent = Math.min(99, Math.floor((100 * elapsed) / totalSeconds));
    process.stderr.write(`\r${frames[frame++ % frames.length]} round ${index + 1}/${ROUNDS.length}: ${label.padEnd(16)} ${String(percent).padStart(2)}%`);
  };
  const timer = tty ? setInterval(draw, 100) : undefined;
  return {
    round(i, name) {
      index = i;
      label = name;
      roundStart = performance.now();
      if (!tty) process.stderr.write(`round ${i + 1}/${ROUNDS.length}: ${name} (${ROUND_SECONDS} s)…\n`);
    },
    stop() {
      clearInterval(timer);
      if (tty) process.stderr.write('\r\x1b[K');
    },
  };
}
