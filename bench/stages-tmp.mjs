import { ThreadPoolExecutor, taskModule } from 'threadloop';
import { install, NAMES } from '/tmp/perf/tracer.mjs';
const N = +(process.argv[2] ?? 20000);
const sab = new SharedArrayBuffer(8 + 8 * 40 * N);
const mod = taskModule(new URL('file:///tmp/perf/init-task.mjs'));
const ex = new ThreadPoolExecutor({ maxWorkers: 2, minWorkers: 2, initializer: mod.init, initArgs: [sab] });
for (let i = 0; i < 2000; i++) ex.submit(mod.noop, i).resultSync();
await new Promise((r) => setTimeout(r, 100));
(await import('/tmp/perf/pin.mjs')).pin();
for (let i = 0; i < 2000; i++) ex.submit(mod.noop, i).resultSync();
install(sab); Atomics.store(new Int32Array(sab, 0, 2), 0, 0);
for (let i = 0; i < N; i++) { __T('call'); ex.submit(mod.noop, i).resultSync(); }
__T('call');
const n = Atomics.load(new Int32Array(sab, 0, 2), 0); const log = new Float64Array(sab, 8, n);
const ev = []; for (let i = 0; i < n; i += 2) ev.push([log[i], log[i + 1]]);
ev.sort((a, b) => a[1] - b[1]);
// split into calls; for each call, record the first time of each event after 'call'
const deltas = {}; let start = null; let seen = {};
const name = (c) => (c >= 100 ? 'W:' : 'M:') + NAMES[c % 100];
const order = [];
for (const [c, t] of ev) {
  if (c === 0) { if (start !== null) { let prev = start; let pn = 'call'; for (const [k, tt] of order) { const key = `${pn} -> ${k}`; (deltas[key] ??= []).push(tt - prev); prev = tt; pn = k; } (deltas['TOTAL'] ??= []).push(t - start); } start = t; order.length = 0; seen = {}; continue; }
  if (start === null) continue;
  order.push([name(c), t]);
}
const med = (a) => { a.sort((x, y) => x - y); return a[a.length >> 1]; };
const rows = Object.entries(deltas).filter(([, a]) => a.length > N / 4).map(([k, a]) => [k, a.length, med(a) * 1000]);
for (const [k, c, m] of rows) console.log(k.padEnd(40), String(c).padStart(7), m.toFixed(2), 'µs');
await ex.shutdown();
