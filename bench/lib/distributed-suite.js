// The distributed section (bench/distributed.js: threadloop/bullmq against raw BullMQ on Redis
// and PostgreSQL) runs in a child process of its own, since it starts servers and worker
// processes; its JSON (last stdout line) is { rows, targets }, rendered here as a short table.
import { fileURLToPath } from 'node:url';
import { runChild } from './child.js';

const SCRIPT = fileURLToPath(new URL('../distributed.js', import.meta.url));

export async function runDistributedSuite({ quick, timeoutMs }) {
  const { json, error, wallMs } = await runChild(process.execPath, [SCRIPT, '--json', ...(quick ? ['--quick'] : [])], { timeoutMs: Math.max(timeoutMs, 600_000) });
  if (error) return { error, wallMs };
  return { rows: json.rows ?? [], targets: json.targets ?? [], wallMs };
}

export function renderDistributed(distributed) {
  if (distributed === undefined) return '';
  if (distributed.error) return `\n## Distributed (threadloop/bullmq vs raw BullMQ)\n\nnot measured: ${distributed.error}\n`;
  const lines = ['', '## Distributed (threadloop/bullmq vs raw BullMQ)', '', '| backend | contender | no-op jobs/s | p50 ms | p99 ms | p50 ms, one at a time | worker CPU per job, µs | CPU speed-up 1 -> 2 worker processes |', '|---|---|---|---|---|---|---|---|'];
  for (const r of distributed.rows) {
    lines.push(`| ${r.backend} | ${r.contender} | ${r.jobsPerSec.toFixed(0)} | ${r.p50Ms.toFixed(1)} | ${r.p99Ms.toFixed(1)} | ${r.aloneP50Ms?.toFixed(2) ?? '—'} | ${r.workerCpuUsPerJob?.toFixed(0) ?? '—'} | ${r.speedup.toFixed(2)}x |`);
  }
  lines.push('');
  for (const t of distributed.targets) lines.push(`- ${t.pass ? 'PASS' : 'MISS'} ${t.name}: ${t.detail}`);
  return `${lines.join('\n')}\n`;
}
