/**
 * Consents over PostgreSQL's NOTIFY: the hot path of start-consent.ts, without an event row.
 *
 * On PostgreSQL every BullMQ event is a row written, announced to every listener of the
 * database and read back with a query — on the server that is the bottleneck. A consent said
 * that way cost the server a row and a read per batch of jobs, and each job two such hops before
 * it started. NOTIFY carries its payload to the listening sessions at commit, with no row and no
 * read: here the producer says its consents that way, and each worker listens on its queue's
 * channel.
 *
 * Only consents travel here — and asks: a worker whose consent is late (worker-consents.ts) asks
 * its producer on a channel of that producer's, since the producer may never hear of the job
 * from BullMQ's event reader, which skips some events. NOTIFY may lose either (a listener's
 * session that drops misses what is said meanwhile): that only delays a start — the worker asks
 * again after `askAfterMs`, on the stream, and answers to those asks go through the durable
 * stream. Cancels, alive, bye and
 * probes stay on the stream, where nothing is lost; and a consent said here does not count as the
 * producer speaking (ProducerVoice), so a worker that hears nothing on the stream still counts
 * the producer gone only as the protocol allows.
 */
import { createHash } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import type * as bullmq from 'bullmq';

/** The part of `pg` this module uses (pg is an optional peer dependency, loaded on first use). */
interface PgClient extends EventEmitter {
  connect(): Promise<unknown>;
  query(text: string, values?: unknown[]): Promise<unknown>;
  end(): Promise<void>;
}
/** The `pg` module's Client. @internal */
export interface PgModule {
  Client: new (config: object) => PgClient;
}
interface Notification {
  readonly channel: string;
  readonly payload?: string;
}

/** NOTIFY's payload limit is 8,000 bytes: consents go in batches this size at most. */
const IDS_PER_NOTIFY = 200;

/** A NOTIFY channel of a queue's (an identifier: hex, short): its consents, or one producer's asks. @internal */
function channelOf(kind: 'start' | 'ask', queue: string, producer?: string): string {
  // (The start channel keeps the name it had before asks: a fleet in the middle of an upgrade still hears its consents.)
  return `threadloop_${kind}_${createHash('sha256').update(producer === undefined ? queue : `${queue}\n${producer}`).digest('hex').slice(0, 24)}`;
}

/** Sends and hears consents on one queue's channel, and asks on its producers'. @internal */
export interface ConsentWire {
  /** Says these consents (`ids` of `producer`); rejects if it could not (the stream then says them). */
  send(producer: string, ids: string[]): Promise<void>;
  /** Hears consents until closed; reconnects when its session drops. */
  listen(onConsent: (producer: string, ids: string) => void): void;
  /**
   * Asks `producer` to consent to these jobs, taken by this worker (rejects if it could not: the
   * worker asks again on the stream after `askAfterMs`). The producer hears the ask at commit,
   * where its `active` event may come later, or never: BullMQ 6.7's event reader on PostgreSQL
   * skips events committed out of order (an eighth to a quarter of them, 64 jobs in flight).
   */
  ask(producer: string, ids: string[]): Promise<void>;
  /** Hears the asks to `producer` until closed; reconnects when its session drops. */
  listenAsks(producer: string, onAsk: (ids: string) => void): void;
  close(): Promise<void>;
}

/** A ConsentWire with sessions of its own, opened with `connection` (see `opensSessions`). @internal */
export function pgConsentWire(pg: PgModule, connection: bullmq.PostgresConnectionOptions, queue: string): ConsentWire {
  const startChannel = channelOf('start', queue);
  let closed = false;
  let sender: Promise<PgClient> | undefined;
  /** The sends under way, in turn. */
  let sending: Promise<void> = Promise.resolve();
  const listeners = new Set<PgClient>();
  const retries = new Set<NodeJS.Timeout>();

  /**
   * A session of its own: LISTEN needs one; sends reuse one. Keep-alive, so that a session a
   * network drops silently ends (BullMQ's LISTEN session does the same); a bounded connect and
   * query, so that a send to a server that does not answer fails over to the stream; and no wait
   * for the disk at commit: a consent lost to a crash only delays a start.
   */
  const session = async (): Promise<PgClient> => {
    const config = typeof connection === 'string' ? { connectionString: connection } : { ...(connection as object) };
    const client = new pg.Client({
      application_name: 'threadloop-consents',
      ...config,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      connectionTimeoutMillis: 10_000,
      query_timeout: 5_000,
    });
    client.on('error', () => {}); // a dropped session: 'end' follows, and the next use makes another
    await client.connect();
    try {
      await client.query('SET synchronous_commit = off');
    } catch (error) {
      void client.end().catch(() => {});
      throw error;
    }
    return client;
  };
  const drop = (client: PgClient): void => void client.end().catch(() => {});

  /** Says `ids` of `producer` on `channel`, in batches NOTIFY's payload limit allows. */
  const say = async (channel: string, producer: string, ids: string[]): Promise<void> => {
    if (closed) throw new Error('closed');
    sender ??= session().then((client) => {
      client.once('end', () => (sender = undefined));
      return client;
    });
    const current = sender;
    // One query at a time on the session (pg deprecates queueing them on a client).
    const turn = sending.then(async () => {
      const client = await current;
      for (let at = 0; at < ids.length; at += IDS_PER_NOTIFY) {
        const payload = JSON.stringify({ p: producer, i: ids.slice(at, at + IDS_PER_NOTIFY).join(',') });
        await client.query('SELECT pg_notify($1, $2)', [channel, payload]);
      }
    });
    sending = turn.catch(() => {});
    try {
      await turn;
    } catch (error) {
      // A session that failed once is not trusted again: the next send opens another.
      if (sender === current) sender = undefined;
      void current.then(drop, () => {});
      throw error;
    }
  };

  /** Hears `channel` on a session of its own until closed, opened again when it drops. */
  const hear = (channel: string, onSaid: (producer: string, ids: string) => void): void => {
    let delayMs = 0;
    let retry: NodeJS.Timeout | undefined;
    const start = (): void => {
      retry = setTimeout(() => {
        if (retry !== undefined) retries.delete(retry);
        retry = undefined;
        if (closed) return;
        const openedAt = Date.now();
        session().then(
          async (client) => {
            if (closed) return drop(client);
            listeners.add(client);
            client.on('notification', (message: Notification) => {
              if (message.channel !== channel || message.payload === undefined) return;
              let said: { p?: unknown; i?: unknown };
              try {
                said = JSON.parse(message.payload) as { p?: unknown; i?: unknown };
              } catch {
                return; // not ours
              }
              if (typeof said.p === 'string' && typeof said.i === 'string') onSaid(said.p, said.i);
            });
            client.once('end', () => {
              listeners.delete(client);
              // A session that ends soon after it opened (a server that refuses LISTEN, a short
              // idle timeout) is opened again less and less often: up to every 5 s.
              delayMs = Date.now() - openedAt < 5_000 ? Math.min(5_000, Math.max(250, delayMs * 2)) : 250;
              start();
            });
            await client.query(`LISTEN ${channel}`).catch(() => drop(client));
          },
          () => {
            delayMs = Math.min(5_000, Math.max(250, delayMs * 2));
            start();
          },
        );
      }, delayMs);
      retry.unref();
      retries.add(retry);
    };
    start();
  };

  return {
    send: (producer, ids) => say(startChannel, producer, ids),
    listen: (onConsent) => hear(startChannel, onConsent),
    ask: (producer, ids) => say(channelOf('ask', queue, producer), producer, ids),
    listenAsks: (producer, onAsk) => hear(channelOf('ask', queue, producer), (from, ids) => from === producer && onAsk(ids)),
    async close() {
      closed = true;
      for (const retry of retries) clearTimeout(retry);
      const clients = [...listeners, await sender?.catch(() => undefined)].filter((c): c is PgClient => c !== undefined);
      listeners.clear();
      sender = undefined;
      for (const client of clients) drop(client);
    },
  };
}

/**
 * `pg`, as threadloop resolves it or else as BullMQ does (which loads it for its PostgreSQL
 * backend); undefined if neither can, and consents then go on the stream alone. @internal
 */
export function loadPg(): PgModule | undefined {
  const here = createRequire(import.meta.url);
  for (const from of [() => here, () => createRequire(here.resolve('bullmq'))]) {
    try {
      return from()('pg') as PgModule;
    } catch {
      // the next place
    }
  }
  return undefined;
}

/**
 * Whether `connection` lets this module open sessions of its own: a connection string or `pg`
 * options do; a `pg.Pool` given by the caller does not (held sessions would take its places), and
 * consents then go on the stream alone. @internal
 */
export function opensSessions(connection: bullmq.PostgresConnectionOptions): boolean {
  return typeof connection === 'string' || (typeof connection === 'object' && connection !== null && typeof (connection as { connect?: unknown }).connect !== 'function');
}
