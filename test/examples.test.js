// Runs every examples/*.js in its own process: each must exit by itself with code 0 and print
// what it shows. Examples not in the table below (other people's, new ones) are still run and
// must exit 0 with some output.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const examplesDir = new URL('../examples/', import.meta.url);

/** Lines (regexes) each example must print; examples not listed must just print something. */
const expected = {
  'thread-names.js': [
    /^main coroutine runs on thread: MainThread$/m,
    /^blocking I\/O starts, thread: ThreadPoolExecutor-0_0$/m,
    /^blocking I\/O done, thread: ThreadPoolExecutor-0_0$/m,
    /^task done \(it ran on ThreadPoolExecutor-0_0\)$/m,
    /^async task runs on thread: background-loop$/m,
    /^main thread goes on, thread: MainThread$/m,
  ],
  'to-thread.js': [
    /^result: done$/m,
    /^blocking call took \d+ ms; the main loop ticked \d+ times meanwhile$/m,
    /^main loop was blocked: no$/m,
    /^add\(2, 3\) on a thread: 5$/m,
  ],
  'run-in-executor.js': [
    /^submitted to io-pool: state pending$/m,
    /^custom pool: job custom blocked ~100 ms$/m,
    /^4 jobs of 200 ms: a,b,c,d on 4 threads in \d+ ms$/m,
    /^default pool: 42$/m,
    /^io-pool stats: completed=5 failed=0$/m,
    /^pool shut down$/m,
  ],
  'gather-as-completed.js': [
    /^gather \(input order\): slow, fast, medium$/m,
    /^finished: fast \(\d+ ms\)\nfinished: medium \(\d+ ms\)\nfinished: slow \(\d+ ms\)$/m,
    /^as_completed order: fast, medium, slow$/m,
  ],
  'concurrent-fetch.js': [
    /^(done: 200\n){20}total: 20 fetches, 20 ok$/m,
    /^took \d+ ms/m,
  ],
  'cpu-bound.js': [
    /^\d+ x fib\(\d+\) on the main thread: \d+ ms$/m,
    /^\d+ x fib\(\d+\) on \d+ worker threads: \d+ ms$/m,
    /^speed-up: \d+\.\dx with \d+ cores$/m,
    /^results match: true$/m,
  ],
  'opentelemetry.js': [
    /^request span: GET \/thumbnails \(trace [0-9a-f]{32}\)$/m,
    /^worker thread span 'thumbnail 640' is a child of the request span: yes$/m,
    /^child process span 'thumbnail 320' is a child of the request span: yes$/m,
    /^loop thread span 'thumbnail 160' is a child of the request span: yes$/m,
    /^main thread span 'lookup 80' \(called back\) is a child of the task's span: yes$/m,
  ],
  'cancel-running-task.js': [
    /^cooperative: AbortError \(cause: user pressed cancel\)$/m,
    /^the job noticed the abort: yes, after \d+ of 100 steps$/m,
    /^forced stop: TimeoutError after ~\d+ ms/m,
    /^pool still works: 6 \* 7 = 42$/m,
  ],
};

const examples = readdirSync(examplesDir).filter((name) => name.endsWith('.js')).sort();

function runExample(name) {
  return new Promise((resolve) => {
    execFile(process.execPath, [`examples/${name}`], { cwd: root, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : (error.code ?? error.signal), stdout, stderr });
    });
  });
}

describe('examples', () => {
  test('the examples this suite knows about exist', () => {
    for (const name of Object.keys(expected)) assert.ok(examples.includes(name), `examples/${name} is missing`);
  });

  for (const name of examples) {
    test(`examples/${name} runs, exits by itself with code 0, and prints what it shows`, async () => {
      const { code, stdout, stderr } = await runExample(name);
      assert.equal(code, 0, `exit code ${code}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`);
      assert.ok(stdout.trim().length > 0, 'it printed nothing');
      for (const pattern of expected[name] ?? []) {
        assert.match(stdout, pattern, `examples/${name} output:\n${stdout}`);
      }
    });
  }
});
