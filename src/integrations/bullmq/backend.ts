/**
 * Which BullMQ backend a `connection` means, and BullMQ's classes bound to it.
 *
 * A `redis://` (or `rediss://`) URL, ioredis options or an ioredis client mean Redis, BullMQ's
 * default; a `postgres://` (or `postgresql://`) URL, or `{ backend: 'postgres' }` options, mean
 * BullMQ 6's PostgreSQL backend (`createPostgresBackend`, which needs the `pg` package). Either
 * way BullMQ does the queueing; threadloop only picks its classes.
 */
import * as bullmq from 'bullmq';
import { describe } from './internals.js';
import { loadPg, opensSessions, pgConsentWire, type ConsentWire } from './pg-consent.js';

/** Where a queue lives: a URL (the scheme picks the backend), or BullMQ's connection options. */
export type QueueConnection = string | URL | bullmq.ConnectionOptions | PostgresConnection;

/** BullMQ's PostgreSQL connection (a connection string, `pg.Pool` options or a `pg.Pool`), marked. */
export interface PostgresConnection {
  readonly backend: 'postgres';
  /** What `createPostgresBackend` takes. A URL string gets `migrate: true`. */
  readonly options: bullmq.PostgresConnectionOptions;
}

/** BullMQ's classes, all bound to one backend and connection. @internal */
export interface Backend {
  readonly kind: 'redis' | 'postgres';
  /** A printable form of the connection, without its password. */
  readonly where: string;
  newQueue(name: string, options?: Partial<bullmq.QueueOptions>): bullmq.Queue;
  newWorker(name: string, processor: bullmq.Processor, options: Partial<bullmq.WorkerOptions>): bullmq.Worker;
  newQueueEvents(name: string, options?: Partial<bullmq.QueueEventsOptions>): bullmq.QueueEvents;
  newEventsProducer(name: string): bullmq.QueueEventsProducer;
  /** A faster channel than the event stream for a queue's consents, where the backend has one (PostgreSQL's NOTIFY: pg-consent.ts). */
  newConsentWire(queue: string): ConsentWire | undefined;
  /** Stop reconnecting: what is closing now must not retry a server that is gone. */
  giveUp(): void;
}

type Options<T> = T & { connection: unknown };

/** Resolves a `connection` option into the backend it names. @internal */
export function resolveBackend(connection: QueueConnection | undefined, who: string): Backend {
  if (connection === undefined) throw new TypeError(`${who}: connection is required (a redis:// or postgres:// URL, or BullMQ connection options)`);
  const url = typeof connection === 'string' ? parseUrl(connection, who) : connection instanceof URL ? connection : undefined;
  if (url !== undefined) {
    if (url.protocol === 'redis:' || url.protocol === 'rediss:') return redisBackend(redisOptions(url), redacted(url));
    if (url.protocol === 'postgres:' || url.protocol === 'postgresql:') {
      return postgresBackend({ connectionString: url.href, migrate: true }, redacted(url));
    }
    // Only the scheme is quoted: in 'user:secret@host' the parser takes 'user:' for one, and the rest could be a password.
    const scheme = url.protocol.slice(0, -1);
    const hostPort = /^\d+$/.test(url.pathname) ? `; for a host and port, write redis://${scheme}:${url.pathname}` : '';
    throw new TypeError(`${who}: connection URL must start with redis://, rediss://, postgres:// or postgresql://, got one whose scheme is '${scheme}'${hostPort}`);
  }
  if (typeof connection !== 'object' || connection === null) {
    throw new TypeError(`${who}: connection must be a URL or connection options, got ${describe(connection)}`);
  }
  if ((connection as PostgresConnection).backend === 'postgres') {
    return postgresBackend((connection as PostgresConnection).options, 'postgres');
  }
  return redisBackend(connection as bullmq.ConnectionOptions, 'redis');
}

function redisBackend(options: bullmq.ConnectionOptions, where: string): Backend {
  let givenUp = false;
  // ioredis retries a lost server forever, and BullMQ's close() waits for it: once this backend's
  // owner closes, retrying stops. (An ioredis client passed in is the caller's to manage.)
  const own = options as { retryStrategy?: (times: number) => number | null; constructor?: unknown };
  const connection: bullmq.ConnectionOptions =
    own.constructor === Object || own.constructor === undefined
      ? {
          ...options,
          retryStrategy: (times: number) => (givenUp ? null : (own.retryStrategy?.(times) ?? Math.min(Math.max(times * 200, 200), 2000))),
        }
      : options;
  return {
    giveUp: () => (givenUp = true),
    kind: 'redis',
    where,
    newQueue: (name, options) => new bullmq.Queue(name, { ...options, connection }),
    newWorker: (name, processor, options) => new bullmq.Worker(name, processor, { ...options, connection }),
    newQueueEvents: (name, options) => new bullmq.QueueEvents(name, { ...options, connection }),
    newEventsProducer: (name) => new bullmq.QueueEventsProducer(name, { connection }),
    newConsentWire: () => undefined, // a stream read is as cheap as it gets on Redis
  };
}

function postgresBackend(connection: bullmq.PostgresConnectionOptions, where: string): Backend {
  // The classes are typed by backend; threadloop uses only what both backends have.
  const pg = bullmq.withBackend(retryingReadiness) as unknown as {
    Queue: new (name: string, options: Options<Partial<bullmq.QueueOptions>>) => bullmq.Queue;
    Worker: new (name: string, processor: bullmq.Processor, options: Options<Partial<bullmq.WorkerOptions>>) => bullmq.Worker;
    QueueEvents: new (name: string, options: Options<Partial<bullmq.QueueEventsOptions>>) => bullmq.QueueEvents;
    QueueEventsProducer: new (name: string, options: Options<object>) => bullmq.QueueEventsProducer;
  };
  return {
    giveUp: () => {},
    kind: 'postgres',
    where,
    newQueue: (name, options) => new pg.Queue(name, { ...options, connection } as Options<Partial<bullmq.QueueOptions>>),
    newWorker: (name, processor, options) => new pg.Worker(name, processor, { ...options, connection } as Options<Partial<bullmq.WorkerOptions>>),
    newQueueEvents: (name, options) => new pg.QueueEvents(name, { ...options, connection } as Options<Partial<bullmq.QueueEventsOptions>>),
    newEventsProducer: (name) => new pg.QueueEventsProducer(name, { connection }),
    newConsentWire: (queue) => {
      const pgModule = opensSessions(connection) ? loadPg() : undefined;
      return pgModule === undefined ? undefined : pgConsentWire(pgModule, connection, queue);
    },
  };
}

/**
 * Resolves once `part` (a BullMQ Queue, Worker, QueueEvents…) has reached its server, however
 * long that takes, unless `stopped()` says to stop trying. ioredis waits for a Redis that is
 * down; BullMQ's PostgreSQL backend rejects at once, so it is asked again every 250 ms. A
 * QueueEvents whose reader died at a failed start (PostgreSQL) has it started again. @internal
 */
export async function reachable(part: { waitUntilReady(): Promise<unknown> }, stopped: () => boolean, failed?: (error: unknown) => void): Promise<void> {
  for (;;) {
    try {
      await part.waitUntilReady();
      break;
    } catch (error) {
      failed?.(error);
      if (stopped()) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  // (A reader that is running refuses a second start, and nothing changes.)
  if (part instanceof bullmq.QueueEvents) part.run().catch(() => {});
}

/**
 * BullMQ's PostgreSQL backend, minus one defect: BullMQ 6.7 keeps a failed first readiness (the
 * server was not up yet) for ever — its backend and connection each memoize the rejected
 * promise — so a producer started before its server never reached it, and every add failed.
 * Forgotten on failure, the next use tries again, as ioredis does for Redis. (Should BullMQ's
 * fields change, this does nothing; the tests that start a server late would then fail.)
 */
const retryingReadiness: typeof bullmq.createPostgresBackend = (name, options, factoryOptions) => {
  const backend = retryingDeadlocks(bullmq.createPostgresBackend(name, options, factoryOptions));
  type Memo = { readyPromise?: Promise<void>; waitUntilReady(): Promise<void> };
  const memos = [backend as unknown as Memo, (backend as unknown as { connection?: Memo }).connection].filter((m) => m !== undefined);
  // Both are asked directly (BullMQ's calls go to one or the other): a failure of either forgets both.
  for (const memo of memos) {
    const waitUntilReady = memo.waitUntilReady.bind(memo);
    memo.waitUntilReady = () => {
      const ready = waitUntilReady();
      ready.catch(() => {
        for (const each of memos) each.readyPromise = undefined;
      });
      return ready;
    };
  }
  return backend;
};

/** PostgreSQL's errors for a transaction it rolled back so that another could go on: try it again. */
const TRANSIENT = new Set(['40P01', '40001']); // deadlock_detected, serialization_failure
const DEADLOCK_TRIES = 5;

/**
 * BullMQ's PostgreSQL backend, minus a defect: BullMQ 6.7 fails whatever command PostgreSQL picks
 * as a deadlock's victim — a job's completion among them, so a job that ran and finished failed
 * with 'deadlock detected' (seen once in CI, two workers on a queue with 40 jobs in flight). PostgreSQL rolls the victim back whole, and says to run it
 * again: each of BullMQ's commands is one statement in a transaction of its own (one stored
 * function, through `pool.query`), so it is, a few times, after a short random pause that lets
 * the other transaction finish. (Should BullMQ's method change, this does nothing; the test that
 * makes a completion a deadlock's victim would then fail.)
 */
function retryingDeadlocks<B>(backend: B): B {
  const own = backend as unknown as { query?: (text: string, params?: unknown[]) => Promise<unknown> };
  const query = own.query?.bind(backend);
  if (query === undefined) return backend;
  own.query = async (text, params) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await query(text, params);
      } catch (error) {
        if (attempt === DEADLOCK_TRIES || !TRANSIENT.has((error as { code?: unknown } | null)?.code as string)) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
      }
    }
  };
  return backend;
}

function parseUrl(text: string, who: string): URL {
  try {
    return new URL(text);
  } catch {
    throw new TypeError(`${who}: connection ${describe(text)} is not a URL (expected redis://host:port or postgres://user@host/db)`);
  }
}

/** ioredis options from a redis:// URL: host, port, user, password, database, TLS. */
function redisOptions(url: URL): bullmq.ConnectionOptions {
  const db = url.pathname.length > 1 ? Number(url.pathname.slice(1)) : undefined;
  return {
    host: url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: url.port === '' ? 6379 : Number(url.port),
    ...(url.username === '' ? {} : { username: decodeURIComponent(url.username) }),
    ...(url.password === '' ? {} : { password: decodeURIComponent(url.password) }),
    ...(db === undefined || Number.isNaN(db) ? {} : { db }),
    ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

function redacted(url: URL): string {
  const copy = new URL(url.href);
  if (copy.password !== '') copy.password = '***';
  if (copy.searchParams.has('password')) copy.searchParams.set('password', '***'); // postgres://…?password=…
  return copy.href;
}
