// A worker thread claiming runs from a SQLite file in a loop, through the store's own code (the
// TypeScript sources, loaded with jiti): what a second process on the same file would do. Its
// claims alternate between the one-statement claim (no cap binds) and the claim in rounds (a
// task cap below the limit binds), so both ways of claiming race each other.
// workerData: { path, workerId, threads, sync } where sync is an Int32Array on a SharedArrayBuffer:
// sync[0] is flipped to 1 by the main thread so that every thread begins at the same moment, and
// sync[1] counts the threads that made their first claim: each waits for all of them before it
// goes on, so that however the threads are scheduled, they all claim side by side.
import { createJiti } from 'jiti'
import { parentPort, workerData } from 'node:worker_threads'

const jiti = createJiti(import.meta.url)
const { sqliteStore } = await jiti.import('../../src/store/sqlite/store.ts')
const { path, workerId, threads, sync } = workerData
const store = sqliteStore(path)
parentPort.postMessage({ ready: true })
Atomics.wait(sync, 0, 0)
const claimed = []
let claims = 0
for (let empty = 0; empty < 2; ) {
  const now = Date.UTC(2026, 10, 23, 12)
  const taskCaps = claims % 2 === 1 ? new Map([['work', 2]]) : new Map()
  const runs = await store.claimRuns({ workerId, limit: 3, now, leaseUntil: now + 60_000, tasks: ['work', 'other'], queues: undefined, taskCaps, queueCaps: new Map() })
  claims++
  if (runs.length === 0) empty++
  for (const run of runs) claimed.push(run.id)
  if (claims === 1) {
    Atomics.add(sync, 1, 1)
    Atomics.notify(sync, 1)
    for (let seen = Atomics.load(sync, 1); seen < threads; seen = Atomics.load(sync, 1)) Atomics.wait(sync, 1, seen)
  }
}
await store.close()
parentPort.postMessage({ claimed, claims })
