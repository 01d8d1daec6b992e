// Layout and states of the raw SharedArrayBuffer ping-pong channel (see tasks/raw-sab-worker.js).
export const STATE = 0;
export const VALUE = 1;
export const CELLS = 2;

export const IDLE = 0;
export const REQUEST = 1;
export const RESPONSE = 2;
export const STOP = 3;

/** Spin iterations before falling back to Atomics.wait: a few microseconds of polling. */
export const SPIN = 2000;
