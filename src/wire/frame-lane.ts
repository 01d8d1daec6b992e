/**
 * A lane: the shared-memory fast path for small frames between two threads, one direction.
 *
 * A MessagePort costs a few microseconds per frame at each end (serialize, a queue behind a
 * mutex, deserialize) and wakes the receiver's event loop. When the receiver is polling anyway —
 * blocked in `resultSync`, or a pool worker lingering for its next call — a frame of plain
 * values (numbers, strings, booleans, null, undefined: a no-op call, its result) is written into
 * shared memory instead and read from there: the same frame of the same protocol, moved for the
 * cost of a few stores. Anything else, or a full lane, takes the port; the receiver puts the two
 * back in order by the frames' sequence numbers (runtime/channels.ts).
 *
 * A lane is a ring of SLOTS slots. A slot's state: 0 free, or the (non-zero) sequence number
 * of the frame it holds. The writer fills a free slot, then stores its number;
 * the reader, seeing the number it expects, decodes the slot, then frees it. One writer, one
 * reader.
 *
 * In the header: POLLING, whether the reader polls now (the writer takes the lane only while it
 * does; the reader drains the lane after it stops, see channels.ts); PORT_POSTS, how many frames
 * the writer has posted through the port instead (so the reader need not ask an empty port).
 */

/** Slots per lane: more than the frames one side sends before the other reads. */
const SLOTS = 8;
/** Bytes in a cache line: cells written by different threads are kept on different lines. */
const LINE = 64;
/**
 * Most elements in one frame sent through a lane (a call with a few arguments, a few results):
 * the slot's state, count and element tags share its first line.
 */
const MAX_ELEMENTS = LINE - 8;
/** Most UTF-16 code units of all strings of one frame. */
const MAX_CHARS = 512;

/**
 * Header lines: POLLING (written by the reader), PORT_POSTS (by the writer), each on a line of
 * its own. Then the slots, each starting on a line: its state and element count (Int32), its
 * tags (a byte per element), then a Float64 per element (a number, or a string's length), then
 * the strings' chars. A frame of a few elements thus moves two lines between the cores.
 */
const POLLING = 0;
const PORT_POSTS = LINE / 4;
const HEADER_BYTES = 2 * LINE;
const NUMS_OFFSET = LINE;
const CHARS_OFFSET = NUMS_OFFSET + MAX_ELEMENTS * 8;
const SLOT_BYTES = Math.ceil((CHARS_OFFSET + MAX_CHARS * 2) / LINE) * LINE;

const enum Tag {
  Undefined = 0,
  Null = 1,
  False = 2,
  True = 3,
  Number = 4,
  String = 5,
}

/** The bytes a lane takes. */
export const LANE_BYTES = HEADER_BYTES + SLOTS * SLOT_BYTES;

/** Frame sequence numbers: positive int32s, wrapping past 0x7fffffff to 1 (0 marks a free slot). */
export function nextSeq(seq: number): number {
  return seq === 0x7fffffff ? 1 : seq + 1;
}

export class FrameLane {
  readonly #header: Int32Array;
  /** Per slot: its state and count (Int32 cells 0 and 1), tags, numbers and chars. */
  readonly #heads: Int32Array[] = [];
  readonly #tags: Uint8Array[] = [];
  readonly #nums: Float64Array[] = [];
  readonly #chars: Uint16Array[] = [];
  /** Writer: the slot it fills next. Reader: the slot it reads next. */
  #slot = 0;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(LANE_BYTES)) {
    this.#header = new Int32Array(buffer, 0, HEADER_BYTES / 4);
    for (let i = 0; i < SLOTS; i++) {
      const base = HEADER_BYTES + i * SLOT_BYTES;
      this.#heads.push(new Int32Array(buffer, base, 2));
      this.#tags.push(new Uint8Array(buffer, base + 8, MAX_ELEMENTS));
      this.#nums.push(new Float64Array(buffer, base + NUMS_OFFSET, MAX_ELEMENTS));
      this.#chars.push(new Uint16Array(buffer, base + CHARS_OFFSET, MAX_CHARS));
    }
  }

  // ── the reader's side ────────────────────────────────────────────────────────────────────

  /** The reader polls for one more reason (`true`) or one fewer; returns how many remain. */
  poll(on: boolean): number {
    return on ? Atomics.add(this.#header, POLLING, 1) + 1 : Atomics.sub(this.#header, POLLING, 1) - 1;
  }

  /** How many frames the writer has posted through the port (an int32 count, wrapping). */
  portPosts(): number {
    return Atomics.load(this.#header, PORT_POSTS);
  }

  /** The sequence number of the next frame in the lane, or 0 if there is none. */
  peek(): number {
    return Atomics.load(this.#heads[this.#slot]!, 0);
  }

  /** Takes the next frame (`peek()` said there is one). */
  take(): unknown[] {
    const slot = this.#slot;
    const head = this.#heads[slot]!;
    const count = head[1]!;
    const nums = this.#nums[slot]!;
    const chars = this.#chars[slot]!;
    const tags = this.#tags[slot]!;
    const frame = new Array<unknown>(count);
    let c = 0;
    for (let i = 0; i < count; i++) {
      switch (tags[i] as Tag) {
        case Tag.Number:
          frame[i] = nums[i];
          break;
        case Tag.String: {
          const length = nums[i]!;
          frame[i] = decodeString(chars, c, length);
          c += length;
          break;
        }
        case Tag.True:
          frame[i] = true;
          break;
        case Tag.False:
          frame[i] = false;
          break;
        case Tag.Null:
          frame[i] = null;
          break;
        default:
          frame[i] = undefined;
      }
    }
    Atomics.store(head, 0, 0);
    this.#slot = (slot + 1) % SLOTS;
    return frame;
  }

  // ── the writer's side ────────────────────────────────────────────────────────────────────

  /** The writer posted a frame through the port (after it was posted: it is there to be read). */
  postedToPort(): void {
    Atomics.add(this.#header, PORT_POSTS, 1);
  }

  /** Whether the reader polls now, so that a frame written here is read without a port message. */
  polled(): boolean {
    return Atomics.load(this.#header, POLLING) > 0;
  }

  /**
   * Writes `frame` as number `seq` if it fits (plain values only, small enough, a free slot);
   * false if it does not, and nothing was written.
   */
  write(frame: readonly unknown[], seq: number): boolean {
    const slot = this.#slot;
    const head = this.#heads[slot]!;
    const count = frame.length;
    if (count > MAX_ELEMENTS || Atomics.load(head, 0) !== 0) return false;
    const nums = this.#nums[slot]!;
    const chars = this.#chars[slot]!;
    const tags = this.#tags[slot]!;
    let c = 0;
    for (let i = 0; i < count; i++) {
      const value = frame[i];
      switch (typeof value) {
        case 'number':
          tags[i] = Tag.Number;
          nums[i] = value;
          break;
        case 'string': {
          const length = value.length;
          if (c + length > MAX_CHARS) return false;
          for (let k = 0; k < length; k++) chars[c + k] = value.charCodeAt(k);
          c += length;
          tags[i] = Tag.String;
          nums[i] = length;
          break;
        }
        case 'boolean':
          tags[i] = value ? Tag.True : Tag.False;
          break;
        case 'undefined':
          tags[i] = Tag.Undefined;
          break;
        default:
          if (value !== null) return false;
          tags[i] = Tag.Null;
      }
    }
    head[1] = count;
    Atomics.store(head, 0, seq); // publishes the slot: the reader may take it now
    this.#slot = (slot + 1) % SLOTS;
    return true;
  }
}

function decodeString(chars: Uint16Array, from: number, length: number): string {
  if (length === 0) return '';
  // Short strings: one call; apply on a typed array is fast and needs no copy.
  return String.fromCharCode.apply(null, chars.subarray(from, from + length) as unknown as number[]);
}
