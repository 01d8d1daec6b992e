// Runs in a pool worker: CPU work here, data from the main thread's "database" via mainLoop().
import { mainLoop, taskModule } from 'threadloop/task';

const db = taskModule(new URL('./app-db.js', import.meta.url));

export async function enrich(id) {
  const user = await mainLoop().submit(db.findUser, id); // runs on the main thread
  let score = 0;
  for (let i = 0; i < 200_000; i++) score = (score + i * user.name.length) % 9973;
  return { ...user, score, thread: (await import('node:worker_threads')).threadId };
}
