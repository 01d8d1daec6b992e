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
 * Only consents travel here, and NOTIFY may lose them (a listener's session that drops misses
 * what is said meanwhile): a lost consent only delays a start — the worker asks again after
 * `askAfterMs`, and answers to asks go through the durable stream. Cancels, alive, bye and
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
interface Notification {
  readonly channel: string;
  readonly payload?: string;
}

/** NOTIFY's payload limit is 8,000 bytes: consents go in batches this size at most. */
const IDS_PER_NOTIFY = 200;

/** The NOTIFY channel of a queue's consents (an identifier: hex, short). @internal */
export function consentChannel(queue: string): string {
  return `threadloop_start_${createHash('sha256').update(queue).digest('hex').slice(0, 24)}`;
}

/** Sends and hears consents on one queue's channel. @internal */
export interface ConsentWire {
  /** Says these consents (`ids` of `producer`); rejects if it could not (the stream then says them). */
  send(producer: string, ids: string[]): Promise<void>;
  /** Hears consents until closed; reconnects when its session drops. */
  listen(onConsent: (producer: string, ids: string) => void): void;
  close(): Promise<void>;
}

/** A ConsentWire with sessions of its own, opened with `connection` (see `opensSessions`). @internal */
export function pgConsentWire(connection: bullmq.PostgresConnectionOptions, queue: string): ConsentWire {
  const channel = consentChannel(queue);
  let closed = false;
  let sender: Promise<PgClient> | undefined;
  let listener: PgClient | undefined;
  let retry: NodeJS.Timeout | undefined;

  /** A session of its own: LISTEN needs one; sends reuse one. */
  const session = async (): Promise<PgClient> => {
    const { Client } = createRequire(import.meta.url)('pg') as { Client: new (config: object) => PgClient };
    const config = typeof connection === 'string' ? { connectionString: connection } : { ...(connection as object) };
    const client = new Client({ ...config, application_name: 'threadloop-consents' });
    client.on('error', () => {}); // a dropped session: 'end' follows, and the next use makes another
    await client.connect();
    return client;
  };
  const drop = (client: PgClient): void => void client.end().catch(() => {});

  return {
    async send(producer, ids) {
      if (closed) throw new Error('closed');
      sender ??= session().then((client) => {
        client.once('end', () => (sender = undefined));
        return client;
      });
      sender.catch(() => (sender = undefined));
      const client = await sender;
      for (let at = 0; at < ids.length; at += IDS_PER_NOTIFY) {
        const payload = JSON.stringify({ p: producer, i: ids.slice(at, at + IDS_PER_NOTIFY).join(',') });
        await client.query('SELECT pg_notify($1, $2)', [channel, payload]);
      }
    },
    listen(onConsent) {
      const start = (delayMs: number): void => {
        retry = setTimeout(() => {
          retry = undefined;
          if (closed) return;
          session().then(
            async (client) => {
              if (closed) return drop(client);
              listener = client;
              client.on('notification', (message: Notification) => {
                if (message.channel !== channel || message.payload === undefined) return;
                try {
                  const { p, i } = JSON.parse(message.payload) as { p: string; i: string };
                  onConsent(p, i);
                } catch {
                  // not ours
                }
              });
              client.once('end', () => {
                if (listener === client) listener = undefined;
                start(250);
              });
              await client.query(`LISTEN ${channel}`).catch(() => drop(client));
            },
            () => start(Math.min(2_000, Math.max(250, delayMs * 2))),
          );
        }, delayMs);
        retry.unref();
      };
      start(0);
    },
    async close() {
      closed = true;
      clearTimeout(retry);
      const clients = [listener, await sender?.catch(() => undefined)].filter((c): c is PgClient => c !== undefined);
      listener = undefined;
      sender = undefined;
      for (const client of clients) drop(client);
    },
  };
}

/**
 * Whether `connection` lets this module open sessions of its own: a connection string or `pg`
 * options do; a `pg.Pool` given by the caller does not (held sessions would take its places), and
 * consents then go on the stream alone. @internal
 */
export function opensSessions(connection: bullmq.PostgresConnectionOptions): boolean {
  return typeof connection === 'string' || (typeof connection === 'object' && connection !== null && typeof (connection as { connect?: unknown }).connect !== 'function');
}
