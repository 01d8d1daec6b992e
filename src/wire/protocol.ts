/**
 * The wire protocol: what two threads (or a parent and a child process) say to each other.
 *
 * Every thread runs an event loop; a connection joins two of them. Either side may call the
 * other (a pool calls its workers; a worker calls back into the main loop), so both speak the
 * same small set of ops. Ops are packed flat into one array per message — a *frame* — because one
 * postMessage per tick costs far less than one per task; each op's arity is fixed by its code,
 * except CALL's, whose arguments follow it inline (argc says how many).
 *
 *     DEFINE  taskId ref                   the task behind taskId, sent once per connection
 *     CALL    id taskId slot flags argc origin arg… [credit] [context]
 *                                          run a task; reply with OK or ERR under the same id.
 *                                          origin: the id of the call the peer sent that was
 *                                          running here when this call was made, or 0.
 *                                          argc counts the trailing elements: a stream's first
 *                                          credit (flag Stream), then the caller's context
 *                                          (flag Context, see core/context.ts), each one element
 *     OK      id value                     the call returned value
 *     OKSHARED id value                    the same, with Shareables inside to revive
 *     ERR     id error                     the call threw (an encoded error, see error-codec)
 *     ABORT   id reason                    the caller aborted the call; fire its signal (a
 *                                          stream: also stop it and run its generator's return())
 *     YIELD   id chunk                     a streamed call yielded chunk (it spends one credit)
 *     CREDIT  id n                         the consumer took n chunks: the stream may yield n more
 *     READY   0 0                          the worker finished starting (initializer done)
 *     FAILED  0 error                      the worker could not start
 *     ATTACH  0 { port, wake }             also serve calls arriving on this port
 *     DYING   0 error                      a child process dies of this uncaught error
 */

/** Op codes, the first element of each op in a frame. */
export const Op = {
  Define: 1,
  Call: 2,
  Ok: 3,
  Err: 4,
  Abort: 5,
  Ready: 6,
  Failed: 7,
  /** OK whose value holds encoded Shareables. */
  OkShared: 8,
  /** Serve calls on this extra port too: a handle to this loop was sent to another thread. */
  Attach: 10,
  /** A child process is about to die of this uncaught error (threads report it themselves). */
  Dying: 11,
  /** A streamed call yielded a chunk. */
  Yield: 12,
  /** The consumer of a streamed call took chunks: that many more may be yielded. */
  Credit: 13,
} as const;

/** How many elements a CALL takes before its arguments, the op code included. */
export const CALL_HEAD = 7;

/** Where a CALL's fields sit, counted from its op code; its arguments follow at CALL_HEAD. */
export const CallAt = { id: 1, taskId: 2, slot: 3, flags: 4, argc: 5, origin: 6 } as const;

/** Where the fields of every other op sit: `op id value` (control ops: `op 0 value`). */
export const OpAt = { id: 1, value: 2 } as const;

/** How many elements each op takes in a frame, the op code included (CALL: plus its argc). */
export const opArity: Record<number, number> = {
  [Op.Define]: 3,
  [Op.Call]: CALL_HEAD,
  [Op.Ok]: 3,
  [Op.Err]: 3,
  [Op.Abort]: 3,
  [Op.Ready]: 3,
  [Op.Failed]: 3,
  [Op.OkShared]: 3,
  [Op.Attach]: 3,
  [Op.Dying]: 3,
  [Op.Yield]: 3,
  [Op.Credit]: 3,
};

/** Bits of a CALL's flags. */
export const CallFlag = {
  /** Args hold encoded Shareables: decode them before the call. */
  Shared: 1,
  /** args[0] is a chunk of items: call the task on each, reply with the array of results. */
  Chunk: 4,
  /** With Chunk: each item is an array of arguments, spread into the call (starmap). */
  Spread: 8,
  /** The last argument is the caller's context (core/context.ts), to run the task in. */
  Context: 16,
  /**
   * The task's result is iterated and its items sent back as YIELD ops; the argument before the
   * context (if any) is the first credit. The call settles (OK/ERR) when the iteration ends.
   */
  Stream: 32,
  /** Nobody waits for this call's result (callSoonThreadsafe): it cannot be what a caller awaits. */
  Detached: 64,
} as const;

/** A CALL's slot when the call takes no part in start/withdraw arbitration (see slots.ts). */
export const NO_SLOT = -1;

/** What a task is, as sent across: an export of a module, or the source of a function. */
export type TaskRef =
  | { readonly kind: 'module'; readonly url: string; readonly name: string }
  | { readonly kind: 'inline'; readonly source: string; readonly name: string };

/** A frame: ops packed flat. */
export type Frame = unknown[];

/** What lets a pool worker spin for its next call: how long, and a process-wide limit. */
export interface LingerSettings {
  /** The longest one linger spins, in milliseconds. */
  budgetMs: number;
  /**
   * Int32 cells shared by every pool of the process (runtime/linger-places.ts): places, one per
   * core but one (so the thread feeding the workers keeps a core), a lingering worker holds one;
   * and busy marks, one per core, which a worker running tasks holds. Both marked with its token.
   */
  places: SharedArrayBuffer;
  /** This worker's mark in a place (non-zero, unique in the process). */
  token: number;
}

/** What a worker receives at start, in `workerData` or the first IPC message. */
export interface WorkerBootstrap {
  /** Start/withdraw cells of the calls sent to the worker (threads only). */
  slots: SharedArrayBuffer | undefined;
  /** Start/withdraw cells of the calls the worker sends back (`mainLoop()`; threads only). */
  backSlots: SharedArrayBuffer | undefined;
  /** Bumped by the worker after each frame it sends, so a caller blocked in resultSync wakes. */
  wakeCaller: SharedArrayBuffer | undefined;
  /** Bumped by the caller after each frame it sends, so the worker can block in resultSync. */
  wakeWorker: SharedArrayBuffer | undefined;
  /** How a pool worker lingers for its next call (runtime/linger.ts); undefined: it does not. */
  linger: LingerSettings | undefined;
  /** Run once before any task; failing breaks the executor. */
  initializer: TaskRef | undefined;
  initArgs: unknown[];
  /** A name for the thread, shown in stack traces and by `currentLoop().name`. */
  name: string;
}
