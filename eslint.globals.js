// The globals a Node.js module sees; kept here rather than pulling in the `globals` package.
export default Object.fromEntries(
  [
    'process', 'console', 'Buffer', 'URL', 'URLSearchParams', 'setTimeout', 'clearTimeout',
    'setInterval', 'clearInterval', 'setImmediate', 'clearImmediate', 'queueMicrotask',
    'structuredClone', 'AbortController', 'AbortSignal', 'SharedArrayBuffer', 'Atomics',
    'TextEncoder', 'TextDecoder', 'performance', 'MessageChannel', 'MessagePort', 'globalThis',
    'fetch', 'EventTarget', 'Event', 'DOMException', 'WeakRef', 'FinalizationRegistry',
  ].map((name) => [name, 'readonly']),
);
