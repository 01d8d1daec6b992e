// bench/shared.js (ThreadQueue vs MessagePort, Mutex acquire/release) is written and owned
// separately. It runs standalone; with --json it prints JSON on its last stdout line. This runs
// it when it exists and passes its results through. Shape accepted: an array of row objects, or
// { rows: [...], targets?: [{ name, pass, detail }] }; a row is printed field by field.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runChild } from './child.js';

const SCRIPT = new URL('../shared.js', import.meta.url);

export async function runSharedSuite({ quick, timeoutMs }) {
  const path = fileURLToPath(SCRIPT);
  if (!existsSync(path)) return { skipped: 'bench/shared.js does not exist yet' };
  const args = [path, '--json', ...(quick ? ['--quick'] : [])];
  const { json: output, error, wallMs } = await runChild(process.execPath, args, { timeoutMs });
  if (error) return { error, wallMs };
  if (output?.ok === false) return { error: output.error ?? 'bench/shared.js failed', wallMs };
  const rows = Array.isArray(output) ? output : Array.isArray(output.rows) ? output.rows : null;
  if (!rows) return { error: 'bench/shared.js --json printed no rows', output, wallMs };
  return { rows, targets: Array.isArray(output.targets) ? output.targets : [], wallMs };
}
