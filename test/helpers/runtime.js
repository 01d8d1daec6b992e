// Which JavaScript runtime runs the tests (CI runs some of them on Deno and Bun too, see
// scripts/test-runtime.mjs), and the tests a runtime's own bug keeps from running there.
import process from 'node:process';

/** 'node', 'deno' or 'bun'. */
export const runtime = 'Deno' in globalThis ? 'deno' : process.versions.bun !== undefined ? 'bun' : 'node';

/**
 * Test options for a test that cannot run on some runtime because of that runtime's bug, which it
 * names with its upstream issue: `test(name, { timeout, ...blockedOn({ deno: 'denoland/deno#1: …' }) }, fn)`.
 * Only a test that would hang there is kept from running; scripts/test-runtime.mjs lists every
 * such test with its reason, and fails on a skipped test it does not know.
 */
export function blockedOn(reasons) {
  const reason = reasons[runtime];
  return reason === undefined ? {} : { skip: `blocked on ${runtime}: ${reason}` };
}
