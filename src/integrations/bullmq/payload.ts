/**
 * What a job carries, and how values and errors are packed into it.
 *
 * BullMQ stores a job's data and result as JSON, which would turn a Map into `{}`, a Date into a
 * string and a BigInt into an exception. Values are therefore packed with `v8.serialize` — the
 * structured clone that carries values between threads — and stored as base64 text inside the
 * JSON; only values JSON carries exactly (numbers, short strings, short lists of them) go as
 * JSON. Errors travel as threadloop's error records (the same codec as between threads), plus
 * the worker that ran the job.
 */
import { hostname } from 'node:os';
import { types } from 'node:util';
import { deserialize, serialize } from 'node:v8';
import { decodeError, describe, encodeError, findUncloneable, MAX_DEPTH, TaskSerializationError, withinDepth, type EncodedError } from './internals.js';

/** Payloads above this many bytes are refused, unless `maxPayloadBytes` says otherwise. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;

/** A job's data as stored in the queue. The job's *name* is the task's portable name. */
export interface JobData {
  /** Format version, so a future format can be told apart. */
  readonly v: 1;
  /** The arguments: v8-serialized, base64 — or `~` and JSON for a short list of numbers, short strings, booleans and nulls. */
  readonly a: string;
  /** The producer (a QueueExecutor) whose consent the job waits for before it starts (start-consent.ts). */
  readonly p?: string;
  /** Committed at submit (idle-commit.ts): the worker starts it without waiting for its producer's consent. */
  readonly g?: 1;
  /** The producer can abort it (its task had a signal): the worker runs it abortable. */
  readonly s?: 1;
  /** The task's `timeoutMs`, counted from when a worker starts it. */
  readonly t?: number;
  /** The arguments are one chunk of `map` items: call the task on each. */
  readonly c?: 1;
  /** Set by the worker when the task failed: the error record, v8-serialized, base64. */
  readonly e?: string;
}

/** A job's return value as stored in the queue. */
export interface JobResult {
  /** The result, packed as the arguments are. */
  readonly r: string;
  /** The worker that ran it: `host`, `pid`. */
  readonly w: WorkerId;
}

/** Which worker process ran a job. */
export interface WorkerId {
  readonly host: string;
  readonly pid: number;
}

/** This process, as a worker. */
export const thisWorker: WorkerId = Object.freeze({ host: hostname(), pid: process.pid });

/**
 * Packs a job's arguments: each may be nested MAX_DEPTH levels, as a pool's (the list, and a
 * chunk's list of items, are levels of their own), and one deeper is named.
 */
export function packArgs(args: unknown[], limit: number, what: string, chunk: boolean): string {
  const values = chunk ? (args[0] as unknown[]) : args;
  for (let i = 0; i < values.length; i++) {
    if (!withinDepth(values[i], MAX_DEPTH.mainThread)) {
      throw new TaskSerializationError(`${what} cannot be sent through the queue: ${chunk ? 'item' : 'argument'} ${i} is ${findUncloneable(values[i], MAX_DEPTH.mainThread)}`);
    }
  }
  return pack(args, limit, what, MAX_DEPTH.mainThread + (chunk ? 2 : 1));
}

/**
 * Packs `value` for the queue; throws `TaskSerializationError` if it cannot be cloned, is nested
 * more than `maxDepth` levels deep, or is larger than `limit` bytes.
 */
export function pack(value: unknown, limit: number, what: string, maxDepth: number = MAX_DEPTH.mainThread): string {
  const plain = plainText(value);
  if (plain !== undefined) {
    const text = PLAIN + plain;
    if (Buffer.byteLength(text) <= limit) return text; // (over it, the v8 path below says by how much)
  }
  // The other side deserializes on its main thread, whose stack bounds the nesting it can
  // rebuild; refused here, the error says so, instead of failing over there as unreadable.
  if (!withinDepth(value, maxDepth)) {
    throw new TaskSerializationError(`${what} cannot be sent through the queue: it is ${findUncloneable(value, maxDepth)}`);
  }
  let bytes: Buffer;
  try {
    bytes = serialize(value);
  } catch (error) {
    throw new TaskSerializationError(`${what} cannot be sent through the queue: ${(error as Error).message}`, { cause: error });
  }
  if (bytes.length > limit) {
    throw new TaskSerializationError(
      `${what} is ${bytes.length} bytes serialized, over the limit of ${limit} bytes (maxPayloadBytes); ` +
        'send a reference to large data (a URL, a key in a store) instead of the data itself',
    );
  }
  return bytes.toString('base64');
}

/** Unpacks what `pack` made. */
export function unpack(text: string): unknown {
  if (text.startsWith(PLAIN)) return text.length === PLAIN.length ? undefined : JSON.parse(text.slice(PLAIN.length));
  return deserialize(Buffer.from(text, 'base64'));
}

/**
 * Marks a value stored as JSON: the commonest ones (a number, a short string; an argument list
 * of such) skip `v8.serialize`, whose serializer object, buffer and base64 text cost a worker
 * 15-25 µs of CPU per no-op job (measured, its garbage included). Base64 never contains it, so
 * the two forms cannot be confused.
 */
const PLAIN = '~';
/** Strings longer than this take the v8 path (a long text gains nothing from JSON's escaping). */
const PLAIN_STRING_MAX = 256;
/** Lists longer than this take the v8 path. */
const PLAIN_LIST_MAX = 16;

/** A value JSON carries exactly: a finite number (not -0), a short string, a boolean, null. */
function plainItem(value: unknown): boolean {
  switch (typeof value) {
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0);
    case 'string':
      return value.length <= PLAIN_STRING_MAX;
    case 'boolean':
      return true;
    default:
      return value === null;
  }
}

/**
 * The JSON text of `value` if JSON carries it exactly — a `plainItem`, `undefined` (as ''), or a
 * plain array of up to PLAIN_LIST_MAX plain items and nothing else — else undefined (the v8
 * path). Anything else an array holds (a hole; a property JSON would drop, as a regex match's
 * `index`, `input`, `groups`) sends it the v8 way, and so does a proxy (which cannot cross
 * threads either). Each item is read once and written by hand: a getter cannot show this check
 * one value and JSON another, and no `toJSON` is called.
 */
function plainText(value: unknown): string | undefined {
  if (value === undefined) return '';
  if (plainItem(value)) return JSON.stringify(value);
  if (!Array.isArray(value) || types.isProxy(value) || Object.getPrototypeOf(value) !== Array.prototype) return undefined;
  const length = value.length;
  if (length > PLAIN_LIST_MAX || Object.keys(value).length !== length) return undefined;
  let text = '[';
  for (let i = 0; i < length; i++) {
    if (!(i in value)) return undefined;
    const item: unknown = value[i];
    if (!plainItem(item)) return undefined;
    text += (i === 0 ? '' : ',') + JSON.stringify(item);
  }
  return `${text}]`;
}

/** An error as a worker leaves it on a failed job. */
interface PackedError {
  readonly error: EncodedError;
  readonly worker: WorkerId;
}

/** Packs a task's error (and this worker's identity) for the job's data. */
export function packError(error: unknown, limit: number): string {
  const record: PackedError = { error: encodeError(error), worker: thisWorker };
  try {
    return pack(record, limit, 'the error');
  } catch {
    // An error too large to send (a huge property, say) still says what it was.
    const slim = error instanceof Error ? Object.assign(new Error(error.message), { name: error.name }) : new Error(describe(error));
    return pack({ error: encodeError(slim), worker: thisWorker } satisfies PackedError, Infinity, 'the error');
  }
}

/** Rebuilds a worker's error, with `worker` ({ host, pid }) telling where it ran. */
export function unpackError(text: string): unknown {
  const { error, worker } = unpack(text) as PackedError;
  const rebuilt = decodeError(error);
  if (rebuilt instanceof Error) {
    Object.defineProperty(rebuilt, 'worker', { value: worker, writable: true, configurable: true, enumerable: true });
    if (typeof rebuilt.stack === 'string') rebuilt.stack += `\n    --- ran on worker ${worker.host} pid ${worker.pid} ---`;
  }
  return rebuilt;
}

/** Whether `value` looks like a `JobResult` (a job threadloop's worker completed). */
export function isJobResult(value: unknown): value is JobResult {
  return typeof value === 'object' && value !== null && typeof (value as JobResult).r === 'string';
}
