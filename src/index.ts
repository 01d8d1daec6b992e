/** threadloop — async/await and threads together for Node.js. */
export * from './core/errors.js';
