/**
 * A connection joins the event loops of two threads (or a parent and a child process) and does
 * both jobs of the wire protocol on each side: it sends calls and settles their results, and it
 * serves the calls the other side sends by running tasks here. The same class serves a pool
 * worker, a loop thread, and the main thread answering calls from its workers — one mechanism.
 *
 * Outgoing ops collect in an outbox that is flushed as one frame at the end of the current
 * microtask turn, so a burst of calls (or results) costs one message.
 */
import type { Transferable } from '../wire/transferable.js';
import type { CallSender, Endpoint } from '../core/endpoint.js';
import type { TransferList } from '../wire/args.js';
import { TaskSerializationError } from '../wire/errors.js';
import { decodeShareables, discardShareables, encodeShareables, loadRevivers, reviversReady, shareablesInUse } from '../wire/shareable.js';
import { encodeError, type EncodedError } from '../wire/error-codec.js';
import { CALL_HEAD, CallAt, CallFlag, NO_SLOT, Op, OpAt, opArity, type Frame, type TaskRef } from '../wire/protocol.js';
import type { Slots } from '../wire/slots.js';
import type { Wake } from '../wire/wake.js';
import type { Task } from '../core/task.js';
import { enterCall, leaveCall, runningCall, type RunningCall } from './current-task.js';
import { currentThread } from './current-thread.js';
import { invoke, makeRunningCall, needsExtras, runWithExtras } from './call-extras.js';
import type { StreamOut, StreamRun } from './stream-run.js';
import { HeldCalls } from './held-calls.js';
import { explainMissingIdentifier, TaskTable } from './task-registry.js';
import { isMoved } from './move.js';
import { portsSent } from './unsent-ports.js';
import type { Linger } from './linger.js';
import type { Channel } from './channels.js';

/** What the owner of a connection (a pool, a loop handle, a worker) hears from it. */
export interface ConnectionEvents {
  /** An outgoing call settled: `ok` with its value, or not with an encoded error. */
  result(id: number, ok: boolean, value: unknown): void;
  /** A control op: READY, FAILED (with an encoded error), ATTACH, DYING. */
  control?(op: number, value: unknown): void;
}

const resolved = Promise.resolve();

// A run under FAST_MS is fast, and a task that ran fast TRUSTED_RUNS times in a row may run before
// the outbox is sent — unless something in it has waited HOLD_MS already, or fewer than
// HOLD_MIN_BEHIND frame elements (about four calls) follow in the batch: holding saves little on a
// short batch, and sending at once lets the caller turn that result around while this side runs
// the rest, instead of the two sides taking turns.
const FAST_MS = 0.05;
const TRUSTED_RUNS = 16;
const HOLD_MS = 0.2;
const HOLD_MIN_BEHIND = 4 * CALL_HEAD;

export class Connection implements CallSender, StreamOut {
  #out: unknown[] = [];
  #transfer: Transferable[] = [];
  #flushQueued = false;
  /** Task ids this side has defined to the peer. */
  readonly #defined = new Set<number>();
  /** Tasks the peer has defined to this side. */
  readonly #table = new TaskTable();
  /** Calls served here that have not settled (async ones, or waiting for their module). */
  readonly #running = new Map<number, RunningCall>();
  /** Per task, how many of its latest runs here were fast (see #run). */
  readonly #fastRuns = new Map<number, number>();
  /** When the oldest op still in the outbox was queued. */
  #heldSince = 0;
  /** Calls waiting for their turn to start (behind a module that is loading), and the last. */
  #deferred = 0;
  #lastDeferred: Promise<void> | undefined = undefined;
  #closed = false;
  /** How many elements of the frame being read follow the call being served. */
  #behind = 0;
  /** Calls that arrived while held (this thread blocks in resultSync), to run in order after. */
  readonly #held = new HeldCalls(({ id, taskId, args, slot, flags }) => {
    this.#behind = 0;
    this.#serve(id, taskId, args, slot, flags);
  });
  /** The endpoint whose calls this connection sends (their YIELD ops go to it). */
  #endpoint: Endpoint | undefined = undefined;

  constructor(
    readonly channel: Channel,
    readonly events: ConnectionEvents,
    /** Arbitration cells for calls the peer sends ahead (pool workers only). */
    readonly slots?: Slots,
    /** Bumped after each frame sent, for a peer blocked in `resultSync`. */
    readonly wake?: Wake,
    /** Spins for the peer's next frame after each one sent (pool workers only, see linger.ts). */
    readonly linger?: Linger,
  ) {
    linger?.attach(this);
    // One message event, then whatever else has arrived, read directly: an event costs far more.
    channel.listen((frame) => {
      linger?.busy(true); // a lingering worker must not take this thread's core meanwhile
      try {
        this.receive(frame);
        this.receivePending();
      } finally {
        linger?.busy(false);
      }
    });
  }

  /** How many calls served here are still running. */
  get servingCount(): number {
    return this.#running.size;
  }

  // ── calling ──────────────────────────────────────────────────────────────────────────────

  /** Queues a call of `task` on the peer; the result comes back through `events.result`. */
  call(id: number, task: Task, args: unknown[], slot: number, flags: number, transfer: TransferList | undefined): void {
    if (!this.#defined.has(task.id)) {
      this.#defined.add(task.id);
      this.#out.push(Op.Define, task.id, task.ref);
    }
    // The arguments go inline, not as an array of their own: one object fewer to clone per call.
    const out = this.#out;
    // Made while a call from the peer runs here (its synchronous part)? Name it, so a peer
    // blocked on that call can tell that this one is what it waits for (see CallTable.waitSync).
    const running = runningCall();
    out.push(Op.Call, id, task.id, slot, flags, args.length, running !== undefined && running.via === this ? running.id : 0);
    for (let i = 0; i < args.length; i++) out.push(args[i]);
    if (transfer !== undefined && transfer.length > 0) this.#transfer.push(...transfer);
    this.#schedule();
  }

  /** Asks the peer to fire the abort signal of call `id`. */
  abort(id: number, reason: unknown): void {
    this.#out.push(Op.Abort, id, encodeError(reason));
    this.#schedule();
  }

  /** Lets the peer's streamed call `id` yield `n` more chunks. */
  credit(id: number, n: number): void {
    this.#out.push(Op.Credit, id, n);
    this.#schedule();
  }

  bind(endpoint: Endpoint): void {
    this.#endpoint = endpoint;
  }

  /** Sends a chunk a streamed call served here yielded (moved, if it is `move(...)`). */
  yieldChunk(id: number, chunk: unknown): void {
    if (this.#closed) return;
    if (isMoved(chunk)) {
      this.#transfer.push(...chunk.transfer);
      chunk = chunk.value;
    }
    this.#out.push(Op.Yield, id, chunk);
    this.#schedule();
  }

  /** Sends a control op (READY, FAILED, ATTACH, …) to the peer. */
  control(op: number, value: unknown, transfer?: readonly Transferable[]): void {
    this.#out.push(op, 0, value);
    if (transfer !== undefined) this.#transfer.push(...transfer);
    this.#schedule();
  }

  readonly #flushLater = (): void => this.flush();
  /** Sends everything queued now, as one frame. */
  flush(): void {
    this.#flushQueued = false;
    if (this.#out.length === 0 || this.#closed) return;
    const frame = this.#out;
    const transfer = this.#transfer;
    this.#out = [];
    this.#transfer = [];
    this.linger?.sending(); // before the peer can answer (see Linger.sending)
    try {
      this.channel.post(frame, transfer);
      if (transfer.length > 0) portsSent(transfer);
    } catch (error) {
      this.#postOneByOne(frame, transfer, error);
    }
    this.wake?.bump();
  }

  /** While on, calls that arrive wait (not inside a blocking `resultSync`); once off, they run in order, from a microtask. */
  holdCalls(on: boolean): void {
    this.#held.hold(on);
    this.poll(on); // blocked, it reads its frames by hand
  }

  peerPolls(): boolean {
    return this.channel.peerPolls?.() === true;
  }

  /** This thread polls for frames (`true`), or stops (see Channel.poll). */
  poll(on: boolean): void {
    this.channel.poll?.(on);
  }

  /** How many calls arrived while held and wait to run. */
  get heldCalls(): number {
    return this.#held.size;
  }

  heldFrom(id: number): 'call' | 'unknown' | 'none' {
    return this.#held.from(id);
  }

  /** Stops sending and serving; nothing more goes out. */
  close(): void {
    this.#closed = true;
    this.#out = [];
    this.#transfer = [];
  }

  #schedule(): void {
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    // When the outbox began to wait matters only while a batch of calls is served (see #run);
    // a stale time there just sends sooner.
    if (this.#behind > 0) this.#heldSince = performance.now();
    // Not queueMicrotask: Node wraps each callback in an AsyncResource, several times the cost.
    resolved.then(this.#flushLater);
  }

  /** A frame failed to clone: its ops go one at a time, so that only the one that cannot be
   * cloned fails — a call fails back to its caller here, a result fails on the other side. */
  #postOneByOne(frame: Frame, transfer: Transferable[], firstError: unknown): void {
    for (let i = 0; i < frame.length; ) {
      const op = frame[i] as number;
      const size = op === Op.Call ? CALL_HEAD + (frame[i + CallAt.argc] as number) : (opArity[op] ?? 3);
      const single = frame.slice(i, i + size);
      i += size;
      try {
        this.channel.post(single, transfer.filter((t) => !isDetached(t)));
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(firstError);
        const id = single[OpAt.id] as number;
        if (op === Op.Call) {
          this.events.result(id, false, encodeError(new TaskSerializationError(`an argument cannot be sent to the other thread: ${reason}`, { cause: error })));
        } else if (op === Op.Ok || op === Op.OkShared || op === Op.Err || op === Op.Yield) {
          const what = op === Op.Yield ? 'a chunk the task yielded' : "the task's result";
          const failure = new TaskSerializationError(`${what} cannot be sent back to the calling thread: ${reason}`);
          this.#running.get(id)?.abort(failure); // a stream stops: its consumer got the error
          this.channel.post([Op.Err, id, encodeError(failure)], []);
        }
      }
    }
  }

  // ── receiving ────────────────────────────────────────────────────────────────────────────

  /** Handles one frame from the peer. */
  receive(frame: Frame): void {
    for (let i = 0; i < frame.length; ) {
      const op = frame[i] as number;
      switch (op) {
        case Op.Call:
        {
          const end = i + CALL_HEAD + (frame[i + CallAt.argc] as number);
          const id = frame[i + CallAt.id] as number;
          const taskId = frame[i + CallAt.taskId] as number;
          const slot = frame[i + CallAt.slot] as number;
          const flags = frame[i + CallAt.flags] as number;
          const args = frame.slice(i + CALL_HEAD, end);
          if (this.#held.holding) {
            this.#held.add({ id, taskId, args, slot, flags, origin: frame[i + CallAt.origin] as number });
          } else {
            this.#behind = frame.length - end;
            this.#serve(id, taskId, args, slot, flags);
          }
          i = end;
          continue;
        }
        case Op.Ok:
          this.events.result(frame[i + OpAt.id] as number, true, frame[i + OpAt.value]);
          break;
        case Op.OkShared: {
          const id = frame[i + OpAt.id] as number;
          const value = frame[i + OpAt.value];
          if (reviversReady()) this.events.result(id, true, decodeShareables(value));
          else void loadRevivers().then(() => this.events.result(id, true, decodeShareables(value)));
          break;
        }
        case Op.Err:
          this.events.result(frame[i + OpAt.id] as number, false, frame[i + OpAt.value]);
          break;
        case Op.Define:
          this.#table.define(frame[i + OpAt.id] as number, frame[i + OpAt.value] as TaskRef);
          break;
        case Op.Abort:
          this.#running.get(frame[i + OpAt.id] as number)?.abort(reviveReason(frame[i + OpAt.value] as EncodedError));
          break;
        case Op.Yield:
          this.#endpoint?.yielded(frame[i + OpAt.id] as number, frame[i + OpAt.value]);
          break;
        case Op.Credit:
          (this.#running.get(frame[i + OpAt.id] as number) as StreamRun | undefined)?.grant?.(frame[i + OpAt.value] as number);
          break;
        default:
          this.events.control?.(op, frame[i + OpAt.value]);
      }
      i += 3;
    }
  }

  /** Drains frames that have arrived, without the event loop. Returns how many it handled. */
  receivePending(): number {
    let n = 0;
    for (let frame = this.channel.receiveSync(); frame !== undefined; frame = this.channel.receiveSync()) {
      this.receive(frame);
      n++;
    }
    return n;
  }

  // ── serving ──────────────────────────────────────────────────────────────────────────────

  #serve(id: number, taskId: number, args: unknown[], slot: number, flags: number): void {
    let entry = this.#table.get(taskId);
    if ((flags & CallFlag.Shared) !== 0 && !reviversReady()) {
      const task = entry;
      entry = loadRevivers().then(() => task);
    }
    // A call that never runs is forgotten, and lets go of the loop handles among its arguments (their ports).
    const drop = (): void => {
      this.#running.delete(id);
      if ((flags & CallFlag.Shared) !== 0) discardShareables(args);
    };
    if (typeof entry === 'function' && this.#deferred === 0) {
      if (slot === NO_SLOT || this.slots!.start(slot, id)) this.#run(entry, id, taskId, args, flags, undefined);
      else drop(); // the pool took it back
      return;
    }
    // The task's module is still loading, or an earlier call waits for its own: calls start in
    // the order they came, so this one waits its turn. It has not started, so the pool may
    // still take it back; an abort meanwhile is remembered by its RunningCall.
    const call = makeRunningCall(id, this.#table.ref(taskId)?.name ?? 'unknown', flags, this);
    this.#running.set(id, call);
    this.#deferred++;
    const turn = (this.#lastDeferred ?? Promise.resolve()).then(() => entry);
    this.#lastDeferred = turn.then(
      (fn) => {
        this.#deferred--;
        if (slot !== NO_SLOT && !this.slots!.start(slot, id)) drop();
        else {
          this.#behind = 0; // it runs on its own, after the frame it came in
          this.#run(fn, id, taskId, args, flags, call);
        }
      },
      (error) => {
        this.#deferred--;
        drop();
        if (slot === NO_SLOT || this.slots!.start(slot, id)) this.#fail(id, taskId, flags, error);
      },
    );
  }

  #run(fn: (...args: unknown[]) => unknown, id: number, taskId: number, args: unknown[], flags: number, call: RunningCall | undefined): void {
    // A call may block for long, so results already made go out before it starts: a finished
    // task is neither delayed by nor lost with one behind it in a batch. The exception, which
    // keeps long batches of tiny tasks cheap: a task that ran fast its last few times may run
    // first, as long as nothing has waited long to be sent and more calls follow.
    if (
      this.#out.length > 0 &&
      (this.#behind < HOLD_MIN_BEHIND || (this.#fastRuns.get(taskId) ?? 0) < TRUSTED_RUNS || performance.now() - this.#heldSince > HOLD_MS)
    ) {
      this.flush();
    }
    // Only calls in a batch are timed (after the send: waking a peer can be slow): holding
    // results back is for batches, and a call alone needs no clock.
    const timed = this.#behind > 0;
    const started = timed ? performance.now() : 0;
    call ??= makeRunningCall(id, fn.name, flags, this);
    let result: unknown;
    const previous = enterCall(call);
    try {
      if ((flags & CallFlag.Shared) !== 0) args = decodeShareables(args) as unknown[];
      result = needsExtras(flags) ? runWithExtras(call, fn, args, flags, currentThread().name) : invoke(fn, args, flags);
    } catch (error) {
      this.#running.delete(id);
      this.#fail(id, taskId, flags, error);
      return;
    } finally {
      leaveCall(previous);
      if (timed) this.#timed(taskId, performance.now() - started);
    }
    if (isThenable(result)) {
      this.#running.set(id, call);
      result.then(
        (value) => {
          this.#running.delete(id);
          this.#succeed(id, flags, value);
        },
        (error) => {
          this.#running.delete(id);
          this.#fail(id, taskId, flags, error);
        },
      );
    } else {
      this.#running.delete(id);
      this.#succeed(id, flags, result);
    }
  }

  /** Counts a task's consecutive fast runs (up to TRUSTED_RUNS); a slow run starts over. */
  #timed(taskId: number, ms: number): void {
    const runs = this.#fastRuns.get(taskId) ?? 0;
    if (ms >= FAST_MS) {
      if (runs !== 0) this.#fastRuns.set(taskId, 0);
    } else if (runs < TRUSTED_RUNS) {
      this.#fastRuns.set(taskId, runs + 1);
    }
  }

  #succeed(id: number, flags: number, value: unknown): void {
    if (this.#closed) return;
    // A detached call's result has no reader (callSoonThreadsafe ignores its callback's value, as
    // Python's does): that it ran is all that goes back, whatever it returned (a timer, a socket).
    if ((flags & CallFlag.Detached) !== 0) value = undefined;
    const moved = isMoved(value) ? value : undefined;
    if (moved !== undefined) value = moved.value;
    let encoded: ReturnType<typeof encodeShareables> | undefined;
    try {
      encoded = shareablesInUse() ? encodeShareables(value) : undefined;
    } catch (error) {
      // Too deep to walk for shared primitives: this call fails, not the thread.
      this.#fail(id, -1, flags, new TaskSerializationError(`the task's result cannot be sent back to the calling thread: ${(error as Error).message}`, { cause: error }));
      return;
    }
    if (moved !== undefined) this.#transfer.push(...moved.transfer);
    if (encoded?.transfer !== undefined) this.#transfer.push(...encoded.transfer); // (a loop handle's port)
    this.#out.push(encoded?.found === true ? Op.OkShared : Op.Ok, id, encoded?.found === true ? encoded.value : value);
    this.#schedule();
  }

  #fail(id: number, taskId: number, flags: number, error: unknown): void {
    error = explainMissingIdentifier(error, this.#table.ref(taskId));
    if (this.#closed) return;
    this.#out.push(Op.Err, id, encodeError(error));
    this.#schedule();
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}

function isDetached(t: Transferable): boolean {
  return t instanceof ArrayBuffer && t.byteLength === 0 && (t as ArrayBuffer & { detached?: boolean }).detached === true;
}

function reviveReason(encoded: EncodedError): unknown {
  return encoded.error ? Object.assign(new Error(encoded.message), { name: encoded.name }) : encoded.value;
}
