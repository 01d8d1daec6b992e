// Workload sizes. Full mode follows the issue; quick mode shrinks what dominates the run time.

const MiB = 1024 * 1024;

const FULL = {
  rounds: 5,
  workers: 2,
  noopTasks: 100_000,
  noopWarmup: 100_000, // one full run first: the steady state is measured (see metrics/noop.js)
  windowTasks: 100_000,
  inFlight: 1_000,
  roundtripCalls: 2_000,
  roundtripWarmup: 2_000,
  cpuTasks: 32,
  fibN: 27,
  cpuReps: 9,
  payloadBytes: MiB,
  payloadWarmupMs: 300,
  payloadMs: 1_000,
  payloadInFlight: 4,
  payloadSequential: 64,
  idleMs: 300,
  syncCalls: 2_000,
  syncWarmup: 500,
  streamChunks: 200_000,
  streamWarmup: 50_000,
  childTimeoutMs: 120_000,
};

const QUICK = {
  ...FULL,
  // Three rounds, not two: on a busy 2-core machine latencies are bimodal from one process to the
  // next, and a median of two is just their mean.
  rounds: 3,
  noopTasks: 20_000,
  noopWarmup: 10_000, // half the workload, to stay under 2 minutes
  windowTasks: 20_000,
  roundtripCalls: 1_000,
  roundtripWarmup: 1_000,
  cpuReps: 5,
  payloadWarmupMs: 150,
  payloadMs: 250,
  payloadSequential: 32,
  idleMs: 200,
  syncCalls: 1_000,
  syncWarmup: 300,
  streamChunks: 50_000,
  streamWarmup: 20_000,
  childTimeoutMs: 60_000,
};

export function benchConfig({ quick, rounds }) {
  const config = { ...(quick ? QUICK : FULL), mode: quick ? 'quick' : 'full' };
  if (rounds) config.rounds = rounds;
  return config;
}
