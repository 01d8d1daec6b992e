// The fleet demo's task module: what every `threadloop worker` of demo/fleet.js runs.
import { createHash } from 'node:crypto';

/** CPU work: `rounds` chained SHA-256 hashes of the seed; returns the digest and this worker's pid. */
export function digest(seed, rounds) {
  let value = Buffer.from(String(seed));
  for (let i = 0; i < rounds; i++) value = createHash('sha256').update(value).digest();
  return { digest: value.toString('hex').slice(0, 16), pid: process.pid };
}
