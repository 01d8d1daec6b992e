/**
 * How a ThreadQueue item becomes bytes and back: the cheapest exact encoding for each kind of
 * value.
 *
 * - numbers go into the slot itself as a float64 (NaN by tag, so a NaN's payload bits can never
 *   pass for a tag); booleans, null and undefined by tag alone;
 * - well-formed strings as UTF-8, or as Latin-1 when they are ASCII (decoding Latin-1 skips
 *   UTF-8 validation);
 * - plain objects and arrays of plain data in the compact binary form of plain-codec.ts;
 * - anything else with `v8.serialize`, the structured clone format.
 *
 * Encoding writes into module-level scratch instead of allocating a record per put: `enc.*` holds
 * the last encoded item until the queue copies it into shared memory.
 */
import { Buffer } from 'node:buffer';
import * as v8 from 'node:v8';
import { TaskSerializationError } from '../wire/errors.js';
import { encodeShareables } from '../wire/shareable.js';
import { findUncloneable, MAX_DEPTH, withinDepth } from '../wire/clone-check.js';
import { decodePlain, encodePlain, plainBytes } from './plain-codec.js';

// Item tags. Tags from T_STRING up carry a payload in the byte ring.
export const T_NUMBER = 0;
export const T_UNDEFINED = 1;
export const T_NULL = 2;
export const T_TRUE = 3;
export const T_FALSE = 4;
export const T_NAN = 5;
export const T_STRING = 6;
export const T_ASCII = 7;
export const T_PLAIN = 8;
export const T_V8 = 9;

/**
 * The last encoded item: its payload of `len` bytes is `str`, or the first `len` bytes of `bytes`
 * (none: len 0).
 */
export const enc = {
  tag: T_NUMBER,
  num: 0,
  str: undefined as string | undefined,
  bytes: undefined as Uint8Array | undefined,
  len: 0,
};

/** A copy of `enc`, kept by a put that has to wait (later puts overwrite the scratch). */
export type Encoded = typeof enc;

export function saveEncoded(): Encoded {
  const saved = { ...enc };
  // The plain encoder's scratch buffer is reused by the next put.
  if (saved.bytes === plainBytes()) saved.bytes = saved.bytes.slice(0, saved.len);
  return saved;
}

export function restoreEncoded(e: Encoded): void {
  enc.tag = e.tag;
  enc.num = e.num;
  enc.str = e.str;
  enc.bytes = e.bytes;
  enc.len = e.len;
}

/** Drops the payload references, so a queue does not keep the last item alive. */
export function clearEncoded(): void {
  enc.str = undefined;
  enc.bytes = undefined;
}

// `String.prototype.isWellFormed` is in Node >= 20 but only in TypeScript's ES2024 lib.
const isWellFormed = (s: string): boolean =>
  (s as unknown as { isWellFormed(): boolean }).isWellFormed();

/** Sets `enc` to the string `s`: T_ASCII when it is ASCII, else T_STRING (UTF-8). */
function encodeText(s: string): void {
  const len = Buffer.byteLength(s, 'utf8');
  // One byte per UTF-16 unit means every unit is below 0x80: ASCII, which Latin-1 decodes alike.
  enc.tag = len === s.length ? T_ASCII : T_STRING;
  enc.str = s;
  enc.len = len;
}

function encodeV8(item: unknown, where: string): void {
  // v8.serialize would turn a Mutex (or any class instance) into `{}`: refuse Shareables.
  // Any thread may get it, the main one too: refused here what its deserializer could not rebuild
  // (it would throw a bare RangeError at get(), the item gone). Before the Shareables' walk, which recurses.
  if (!withinDepth(item, MAX_DEPTH.mainThread)) throw new TaskSerializationError(`${where}: the item is ${findUncloneable(item, MAX_DEPTH.mainThread)}`);
  encodeShareables(item, 'a ThreadQueue (pass it as a task argument instead)');
  let bytes: Uint8Array;
  try {
    bytes = v8.serialize(item);
  } catch (err) {
    throw new TaskSerializationError(
      `${where}: the item cannot be cloned (${(err as Error).message}); queue items must be ` +
        'structured-cloneable and hold no SharedArrayBuffer — pass shared objects as task arguments',
      { cause: err },
    );
  }
  enc.tag = T_V8;
  enc.bytes = bytes;
  enc.len = bytes.length;
}

/** Encodes `item` into `enc`. Throws RangeError when its payload exceeds `maxBytes`. */
export function encodeItem(item: unknown, maxBytes: number, where: string): void {
  enc.str = undefined;
  enc.bytes = undefined;
  enc.len = 0;
  switch (typeof item) {
    case 'number':
      if (item !== item) enc.tag = T_NAN;
      else {
        enc.tag = T_NUMBER;
        enc.num = item;
      }
      return;
    case 'undefined':
      enc.tag = T_UNDEFINED;
      return;
    case 'boolean':
      enc.tag = item ? T_TRUE : T_FALSE;
      return;
    case 'string':
      // UTF-8 cannot carry lone surrogates; v8 keeps them.
      if (isWellFormed(item)) encodeText(item);
      else encodeV8(item, where);
      break;
    default:
      if (item === null) {
        enc.tag = T_NULL;
        return;
      }
      if (typeof item === 'object') {
        const len = encodePlain(item, maxBytes);
        if (len >= 0) {
          enc.tag = T_PLAIN;
          enc.bytes = plainBytes();
          enc.len = len;
          return;
        }
      }
      encodeV8(item, where);
  }
  if (enc.len > maxBytes) {
    const n = enc.len;
    clearEncoded();
    throw new RangeError(
      `${where}: the item takes ${n} bytes encoded, more than maxItemBytes (${maxBytes}); ` +
        'raise maxItemBytes when creating the ThreadQueue',
    );
  }
}

/** Writes the payload of `enc` into `ring` at `at`, wrapping around the ring's end. */
export function writePayload(ring: Buffer, at: number): void {
  const len = enc.len;
  const room = ring.length - at;
  const str = enc.str;
  if (str !== undefined && len <= room) {
    ring.write(str, at, len, enc.tag === T_ASCII ? 'latin1' : 'utf8');
    return;
  }
  const bytes = enc.bytes ?? Buffer.from(str as string, 'utf8');
  if (len <= room) {
    ring.set(len === bytes.length ? bytes : bytes.subarray(0, len), at);
  } else {
    ring.set(bytes.subarray(0, room), at);
    ring.set(bytes.subarray(room, len), 0);
  }
}

// Plain-encoded payloads are copied out of the ring here and decoded after the lock is let go.
let inbox = Buffer.allocUnsafe(4096);

/**
 * Reads a payload of `len` bytes at `at` (wrapping), to be decoded by `decodePayload` once the
 * ring space is given back: the string for string tags, else a copy of the bytes.
 */
export function readPayload(ring: Buffer, at: number, len: number, tag: number): string | Uint8Array {
  const room = ring.length - at;
  if (tag === T_STRING || tag === T_ASCII) {
    const encoding = tag === T_ASCII ? 'latin1' : 'utf8';
    if (len <= room) return ring.toString(encoding, at, at + len);
    return Buffer.concat([ring.subarray(at), ring.subarray(0, len - room)]).toString(encoding);
  }
  let into: Uint8Array;
  if (tag === T_PLAIN) {
    if (inbox.length < len) inbox = Buffer.allocUnsafe(Math.max(len, inbox.length * 2));
    into = inbox;
  } else {
    into = new Uint8Array(len);
  }
  if (len <= room) {
    ring.copy(into, 0, at, at + len);
  } else {
    ring.copy(into, 0, at);
    ring.copy(into, room, 0, len - room);
  }
  return into;
}

/** The value of a payload read by `readPayload`. */
export function decodePayload(tag: number, payload: string | Uint8Array): unknown {
  if (tag === T_PLAIN) return decodePlain(payload as Buffer);
  if (tag === T_V8) return v8.deserialize(payload as Uint8Array);
  return payload;
}

/** The value of a tag without payload (not T_NUMBER). */
export function tagValue(tag: number): unknown {
  switch (tag) {
    case T_NULL:
      return null;
    case T_TRUE:
      return true;
    case T_FALSE:
      return false;
    case T_NAN:
      return NaN;
    default:
      return undefined;
  }
}
