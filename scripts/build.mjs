// `npm run build`: dist/ from src/. esbuild bundles the JavaScript; tsc writes only the .d.ts files.
//
// Why bundle: Node loads ES modules one file at a time (resolve, stat, read, compile, link), in
// every thread, and threadloop was some 45 small files: 30 ms for `import 'threadloop'`, and most
// of a worker's start. With code splitting, each entry point below is a small file importing a
// few shared chunks, and each module still exists once per thread whichever entry loaded it
// (instanceof checks and module-level state, such as the task registry, rely on that).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');

// `--if-stale` (npm run bench): nothing to do when dist/ is newer than everything it is made of;
// the declarations' tsc alone takes seconds of a quick bench run's two minutes.
if (process.argv.includes('--if-stale') && !stale()) {
  console.log('dist/ is newer than src/: not rebuilt');
  process.exit(0);
}

function stale() {
  const built = (() => {
    try {
      return statSync(join(dist, 'index.js')).mtimeMs;
    } catch {
      return -Infinity;
    }
  })();
  const inputs = ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'scripts/build.mjs'].map((f) => join(root, f));
  const walk = (dir) => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
  return [...inputs.filter((f) => existsSync(f)), ...walk(join(root, 'src'))].some((f) => statSync(f).mtimeMs > built);
}
// Built aside, then swapped in (below): others may be running tests against dist/ meanwhile.
const next = join(root, '.tmp', `dist-next-${process.pid}`);
process.on('exit', () => rmSync(next, { recursive: true, force: true })); // what a failed build leaves

const result = await build({
  absWorkingDir: root,
  entryPoints: {
    // The package's entries (package.json "exports").
    index: 'src/index.ts',
    // threadloop/task, for task modules: only what the worker entries load anyway (test/package.test.js).
    task: 'src/task.ts',
    'integrations/fastify': 'src/integrations/fastify.ts',
    'integrations/bullmq': 'src/integrations/bullmq/index.ts',
    // The `threadloop` command (package.json "bin"): `threadloop worker` for threadloop/bullmq.
    'bin/threadloop': 'src/integrations/bullmq/cli.ts',
    // What worker threads and child processes start; the README gives bundling users these paths.
    'runtime/worker-entry': 'src/runtime/worker-entry.ts',
    'runtime/process-entry': 'src/runtime/process-entry.ts',
    // Internal, kept at this path for bench/shared.js (primitives handed to raw worker_threads).
    'wire/shareable': 'src/wire/shareable.ts',
  },
  chunkNames: 'chunks/[name]-[hash]',
  outdir: next,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  write: false,
  logLevel: 'warning',
});

for (const file of result.outputFiles) {
  let text = file.text;
  if (file.path.endsWith('.js')) text = asciiComments(classNames(relocateFileUrls(text, file.path)), relative(next, file.path));
  if (file.path.endsWith('.map')) text = relocateSources(text, file.path);
  mkdirSync(dirname(file.path), { recursive: true });
  writeFileSync(file.path, text);
}
checkFileUrls(next);

/**
 * A map's `sources` are relative to where esbuild wrote it (.tmp/dist-next-PID/...), one folder
 * deeper than dist/ where it ends up: rewritten to point at src/ from dist/.
 */
function relocateSources(text, path) {
  const map = JSON.parse(text);
  const finalDir = dirname(join(dist, relative(next, path)));
  map.sources = map.sources.map((s) => relative(finalDir, join(dirname(path), s)).split('\\').join('/'));
  return JSON.stringify(map);
}

// The declarations (tsconfig.build.json emits nothing else): package.json "types" and "exports".
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', next], { cwd: root, stdio: 'inherit' });

// A fresh dist/ each time: chunk names carry a content hash, so old ones would pile up. Another
// build may be swapping at the same moment (`npm test` builds first): whatever dist/ is in the
// way is moved aside, and removed once ours is in place.
const aside = [];
for (;;) {
  try {
    renameSync(next, dist);
    break;
  } catch (error) {
    if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
    const to = `${next}-old-${aside.length}`;
    try {
      renameSync(dist, to);
      aside.push(to);
    } catch (moveError) {
      if (moveError.code !== 'ENOENT') throw moveError;
    }
  }
}
for (const dir of aside) rmSync(dir, { recursive: true, force: true });

/**
 * The code that finds the worker entry scripts says `new URL('../runtime/worker-entry.js',
 * import.meta.url)`: relative to its own file in src/<layer>/, i.e. to dist/ from one level below
 * it. Bundled, that code may land in dist/index.js or in dist/chunks/: the path is made relative
 * to the file it is in now.
 */
function relocateFileUrls(text, file) {
  return text.replace(/new URL\("\.\.\/([^"]+)", import\.meta\.url\)/g, (_, path) => {
    const target = relative(dirname(file), join(next, path));
    return `new URL("${target.startsWith('.') ? target : `./${target}`}", import.meta.url)`;
  });
}

/**
 * Bundled, a class that refers to itself becomes `var Mutex = class _Mutex {…}`, whose `.name` is
 * '_Mutex'. esbuild's keepNames would fix that, but it also wraps every arrow function in a
 * `__name()` call costing ~0.3 µs each time the closure is made, hot paths included: so the name
 * is set back here instead, once per class (on the same line, for the source maps).
 */
function classNames(text) {
  return text.replace(/^(var (\w+) = class _\2\b[^{\n]*\{)/gm, '$1 static { Object.defineProperty(this, "name", { value: "$2" }); }');
}

/** Every `new URL('<relative path>', import.meta.url)` in the output must name a built file. */
function checkFileUrls(dir) {
  for (const entry of readdirSync(dir, { recursive: true })) {
    if (!entry.endsWith('.js')) continue;
    const path = join(dir, entry);
    for (const [, target] of readFileSync(path, 'utf8').matchAll(/new URL\(\s*"(\.[^"]*)",\s*import\.meta\.url\s*\)/g)) {
      if (!existsSync(join(dirname(path), target))) throw new Error(`dist/${entry} refers to ${target}, which the build does not have`);
    }
  }
}

/**
 * esbuild escapes non-ASCII characters in code but keeps them in the comments it retains (a `—`
 * here and there), and one such character makes V8 hold the whole file's source as UTF-16, in
 * every thread: twice the memory of Latin-1. Each becomes `?` (one UTF-16 unit for one, so the
 * source maps stay exact); one outside a comment line fails the build instead.
 */
function asciiComments(text, name) {
  return text
    .split('\n')
    .map((line, i) => {
      if (!/[\u0080-\uffff]/.test(line)) return line;
      if (!/^\s*(\/\/|\/\*|\*)/.test(line)) throw new Error(`${name}:${i + 1}: non-ASCII character outside a comment`);
      return line.replace(/[\u0080-\uffff]/g, '?');
    })
    .join('\n');
}
