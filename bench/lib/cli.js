// Command-line options of run.js.
import { GROUPS } from '../metrics/index.js';
import { CONTENDERS } from '../contenders/index.js';

export const USAGE = `Usage: node bench/run.js [--quick] [--rounds=N] [--only=<group,...>] [--contenders=<id,...>]
                        [--out=<file>] [--no-write]
  --quick          smaller workloads and 3 rounds (under 2 minutes)
  --rounds=N       rounds per measurement (default 5, quick 3)
  --only=...       measurement groups: ${GROUPS.join(', ')}
  --contenders=... contender ids (extras included): ${CONTENDERS.map((c) => c.id).join(', ')}
  --out=<file>     results file (default bench/results/latest.json)
  --no-write       do not write a results file`;

function list(value, known, what) {
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = items.filter((item) => !known.includes(item));
  if (unknown.length) throw new Error(`unknown ${what}: ${unknown.join(', ')} (known: ${known.join(', ')})`);
  return items;
}

export function parseArgs(argv) {
  const options = { quick: false, rounds: undefined, only: undefined, contenders: undefined, out: undefined, write: true };
  for (const arg of argv) {
    const [flag, value] = arg.split(/=(.*)/s);
    if (flag === '--quick') options.quick = true;
    else if (flag === '--no-write') options.write = false;
    else if (flag === '--help' || flag === '-h') options.help = true;
    else if (flag === '--rounds' && Number(value) >= 1) options.rounds = Math.floor(Number(value));
    else if (flag === '--only' && value) options.only = list(value, GROUPS, 'group');
    else if (flag === '--contenders' && value) {
      options.contenders = list(value, CONTENDERS.map((c) => c.id), 'contender');
    } else if (flag === '--out' && value) options.out = value;
    else throw new Error(`bad argument "${arg}"\n${USAGE}`);
  }
  return options;
}
