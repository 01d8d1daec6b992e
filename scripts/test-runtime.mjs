// threadloop on Deno and Bun: the executor contract (thread pools, process pools), loop threads
// and mainLoop(), and the shared-memory primitives — the test files below, unchanged, run by the
// runtime's own test runner (both run node:test files). Every result is listed: a test that fails
// or is kept from running because of a runtime bug must be in `known` below, with the upstream
// issue, and is reported as such; any other failure, or a known one that now passes, fails this
// script, so the README's table of what works where stays true.
//
//     node scripts/test-runtime.mjs deno /path/to/deno
//     node scripts/test-runtime.mjs bun /path/to/bun      (binaries: scripts/runtimes.mjs)
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

export const files = [
  'test/thread-pool.test.js',
  'test/process-pool.test.js',
  'test/loops.test.js',
  'test/shared-sync.test.js',
  'test/shared-mutex.test.js',
  'test/shared-queue.test.js',
  'test/shared-examples.test.js',
];

const nodeOnly = 'tests Node.js itself (its command-line flags), not threadloop';

/**
 * The tests a runtime does not pass, and why: `issue` is the runtime's upstream issue (null where
 * none was found: `why` then says what was seen); `in`, where the name is not unique, matches
 * its enclosing describe() (Deno) or file (Bun). README.md's "Node.js, Deno and Bun" table lists the same.
 */
export const known = {
  deno: [
    { test: 'resourceLimits: a task overflowing the heap fails with WorkerCrashedError about memory; the next succeeds', issue: null, why: 'a pool worker over its resourceLimits runs on instead of ending (a bare Worker is ended with ERR_WORKER_OUT_OF_MEMORY); the test would hang, so it is not run (blockedOn)' },
    { test: 'resultSync on a task that runs its worker out of memory throws WorkerCrashedError, not its timeout', issue: null, why: 'as above: not run (blockedOn)' },
    { test: 'out of memory: the call throws WorkerCrashedError, not its timeout', issue: null, why: 'as above, for a loop thread: the call would only time out after 30 s, so it is not run (blockedOn)' },
    { test: 'a deeply nested argument arrives intact, or fails with TaskSerializationError saying why; never a crash', issue: null, why: 'a message nested deeper than Deno rebuilds is dropped (its future would never settle): the test would wait forever, so it is not run (blockedOn)' },
    { test: 'execArgv a worker thread refuses breaks the executor with the cause, instead of throwing from submit', issue: null, why: `Deno's worker threads ignore execArgv; ${nodeOnly}` },
    { test: 'a pool started from `node --input-type=module -e` works: workers drop the entry flags', issue: null, why: nodeOnly },
    { test: 'execArgv passes Node.js flags to the workers', in: /ProcessPool|process-pool/, issue: null, why: `Deno's child processes ignore Node.js flags; ${nodeOnly}` },
    { test: 'children never outlive the parent', issue: null, why: `the test starts \`node -e\` with Node.js flags; ${nodeOnly}` },
    { test: 'an uncloneable result fails that future; the worker keeps serving', in: /ProcessPool|process-pool/, issue: null, why: 'process pool: a child that sends what IPC cannot serialize dies ("Failed to read value") instead of throwing from process.send()' },
    { test: 'a consumer thread killed mid-getSync loses no item it was not given', issue: null, why: 'worker.terminate() resolves, but a thread blocked in Atomics.wait runs on once woken (and takes the item); Node and Bun end it' },
    { test: "a cancelled future its caller keeps does not keep its call's arguments: a loop handle among them closes", issue: null, why: "the cancelled call stays reachable from its future after its CancelledError's stack was read (Node lets it go); not run (blockedOn): it would wait out its 200 rounds" },
  ],
  bun: [
    { test: 'resourceLimits: a task overflowing the heap fails with WorkerCrashedError about memory; the next succeeds', issue: 'oven-sh/bun#31411', why: 'resourceLimits are not enforced: the task allocates its 512 MB and succeeds' },
    { test: 'resultSync on a task that runs its worker out of memory throws WorkerCrashedError, not its timeout', issue: 'oven-sh/bun#31411', why: 'as above' },
    { test: 'out of memory: the call throws WorkerCrashedError, not its timeout', issue: 'oven-sh/bun#31411', why: 'as above, for a loop thread' },
    { test: 'execArgv a worker thread refuses breaks the executor with the cause, instead of throwing from submit', issue: null, why: `Bun's worker threads ignore execArgv; ${nodeOnly}` },
    { test: 'an inline task capturing an outer variable rejects with TaskSerializationError naming it', issue: null, why: "Bun's transpiler inlines the captured `const` into the function's source, so the task runs (correctly) instead of being refused" },
    { test: 'uncloneable items fail with TaskSerializationError and leave the queue untouched', issue: 'oven-sh/bun#32955', why: "Bun's v8.serialize() accepts a SharedArrayBuffer (Node refuses it), so a queue item holding one is not refused; the issue is the same bug in IPC" },
    { test: 'a taskModule() URL naming a .js file where only the .ts exists (or the reverse) says so', issue: null, why: "Bun resolves an import of x.js to x.ts where only the .ts exists (TypeScript's own resolution), so the module loads instead of being missing" },
    { test: 'a consumer thread killed mid-getSync loses no item it was not given', issue: 'oven-sh/bun#32057', why: 'the test\'s task module is a percent-encoded `data:` URL, which Bun imports as a string, not a module: the task never starts and the test would wait forever, so it is not run (blockedOn)' },
  ],
};

const decode = (text) => text.replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&#10;/g, '\n').replace(/&amp;/g, '&');

/** The test cases of a JUnit XML report: leaf name, and 'passed' | 'failed' | 'skipped'. */
function parseJunit(xml) {
  const cases = [];
  for (const [, attrs, body = ''] of xml.matchAll(/<testcase\b([^>]*?)(?:\/>|>([\s\S]*?)<\/testcase>)/g)) {
    const attr = (key) => decode(new RegExp(`\\b${key}="([^"]*)"`).exec(attrs)?.[1] ?? '');
    // Deno names a test by its path ("suite > test"); Bun by itself, in a nested <testsuite>.
    const full = attr('name');
    const scope = `${full} ${attr('classname')} ${attr('file')}`;
    const outcome = /<(failure|error)\b/.test(body) ? 'failed' : /<skipped\b/.test(body) ? 'skipped' : 'passed';
    cases.push({ full, scope, name: full.split(' > ').at(-1), outcome });
  }
  // Deno reports a describe() as a case of its own (failed when a test inside failed): drop those.
  return cases.filter((c) => !cases.some((o) => o.full.startsWith(`${c.full} > `)));
}

function runnerCommand(runtime, binary, report) {
  if (runtime === 'deno') return [binary, ['test', '--allow-all', '--no-check', `--junit-path=${report}`, ...files]];
  if (runtime === 'bun') return [binary, ['test', '--timeout=30000', '--reporter=junit', `--reporter-outfile=${report}`, ...files.map((f) => `./${f}`)]];
  throw new Error(`unknown runtime '${runtime}' (deno or bun)`);
}

async function main([runtime, binary]) {
  const dir = mkdtempSync(join(tmpdir(), `threadloop-${runtime}-`));
  const report = join(dir, 'junit.xml');
  const [command, args] = runnerCommand(runtime, binary, report);
  // The runner's own output goes through as it comes; the verdict is made from its report.
  const child = execFile(command, args, { cwd: root, maxBuffer: 64 << 20, timeout: 15 * 60_000 });
  child.stdout.pipe(process.stdout);
  child.stderr.pipe(process.stderr);
  await new Promise((resolve) => child.on('close', resolve));
  let cases;
  try {
    cases = parseJunit(readFileSync(report, 'utf8'));
  } catch (error) {
    console.log(`\n${runtime}: the test runner wrote no report (${error.message})`);
    return 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const knownFor = (c) => known[runtime].find((k) => k.test === c.name && (k.in === undefined || k.in.test(c.scope)));
  const passed = cases.filter((c) => c.outcome === 'passed' && !knownFor(c));
  const blocked = cases.filter((c) => c.outcome !== 'passed' && knownFor(c));
  const unexpected = cases.filter((c) => c.outcome !== 'passed' && !knownFor(c));
  const fixed = cases.filter((c) => c.outcome === 'passed' && knownFor(c));
  const missing = known[runtime].filter((k) => !cases.some((c) => knownFor(c) === k)).map((k) => k.test);

  console.log(`\n== threadloop on ${runtime}: ${passed.length} passed; ${blocked.length} known not to pass, each for a reason of the runtime's:`);
  for (const c of blocked) {
    const k = knownFor(c);
    console.log(`   ${c.outcome === 'skipped' ? 'not run' : 'fails  '}  ${c.name}\n            ${k.issue ?? 'no upstream issue found'}: ${k.why}`);
  }
  for (const c of unexpected) console.log(`!! ${c.outcome}: ${c.name}`);
  for (const c of fixed) console.log(`!! now passes (take it off scripts/test-runtime.mjs and the README table): ${c.name}`);
  for (const name of missing) console.log(`!! known not to pass, but not in the report (renamed?): ${name}`);
  const failures = unexpected.length + fixed.length + missing.length;
  console.log(`${runtime}: ${passed.length} passed, ${failures} failed`);
  return failures === 0 ? 0 : 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = await main(process.argv.slice(2));
