// The blocking workload of the demo: a password hash. PBKDF2 with 40,000 iterations is some
// 5-10 ms of pure CPU in one synchronous call — the kind of call that freezes a Node server.
import { pbkdf2Sync } from 'node:crypto';

export const ITERATIONS = 40_000;

export function hashPassword(password) {
  return pbkdf2Sync(password, 'threadloop-demo-salt', ITERATIONS, 32, 'sha256').toString('hex');
}
