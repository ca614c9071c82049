// A worker thread claiming runs from a SQLite file in a loop, through the store's own code (the
// TypeScript sources, loaded with jiti): what a second process on the same file would do.
// workerData: { path, workerId, start } where start is an Int32Array on a SharedArrayBuffer that
// the main thread flips to 1 so that every thread begins claiming at the same moment.
import { createJiti } from 'jiti'
import { parentPort, workerData } from 'node:worker_threads'

const jiti = createJiti(import.meta.url)
const { sqliteStore } = await jiti.import('../../src/store/sqlite/store.ts')
const { path, workerId, start } = workerData
const store = sqliteStore(path)
parentPort.postMessage({ ready: true })
Atomics.wait(start, 0, 0)
const claimed = []
let claims = 0
for (let empty = 0; empty < 2; ) {
  const now = Date.UTC(2026, 10, 23, 12)
  const runs = await store.claimRuns({ workerId, limit: 3, now, leaseUntil: now + 60_000, tasks: ['work'], queues: undefined, taskCaps: new Map(), queueCaps: new Map() })
  claims++
  if (runs.length === 0) empty++
  for (const run of runs) claimed.push(run.id)
}
await store.close()
parentPort.postMessage({ claimed, claims })
