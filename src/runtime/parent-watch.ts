/**
 * A child process of a ProcessPoolExecutor ends when its parent does, however the parent died
 * (SIGKILL, SIGTERM, a crash) and whatever the child is doing. While it is idle, the IPC
 * channel's 'disconnect' event says so; but a task spinning in a synchronous loop blocks the
 * event loop that would hear it, and the child would run on at full CPU, re-parented to PID 1.
 *
 * So a small watchdog thread, whose event loop no task blocks, polls the parent: when the
 * child's parent process id has changed (it was re-parented) or the parent no longer exists, it
 * ends the process — SIGTERM first, so that an idle or signal-handling child ends as it would
 * on its own, and SIGKILL shortly after for one that is stuck in a loop.
 */
import { SHARE_ENV, Worker } from 'node:worker_threads';

/** How often the watchdog looks at the parent; a child ends within about twice this. */
const POLL_MS = 250;
/** How long SIGTERM gets before SIGKILL. */
const TERM_GRACE_MS = 250;

// CommonJS, run with `eval`: the watchdog needs no file of its own next to the bundled entry.
const source = `
const { workerData: { ppid, pid, pollMs, graceMs } } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
// The parent's pid now. process.ppid is read once at start on some Node versions; Linux says
// it live in /proc (after the command name, which may hold anything up to the last ')').
const parentNow = () => {
  try {
    const stat = readFileSync('/proc/self/stat', 'latin1');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return process.ppid;
  }
};
const gone = () => {
  if (parentNow() !== ppid) return true; // re-parented: the parent exited (POSIX)
  try {
    process.kill(ppid, 0); // where processes are not re-parented (Windows)
    return false;
  } catch (error) {
    return error.code === 'ESRCH';
  }
};
const timer = setInterval(() => {
  if (!gone()) return;
  clearInterval(timer);
  process.kill(pid, 'SIGTERM');
  setTimeout(() => process.kill(pid, 'SIGKILL'), graceMs);
}, pollMs);
`;

/** Starts the watchdog: it never keeps the process alive, and ends it once the parent is gone. */
export function watchParent(): void {
  const watchdog = new Worker(source, {
    eval: true,
    workerData: { ppid: process.ppid, pid: process.pid, pollMs: POLL_MS, graceMs: TERM_GRACE_MS },
    env: SHARE_ENV,
    execArgv: [], // no loader (--import tsx) or other flag of the app's: nothing to load
    stdout: false,
    stderr: false,
  } as ConstructorParameters<typeof Worker>[1]);
  watchdog.unref();
  // Never a reason for the child to die: without its watchdog it still ends with an idle parent.
  watchdog.on('error', (error) => process.emitWarning(`threadloop: the parent watchdog stopped: ${String(error)}`));
}
