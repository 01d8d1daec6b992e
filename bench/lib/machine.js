// What the numbers were measured on.
import os from 'node:os';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const LIBRARIES = ['piscina', 'tinypool', 'workerpool', 'poolifier', 'synckit'];

function tryRun(command, args) {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch {
    return null;
  }
}

function libraryVersion(root, name) {
  try {
    return JSON.parse(readFileSync(new URL(`node_modules/${name}/package.json`, root), 'utf8')).version;
  } catch {
    return null;
  }
}

export function machineInfo(root) {
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    node: process.version,
    v8: process.versions.v8,
    python: tryRun('python3', ['--version']),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    availableParallelism: os.availableParallelism(),
    totalMemMiB: Math.round(os.totalmem() / 1024 / 1024),
    loadAverageAtStart: os.loadavg(),
    threadloopCommit: tryRun('git', ['-C', new URL('.', root).pathname, 'rev-parse', '--short', 'HEAD']),
    libraries: Object.fromEntries(LIBRARIES.map((name) => [name, libraryVersion(root, name)])),
  };
}
