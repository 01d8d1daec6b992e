// Raw BullMQ's own way to take CPU work off a worker's event loop: a sandboxed processor, run by
// BullMQ in worker threads (`useWorkerThreads: true`). The same shared functions as the others.
module.exports = async (job) => {
  const functions = await import('./functions.js');
  return functions[job.name](job.data);
};
