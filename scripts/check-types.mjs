// The published .d.ts files against every supported @types/node: the packed tarball is installed
// into a strict consumer project (test/fixtures/consumer: skipLibCheck false, so threadloop's
// declarations are checked, not skipped), once per @types/node major, and `tsc` must pass. The
// README's TypeScript examples are type-checked against each major too (readme-snippets.mjs).
//
//     node scripts/check-types.mjs            # dist/ must be built; @types/node 20, 22, 24, 26
//     node scripts/check-types.mjs 26         # one major
//
// The project is also compiled, with the newest @types/node of the list, by the newest TypeScript
// — what `npm install typescript` gives a new project (7.0 when this was written, where the
// repository builds with 5.9).
//
// @types/node, fastify (for threadloop/fastify) and bullmq (for threadloop/bullmq) are installed
// outside the repository's dependencies, cached under $HOME/.cache/threadloop-types-node<major>;
// the newest TypeScript under $HOME/.cache/threadloop-typescript-latest, looked up again weekly.
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { readmeSnippetProblems } from './readme-snippets.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);
const npm = process.env.npm_execpath?.endsWith('.js') ? [process.execPath, process.env.npm_execpath] : ['npm'];
const majors = process.argv.length > 2 ? process.argv.slice(2) : ['20', '22', '24', '26'];
const repoVersion = (name) => JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')).version;
const fastifyVersion = repoVersion('fastify');
const bullmqVersion = repoVersion('bullmq');

const versionOf = (dir) => {
  try {
    return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version;
  } catch {
    return undefined;
  }
};

/** The cached node_modules holding @types/node@<major> and this repository's fastify and bullmq. */
async function typesFor(major) {
  const prefix = join(homedir(), '.cache', `threadloop-types-node${major}`);
  const modules = join(prefix, 'node_modules');
  const ready = () =>
    versionOf(join(modules, '@types', 'node'))?.startsWith(`${major}.`) && versionOf(join(modules, 'fastify')) === fastifyVersion && versionOf(join(modules, 'bullmq')) === bullmqVersion;
  if (!ready()) {
    const args = ['install', '--no-save', '--no-audit', '--no-fund', '--no-package-lock', '--prefix', prefix, `@types/node@${major}`, `fastify@${fastifyVersion}`, `bullmq@${bullmqVersion}`];
    await run(npm[0], [...npm.slice(1), ...args], { maxBuffer: 16 << 20 });
    if (!ready()) throw new Error(`installing @types/node@${major} into ${prefix} did not give the expected versions`);
  }
  return { modules, version: versionOf(join(modules, '@types', 'node')) };
}

/** The newest TypeScript's tsc and version, installed (again, after a week) under $HOME/.cache. */
async function newestTypeScript() {
  const prefix = join(homedir(), '.cache', 'threadloop-typescript-latest');
  const dir = join(prefix, 'node_modules', 'typescript');
  const age = existsSync(join(dir, 'package.json')) ? Date.now() - statSync(join(dir, 'package.json')).mtimeMs : Infinity;
  if (age > 7 * 24 * 3600_000) {
    const args = ['install', '--no-save', '--no-audit', '--no-fund', '--no-package-lock', '--prefix', prefix, 'typescript@latest'];
    await run(npm[0], [...npm.slice(1), ...args], { maxBuffer: 16 << 20 });
    utimesSync(join(dir, 'package.json'), new Date(), new Date()); // (npm keeps the published time)
  }
  return { tsc: join(dir, 'bin', 'tsc'), version: versionOf(dir) };
}

if (!existsSync(join(root, 'dist', 'index.d.ts'))) throw new Error('dist/ is not built: run `npm run build` first');
const work = mkdtempSync(join(tmpdir(), 'threadloop-types-'));
let failed = 0;
try {
  // What users install: the packed tarball (not this folder), extracted as npm would.
  const { stdout } = await run(npm[0], [...npm.slice(1), 'pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: root });
  const tarball = join(work, JSON.parse(stdout)[0].filename);
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const [installed, newest] = await Promise.all([Promise.all(majors.map(typesFor)), newestTypeScript()]);
  for (const [i, major] of majors.entries()) {
    const project = join(work, `node${major}`);
    cpSync(join(root, 'test', 'fixtures', 'consumer'), project, { recursive: true });
    const modules = join(project, 'node_modules');
    mkdirSync(join(modules, 'threadloop'), { recursive: true });
    await run('tar', ['-xzf', tarball, '-C', join(modules, 'threadloop'), '--strip-components=1']);
    for (const name of ['@types', 'undici-types', 'fastify', 'bullmq']) {
      if (existsSync(join(installed[i].modules, name))) symlinkSync(join(installed[i].modules, name), join(modules, name), 'dir');
    }
    const label = `@types/node ${installed[i].version}`;
    try {
      await run(process.execPath, [tsc, '-p', '.', '--noEmit'], { cwd: project, maxBuffer: 16 << 20 });
      console.log(`ok    published types with ${label}`);
    } catch (error) {
      failed++;
      console.log(`FAIL  published types with ${label}:\n${error.stdout || error.message}`);
    }
    // The README's examples, as a user on this @types/node would compile them.
    const problems = readmeSnippetProblems({ typeRoots: [join(installed[i].modules, '@types')] });
    if (problems.length === 0) console.log(`ok    README snippets with ${label}`);
    else {
      failed++;
      console.log(`FAIL  README snippets with ${label}:\n${problems.join('\n')}`);
    }
  }
  // The newest TypeScript, on the project of the newest @types/node (a new project has both).
  const label = `TypeScript ${newest.version}, @types/node ${installed.at(-1).version}`;
  try {
    await run(process.execPath, [newest.tsc, '-p', '.', '--noEmit'], { cwd: join(work, `node${majors.at(-1)}`), maxBuffer: 16 << 20 });
    console.log(`ok    published types with ${label}`);
  } catch (error) {
    failed++;
    console.log(`FAIL  published types with ${label}:\n${error.stdout || error.message}`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
process.exitCode = failed > 0 ? 1 : 0;
