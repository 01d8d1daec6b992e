// Small helpers shared by the test files.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The task module of test/fixtures/tasks.js. */
export const fixtureUrl = (name) => new URL(`../fixtures/${name}`, import.meta.url);

/**
 * Awaits `promiseLike` (a Promise or a Future), which must reject with an instance of `Class`
 * (and a message matching `message`, if given). Returns the error for further checks.
 */
export async function rejectsWith(promiseLike, Class, message) {
  let settled;
  try {
    const value = await promiseLike;
    settled = { ok: true, value };
  } catch (error) {
    settled = { ok: false, error };
  }
  if (settled.ok) assert.fail(`expected a rejection with ${Class.name}, got the value ${String(settled.value)}`);
  const { error } = settled;
  assert.ok(error instanceof Class, `expected ${Class.name}, got ${error?.constructor?.name}: ${error?.message ?? String(error)}`);
  if (message !== undefined) assert.match(error.message, message);
  return error;
}

/** `fn()` must throw `Class` synchronously or return a promise rejecting with it. */
export async function failsWith(fn, Class, message) {
  let result;
  try {
    result = fn();
  } catch (error) {
    assert.ok(error instanceof Class, `expected ${Class.name}, got ${error?.constructor?.name}: ${error?.message}`);
    if (message !== undefined) assert.match(error.message, message);
    return error;
  }
  return rejectsWith(result, Class, message);
}

/** Polls `condition` until true, or fails after `timeoutMs` — for effects that have no event. */
export async function eventually(condition, { timeoutMs = 5000, what = 'condition' } = {}) {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Resolves like `promise`, or fails the test if it takes longer than `ms`. */
export async function within(promise, ms, what) {
  let timer;
  const expired = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new assert.AssertionError({ message: `${what} did not happen within ${ms} ms` })), ms);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Keeps the event loop alive until the returned function is called, so that a pool that lets
 * the process exit early (a bug tested on its own) cannot take a whole test file down.
 */
export function keepAlive() {
  const timer = setInterval(() => {}, 60_000);
  return () => clearInterval(timer);
}

/** Resolves after `ms`: only where elapsed time itself is what is being tested. */
export const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether `promise` is still pending after the current macrotask turn. */
export async function isPending(promise) {
  const marker = Symbol('pending');
  const winner = await Promise.race([Promise.resolve(promise).then(() => 'settled', () => 'settled'), new Promise((r) => setImmediate(r, marker))]);
  return winner === marker;
}

/**
 * Gates hold a task until the test says go — no sleeps. With shared memory a gate is a
 * SharedArrayBuffer (Atomics.wait in the task, Atomics.waitAsync here); otherwise a temp
 * directory the task polls for an `open` file (works for child processes).
 */
export function gateFactory({ sharedMemory = true } = {}) {
  const made = [];
  const make = () => {
    const gate = sharedMemory ? sabGate() : fileGate();
    made.push(gate);
    return gate;
  };
  const openAll = () => {
    for (const gate of made) gate.open();
  };
  const cleanup = () => {
    openAll();
    for (const gate of made) gate.dispose?.();
    made.length = 0;
  };
  return { make, openAll, cleanup };
}

function sabGate() {
  const buffer = new SharedArrayBuffer(8);
  const cells = new Int32Array(buffer);
  return {
    arg: buffer,
    open() {
      Atomics.store(cells, 0, 1);
      Atomics.notify(cells, 0);
    },
    /** Resolves once `n` tasks have started on this gate. */
    async started(n = 1, timeoutMs = 10_000) {
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        const seen = Atomics.load(cells, 1);
        if (seen >= n) return;
        const remaining = deadline - performance.now();
        if (remaining <= 0) assert.fail(`gate: ${n} task(s) did not start within ${timeoutMs} ms`);
        const waiting = Atomics.waitAsync(cells, 1, seen, remaining);
        if (waiting.async) await waiting.value;
      }
    },
  };
}

function fileGate() {
  const dir = mkdtempSync(join(tmpdir(), 'threadloop-gate-'));
  return {
    arg: dir,
    open() {
      try {
        writeFileSync(join(dir, 'open'), '');
      } catch {
        // disposed already
      }
    },
    async started(n = 1, timeoutMs = 10_000) {
      await eventually(() => readdirSync(dir).filter((f) => f.startsWith('started-')).length >= n, { timeoutMs, what: `${n} task(s) to start` });
    },
    dispose() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A small seeded PRNG (mulberry32), so randomized tests are reproducible. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
