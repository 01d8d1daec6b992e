// The performance targets of issues 7 and 18, checked against the medians of this run.
// A target reads: threadloop's median <op> factor × the `vs` contender's median (+ offset), or,
// without `vs`, threadloop's median <op> factor. With `everyRound`, it must hold in each round too
// (threadloop's round r against the other's round r); with `vsM`, the other's value is from that
// measurement instead of `m`. Each result says how far it is from its
// bound: `margin` is how many times better than the bound it is (>= 1 when met), for the README.

import { firstLine } from './lib/format.js';

const TL = 'threadloop';

export const TARGETS = [
  { name: 'no-op throughput (all at once) >= 10x piscina default, every round', m: 'noop-burst', key: 'opsPerSec', vs: 'piscina', op: '>=', factor: 10, everyRound: true },
  { name: 'no-op throughput (all at once) >= 0.5x raw batched', m: 'noop-burst', key: 'opsPerSec', vs: 'raw-batch', op: '>=', factor: 0.5 },
  { name: 'no-op throughput (1k in flight) >= 10x piscina default, every round', m: 'noop-window', key: 'opsPerSec', vs: 'piscina', op: '>=', factor: 10, everyRound: true },
  { name: 'no-op throughput (1k in flight) >= 0.5x raw batched', m: 'noop-window', key: 'opsPerSec', vs: 'raw-batch', op: '>=', factor: 0.5 },
  { name: 'sequential round-trip p50 <= 0.5x piscina default', m: 'roundtrip', key: 'p50Us', vs: 'piscina', op: '<=', factor: 0.5 },
  { name: 'sequential round-trip p50 <= raw ping-pong (message)', m: 'roundtrip', key: 'p50Us', vs: 'raw-message', op: '<=', factor: 1 },
  // Hardware capacity is measured inside each threadloop child, interleaved (see metrics/cpu.js).
  { name: 'CPU-bound speed-up >= 0.95x hardware capacity (raw, same run)', m: 'cpu', key: 'ofCapacity', op: '>=', factor: 0.95 },
  // The caller of resultSync blocks anyway: it may spin, and the worker that answered lingers, so a
  // sequence of blocking calls costs the shared-memory hand-off (issue 18).
  { name: 'resultSync p50 <= 0.2x synckit', m: 'sync', key: 'p50Us', vs: 'synckit', op: '<=', factor: 0.2 },
  { name: 'resultSync p50 <= 3x raw SAB spin-then-wait', m: 'sync', key: 'p50Us', vs: 'raw-sab', op: '<=', factor: 3 },
  // The same two bounds for a worker blocking on calls into the main thread's loop (issue 18: "on
  // the main thread and from a worker calling mainLoop() synchronously"). The references block
  // the main thread on a worker, not the other way round: `vsM` names their measurement.
  { name: 'a worker blocking on mainLoop() p50 <= 0.2x synckit', m: 'sync-worker', key: 'p50Us', vs: 'synckit', vsM: 'sync', op: '<=', factor: 0.2 },
  { name: 'a worker blocking on mainLoop() p50 <= 3x raw SAB spin-then-wait', m: 'sync-worker', key: 'p50Us', vs: 'raw-sab', vsM: 'sync', op: '<=', factor: 3 },
  { name: '1 MiB transfer throughput >= 0.9x raw', m: 'payload-transfer', key: 'mibPerSec', vs: 'raw-message', op: '>=', factor: 0.9 },
  { name: 'idle RSS of a 2-worker pool <= raw workers + 1 MiB', m: 'startup', key: 'idleRssMiB', vs: 'raw-message', op: '<=', factor: 1, offset: 1 },
  { name: 'start to first result <= raw + 10%', m: 'startup', key: 'startMs', vs: 'raw-message', op: '<=', factor: 1.1 },
];

/** Targets bench/shared.js is expected to check and report itself (see lib/shared-suite.js). */
const SHARED_TARGETS = [
  'ThreadQueue small-object items/s >= 1x MessagePort',
  'ThreadQueue numbers items/s >= 10x MessagePort',
];

const fmt = (x) => (Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(2));

function summaryOf(summaries, target, contender) {
  const id = contender === TL ? target.m : (target.vsM ?? target.m);
  const output = summaries.find((s) => s.id === id)?.outputs.find((o) => o.key === target.key);
  return output?.byContender[contender];
}

function lookup(summaries, target, contender) {
  return summaryOf(summaries, target, contender)?.median;
}

/** How many times better than `bound` the value is: >= 1 when the target is met. */
const marginOf = (target, value, bound) => (target.op === '>=' ? value / bound : bound / value);

/** The worst round's margin, pairing rounds in order; undefined when they cannot be paired. */
function worstRound(target, summaries) {
  const mine = summaryOf(summaries, target, TL)?.samples;
  const theirs = summaryOf(summaries, target, target.vs)?.samples;
  if (!mine || !theirs || mine.length !== theirs.length) return undefined;
  return Math.min(...mine.map((v, i) => marginOf(target, v, theirs[i] * target.factor + (target.offset ?? 0))));
}

/** Why a target could not be checked: who was not in the run, or failed in it. */
function unmeasured(target, summaries, missing) {
  const errors = summaries.find((s) => s.id === target.m)?.contenders[TL]?.errors ?? [];
  const failed = missing.includes(TL) && errors.length ? `; ${TL} failed: ${firstLine(errors[0], 120)}` : '';
  return { name: target.name, pass: null, detail: `not measured: ${missing.join(', ')}${failed}` };
}

function checkAbsolute(target, summaries) {
  const mine = lookup(summaries, target, TL);
  if (mine === undefined) return unmeasured(target, summaries, [TL]);
  const margin = marginOf(target, mine, target.factor);
  return { name: target.name, pass: margin >= 1, margin, detail: `${fmt(mine)} (median of the per-round values)` };
}

function check(target, summaries) {
  if (!target.vs) return checkAbsolute(target, summaries);
  const mine = lookup(summaries, target, TL);
  const theirs = lookup(summaries, target, target.vs);
  if (mine === undefined || theirs === undefined) {
    return unmeasured(target, summaries, [mine === undefined && TL, theirs === undefined && target.vs].filter(Boolean));
  }
  const bound = theirs * target.factor + (target.offset ?? 0);
  let margin = marginOf(target, mine, bound);
  let detail = target.offset
    ? `${fmt(mine)} vs ${target.vs} ${fmt(theirs)} + ${target.offset} = ${fmt(bound)}`
    : `${fmt(mine / theirs)}x ${target.vs} (${fmt(mine)} vs ${fmt(theirs)})`;
  if (target.everyRound) {
    const worst = worstRound(target, summaries);
    if (worst !== undefined) {
      detail += `; worst round ${fmt(worst * target.factor)}x`;
      margin = Math.min(margin, worst);
    }
  }
  return { name: target.name, pass: margin >= 1, margin, detail };
}

/** Every target with pass true / false, or null when it could not be checked in this run. */
export function evaluateTargets(summaries, shared) {
  const results = TARGETS.map((target) => check(target, summaries));
  const reported = (shared?.targets ?? []).map((t) => ({ name: String(t.name), pass: t.pass ?? null, detail: t.detail ?? '' }));
  if (reported.length) return [...results, ...reported];
  const why = shared?.skipped ?? (shared?.error ? 'bench/shared.js failed' : 'not reported by bench/shared.js');
  return [...results, ...SHARED_TARGETS.map((name) => ({ name, pass: null, detail: why }))];
}
