/**
 * The same durable workload on BullMQ with the local Redis (127.0.0.1:6379), in the same run:
 * bulk enqueue (addBulk), processing at the same concurrencies, and latency from `add()` to
 * processor start. BullMQ runs with its documented high-throughput settings (completed jobs
 * removed, the default stalled-job checks), and each measurement uses a fresh queue.
 */
import { Queue, Worker } from 'bullmq'
import { Redis } from 'ioredis'
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { percentile } from '../table.js'
import { CONCURRENCIES, LATENCY_RUNS, N, type DurableFigures } from '../sqlite.js'

/** BullMQ wants a constructed client under ESM; workers get their own (blocking) connection. */
const clients: Redis[] = []
const connection = (): Redis => {
  const client = new Redis({ host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null })
  clients.push(client)
  return client
}
/** BullMQ leaves clients it was given open. */
async function closeClients(): Promise<void> {
  await Promise.all(clients.splice(0).map((c) => c.quit().catch(() => c.disconnect())))
}
const JOB_OPTIONS = { removeOnComplete: true, removeOnFail: 1000 }
const BULK_CHUNK = 10_000

async function fresh(): Promise<Queue> {
  const queue = new Queue(`bench-${randomUUID()}`, { connection: connection() })
  await queue.waitUntilReady()
  return queue
}

async function fill(queue: Queue): Promise<void> {
  for (let i = 0; i < N; i += BULK_CHUNK) {
    const count = Math.min(BULK_CHUNK, N - i)
    await queue.addBulk(Array.from({ length: count }, () => ({ name: 'noop', data: {}, opts: JOB_OPTIONS })))
  }
}

export async function benchBullmq(): Promise<DurableFigures> {
  // Bulk enqueue.
  let queue = await fresh()
  await queue.addBulk(Array.from({ length: 1000 }, () => ({ name: 'noop', data: {}, opts: JOB_OPTIONS }))) // warm-up
  let start = performance.now()
  await fill(queue)
  const enqueueMs = performance.now() - start
  await queue.obliterate({ force: true })
  await queue.close()

  const processPerSec = new Map<number, number>()
  for (const concurrency of CONCURRENCIES) {
    queue = await fresh()
    await fill(queue)
    let executed = 0
    start = performance.now()
    const worker = new Worker(
      queue.name,
      async () => {
        executed++
      },
      { connection: connection(), concurrency },
    )
    while (executed < N) await new Promise((r) => setTimeout(r, 2))
    // close() waits for the active jobs to be acknowledged as completed.
    await worker.close()
    processPerSec.set(concurrency, N / ((performance.now() - start) / 1000))
    const counts = await queue.getJobCounts('wait', 'active', 'failed')
    if (counts.wait! + counts.active! + counts.failed! !== 0) throw new Error(`BullMQ left jobs behind: ${JSON.stringify(counts)}`)
    await queue.obliterate({ force: true })
    await queue.close()
  }

  // Latency: add → processor start, one job at a time.
  queue = await fresh()
  let startedAt = 0
  let finish: () => void = () => undefined
  const worker = new Worker(
    queue.name,
    async () => {
      startedAt = performance.now()
      finish()
    },
    { connection: connection(), concurrency: 10 },
  )
  await worker.waitUntilReady()
  const samples: number[] = []
  for (let i = 0; i < LATENCY_RUNS + 50; i++) {
    const done = new Promise<void>((resolve) => (finish = resolve))
    const t0 = performance.now()
    await queue.add('probe', {}, JOB_OPTIONS)
    await done
    if (i >= 50) samples.push(startedAt - t0)
  }
  await worker.close()
  await queue.obliterate({ force: true })
  await queue.close()
  await closeClients()
  samples.sort((a, b) => a - b)
  return {
    system: `BullMQ ${bullmqVersion()} (Redis)`,
    enqueuePerSec: N / (enqueueMs / 1000),
    processPerSec,
    latencyMs: { p50: percentile(samples, 50), p95: percentile(samples, 95), p99: percentile(samples, 99) },
  }
}

function bullmqVersion(): string {
  try {
    // The compiled suite sits in dist-bench/bench/peers/, where bench/peers/install.mjs links the peers' node_modules.
    return (JSON.parse(readFileSync(new URL('./node_modules/bullmq/package.json', import.meta.url), 'utf8')) as { version: string }).version
  } catch {
    return ''
  }
}
