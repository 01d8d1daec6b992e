// Runs one measurement in a fresh child process and reads the JSON line it prints last.
import { spawn } from 'node:child_process';

const TAIL_CHARS = 2000;

/**
 * Resolves (never rejects) to { json, wallMs } with the parsed last stdout line, or to
 * { error, wallMs } when the child printed no JSON (crash, timeout, could not start).
 */
export function runChild(command, args, { timeoutMs, cwd }) {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr = (stderr + chunk).slice(-TAIL_CHARS)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const finish = (result) => {
      clearTimeout(timer);
      resolve({ ...result, wallMs: performance.now() - started });
    };
    child.on('error', (error) => finish({ error: `could not start ${command}: ${error.message}` }));
    child.on('close', (code, signal) => {
      const json = lastJsonLine(stdout);
      if (json !== undefined) return finish({ json });
      const why = signal === 'SIGKILL' ? `timed out after ${timeoutMs} ms` : `exited with ${signal ?? code}`;
      finish({ error: `${why}; stderr: ${stderr.trim().slice(-500) || '(empty)'}` });
    });
  });
}

export function lastJsonLine(text) {
  const line = text.trim().split('\n').at(-1);
  try {
    return line ? JSON.parse(line) : undefined;
  } catch {
    return undefined;
  }
}
