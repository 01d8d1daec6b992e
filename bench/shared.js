// Shared primitives benchmark: ThreadQueue items/s between the main thread and a worker against a
// plain MessagePort moving the same payloads, and Mutex acquire/release, uncontended and contended.
//
//   node bench/shared.js [--quick] [--json]
//
// Prints a table; with --json the last stdout line is { rows, targets } (see lib/shared-suite.js).
// Run `npm run build` first: this imports the built package. The worker side is this same file.
//
// Items/s are steady-state numbers: each run first moves a warm-up batch the same way, untimed,
// so neither contender is measured while its code is still being compiled (a fresh worker needs
// some 20k objects before its JIT settles). Queue and port runs alternate round by round, so
// load from elsewhere on the machine falls on both alike.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Mutex, ThreadEvent, ThreadQueue } from 'threadloop';
import { decodeShareables, encodeShareables } from '../dist/wire/shareable.js';

const SMALL = (i) => ({ id: i, name: 'item', ok: true, tags: ['a', 'b'], price: 9.99 });

// ---------------------------------------------------------------- worker side
// Queue and port scenarios run in phases (the warm-up, then the timed batch): the main side posts
// { count } to start one; the worker posts 'done' when its side of that phase is finished.
function onPhases(run) {
  parentPort.on('message', (msg) => {
    run(msg.count);
    parentPort.postMessage('done');
  });
}

async function workerMain() {
  const { scenario, n, args } = workerData;
  const [q, go, m, counter] = decodeShareables(args);
  const make = scenario.endsWith('num') ? (i) => i : SMALL;
  parentPort.postMessage('ready');
  switch (scenario) {
    case 'queue-w2m-num':
    case 'queue-w2m-obj':
      onPhases((count) => {
        for (let i = 0; i < count; i++) q.putSync(make(i));
      });
      break;
    case 'queue-m2w-num':
    case 'queue-m2w-obj':
      onPhases((count) => {
        for (let i = 0; i < count; i++) q.getSync();
      });
      break;
    case 'port-w2m-num':
    case 'port-w2m-obj':
      onPhases((count) => {
        for (let i = 0; i < count; i++) parentPort.postMessage(make(i));
      });
      break;
    case 'port-m2w-num':
    case 'port-m2w-obj': {
      // Data and phase starts share the port here: count data, answer at each phase's end.
      const { warm } = workerData;
      let got = 0;
      parentPort.on('message', () => {
        if (++got === warm || got === warm + n) parentPort.postMessage('done');
      });
      break;
    }
    case 'mutex-contended':
      go.waitSync();
      for (let i = 0; i < n; i++) {
        const g = m.acquireSync();
        counter[0]++;
        g.release();
      }
      parentPort.postMessage('done');
      break;
  }
}

// ---------------------------------------------------------------- main side
function startWorker(scenario, n, shared = [], warm = 0) {
  const w = new Worker(new URL(import.meta.url), {
    workerData: { scenario, n, warm, args: encodeShareables(shared).value },
  });
  const ready = new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
  return { w, ready };
}

const nextMessage = (w) => new Promise((resolve) => w.once('message', resolve));

/** Receives `count` messages from the worker that are not 'done'. */
function receive(w, count) {
  return new Promise((resolve) => {
    let got = 0;
    const on = (msg) => {
      if (msg === 'done') return;
      if (++got === count) {
        w.off('message', on);
        resolve();
      }
    };
    w.on('message', on);
  });
}

async function queueRun(direction, kind, n, warm) {
  const make = kind === 'num' ? (i) => i : SMALL;
  const q = new ThreadQueue({ capacity: 1024 });
  const { w, ready } = startWorker(`queue-${direction}-${kind}`, n, [q]);
  await ready;
  let ms = 0;
  for (const count of [warm, n]) {
    const t0 = performance.now();
    const done = nextMessage(w);
    w.postMessage({ count });
    if (direction === 'w2m') {
      for (let i = 0; i < count; i++) await q.get();
    } else {
      for (let i = 0; i < count; i++) await q.put(make(i));
      await done; // the worker has taken them all
    }
    ms = performance.now() - t0;
    await done;
  }
  await w.terminate();
  return (n / ms) * 1000;
}

async function portRun(direction, kind, n, warm) {
  const make = kind === 'num' ? (i) => i : SMALL;
  const { w, ready } = startWorker(`port-${direction}-${kind}`, n, [], warm);
  await ready;
  let ms = 0;
  for (const count of [warm, n]) {
    const t0 = performance.now();
    if (direction === 'w2m') {
      const got = receive(w, count);
      w.postMessage({ count });
      await got;
    } else {
      const done = nextMessage(w);
      for (let i = 0; i < count; i++) w.postMessage(make(i));
      await done;
    }
    ms = performance.now() - t0;
  }
  await w.terminate();
  return (n / ms) * 1000;
}

function mutexUncontended(n) {
  const m = new Mutex();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) m.acquireSync().release();
  return (n / (performance.now() - t0)) * 1000;
}

async function mutexUncontendedAsync(n) {
  const m = new Mutex();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) (await m.acquire()).release();
  return (n / (performance.now() - t0)) * 1000;
}

async function mutexContended(threads, n) {
  const m = new Mutex();
  const go = new ThreadEvent();
  const counter = new Int32Array(new SharedArrayBuffer(4));
  const workers = Array.from({ length: threads }, () =>
    startWorker('mutex-contended', n, [null, go, m, counter]),
  );
  await Promise.all(workers.map((x) => x.ready));
  const done = workers.map((x) => nextMessage(x.w));
  const t0 = performance.now();
  go.set();
  await Promise.all(done);
  const ms = performance.now() - t0;
  await Promise.all(workers.map((x) => x.w.terminate()));
  if (counter[0] !== threads * n) throw new Error(`mutex lost updates: ${counter[0]} != ${threads * n}`);
  return ((threads * n) / ms) * 1000;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function best(rounds, fn) {
  const xs = [];
  for (let r = 0; r < rounds; r++) xs.push(await fn());
  return median(xs);
}

async function main() {
  const quick = process.argv.includes('--quick');
  const json = process.argv.includes('--json');
  const rounds = quick ? 3 : 5;
  const nNum = quick ? 100_000 : 500_000;
  const nObj = quick ? 30_000 : 150_000;
  const warm = { num: 50_000, obj: 30_000 };
  const rows = [];
  const ratios = {};
  for (const kind of ['num', 'obj']) {
    const n = kind === 'num' ? nNum : nObj;
    for (const direction of ['w2m', 'm2w']) {
      const queues = [];
      const ports = [];
      for (let r = 0; r < rounds; r++) {
        // Alternate which goes first, so neither always runs on a machine just warmed by the other.
        const runs = [
          async () => queues.push(await queueRun(direction, kind, n, warm[kind])),
          async () => ports.push(await portRun(direction, kind, n, warm[kind])),
        ];
        if (r % 2 === 1) runs.reverse();
        for (const run of runs) await run();
      }
      const queue = median(queues);
      const port = median(ports);
      const label = `${kind === 'num' ? 'numbers' : 'small objects'}, ${direction === 'w2m' ? 'worker → main' : 'main → worker'}`;
      rows.push({ benchmark: `items/s, ${label}`, threadloop: Math.round(queue), messagePort: Math.round(port), ratio: +(queue / port).toFixed(2) });
      (ratios[kind] ??= []).push(queue / port);
    }
  }
  const nLock = quick ? 200_000 : 1_000_000;
  rows.push({ benchmark: 'Mutex acquireSync+release, uncontended (ops/s)', threadloop: Math.round(await best(rounds, () => mutexUncontended(nLock))) });
  rows.push({ benchmark: 'Mutex await acquire+release, uncontended (ops/s)', threadloop: Math.round(await best(rounds, () => mutexUncontendedAsync(nLock / 4))) });
  for (const threads of [2, 4]) {
    const ops = await best(rounds, () => mutexContended(threads, (quick ? 20_000 : 100_000) / threads));
    rows.push({ benchmark: `Mutex acquireSync+release, ${threads} threads contended (ops/s total)`, threadloop: Math.round(ops) });
  }
  const worst = (kind) => Math.min(...ratios[kind]);
  const targets = [
    { name: 'ThreadQueue small-object items/s >= 1x MessagePort', pass: worst('obj') >= 1, detail: `${worst('obj').toFixed(2)}x (worst direction)` },
    { name: 'ThreadQueue numbers items/s >= 10x MessagePort', pass: worst('num') >= 10, detail: `${worst('num').toFixed(2)}x (worst direction)` },
  ];
  const keys = ['benchmark', 'threadloop', 'messagePort', 'ratio'];
  const width = keys.map((k) => Math.max(k.length, ...rows.map((r) => String(r[k] ?? '').length)));
  const line = (cells) => cells.map((c, i) => String(c ?? '').padEnd(width[i])).join('  ');
  console.log(`bench/shared.js — ${quick ? 'quick' : 'full'} mode, median of ${rounds} rounds, Node ${process.version}`);
  console.log(line(keys));
  for (const r of rows) console.log(line(keys.map((k) => r[k])));
  for (const t of targets) console.log(`${t.pass ? 'PASS' : 'FAIL'}  ${t.name}: ${t.detail}`);
  if (json) console.log(JSON.stringify({ rows, targets }));
}

if (isMainThread) {
  main().catch((err) => {
    if (process.argv.includes('--json')) console.log(JSON.stringify({ ok: false, error: err?.stack ?? String(err) }));
    else console.error(err);
    process.exitCode = 1;
  });
} else {
  await workerMain();
}
