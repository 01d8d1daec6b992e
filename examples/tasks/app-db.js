// A stand-in for a resource that lives on the main thread: a connection pool with state.
// Loaded once per thread; on the main thread this is the application's own instance.
const rows = new Map([
  [1, { id: 1, name: 'Ada' }],
  [2, { id: 2, name: 'Grace' }],
  [3, { id: 3, name: 'Linus' }],
]);
let queries = 0;

export async function findUser(id) {
  queries++;
  await new Promise((resolve) => setImmediate(resolve)); // an async driver call
  return rows.get(id) ?? null;
}

export function queryCount() {
  return queries;
}
