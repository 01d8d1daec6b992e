/**
 * The producing side of a streamed call: iterates what the task returned (an async generator,
 * any async or sync iterable, or a promise of one) and sends each item back as a YIELD op,
 * spending one credit per item and pausing at none until the consumer's CREDIT comes
 * (core/stream.ts is the other side). An abort — the consumer left its `for await`, or aborted
 * the call — stops it and runs the iterator's `return()`, so a generator's `finally` blocks run
 * and the thread is free; then the call is answered like any other.
 */
import { RunningCall, enterCall, leaveCall } from './current-task.js';

/** Where a stream's items go: the connection back to the consumer. */
export interface StreamOut {
  yieldChunk(id: number, chunk: unknown): void;
}

/** `running`: may yield; `stopped`: aborted, its iterator is being (or has been) returned. */
type StreamRunState = 'running' | 'stopped';

export class StreamRun extends RunningCall {
  #credit = 0;
  #state: StreamRunState = 'running';
  /** Wakes the pump waiting for credit (or for the abort). */
  #wake: (() => void) | undefined = undefined;

  constructor(
    id: number,
    name: string,
    readonly out: StreamOut,
  ) {
    super(id, name, out);
  }

  /** The consumer took `n` chunks. */
  grant(n: number): void {
    this.#credit += n;
    this.#wakeUp();
  }

  override abort(reason: unknown): void {
    this.#state = 'stopped';
    super.abort(reason);
    this.#wakeUp();
  }

  /** Sends the items of `source` (the task's result); resolves with the iterator's return value. */
  async pump(source: unknown, credit: number): Promise<unknown> {
    this.#credit += credit;
    const iterator = iteratorOf(await source, this.name);
    let finished = false;
    try {
      for (;;) {
        while (this.#credit <= 0 && this.#state === 'running') await new Promise<void>((resolve) => (this.#wake = resolve));
        if (this.#state !== 'running') return undefined;
        let step: IteratorResult<unknown>;
        try {
          step = await this.#step(() => iterator.next());
        } catch (error) {
          finished = true; // an iterator that threw is done: no return() for it
          throw error;
        }
        if (step.done === true) {
          finished = true;
          return step.value;
        }
        if (this.#state !== 'running') return undefined; // made after the abort: nobody wants it
        this.#credit--;
        this.out.yieldChunk(this.id, step.value);
      }
    } finally {
      if (!finished && typeof iterator.return === 'function') await this.#step(() => iterator.return!());
    }
  }

  /** Resumes the generator as the current task, so its body can call `currentTask()`. */
  #step(resume: () => IteratorResult<unknown> | Promise<IteratorResult<unknown>>): IteratorResult<unknown> | Promise<IteratorResult<unknown>> {
    const previous = enterCall(this);
    try {
      return resume();
    } finally {
      leaveCall(previous);
    }
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}

type AnyIterator = Iterator<unknown> | AsyncIterator<unknown>;

function iteratorOf(source: unknown, name: string): AnyIterator {
  if (source !== null && source !== undefined) {
    const asyncIterator = (source as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator];
    if (typeof asyncIterator === 'function') return asyncIterator.call(source);
    const iterator = typeof source === 'string' ? undefined : (source as Partial<Iterable<unknown>>)[Symbol.iterator];
    if (typeof iterator === 'function') return iterator.call(source);
  }
  throw new TypeError(`task '${name}' was run as a stream, but returned ${typeof source === 'object' ? 'a non-iterable object' : String(source)}: stream an async function* (or a task returning an iterable)`);
}
