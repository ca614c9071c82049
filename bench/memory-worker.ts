/**
 * The worker process of the memory bench (`memory.ts`): a SQLite worker at concurrency 100 that
 * enqueues its own no-op runs, 10,000 at a time and never more than 20,000 waiting (so a million
 * arguments are never in memory at once), and reports its memory after a full collection at the
 * points the parent asks for. Run with `--expose-gc`.
 *
 * Arguments: database path, runs in all, then the processed counts to report at (ascending).
 */
import { Engine, defineTask } from '../src/index.js'
import { sqliteStore } from '../src/store/sqlite/store.js'

/** What the worker reports at each point, in bytes. */
export interface MemorySample {
  readonly processed: number
  readonly rss: number
  readonly heapUsed: number
  readonly external: number
}

const CHUNK = 10_000
const [path, totalText, ...pointTexts] = process.argv.slice(2)
const total = Number(totalText)
const points = pointTexts.map(Number)
const gc = (globalThis as { gc?: () => void }).gc
if (path === undefined || gc === undefined) throw new Error('usage: node --expose-gc memory-worker.js <db path> <runs> <points…>')

let executed = 0
const noop = defineTask({
  key: 'noop',
  run: () => {
    executed++
  },
})
const engine = new Engine({ tasks: [noop], store: sqliteStore(path), onError: (e) => console.error(e) })
const args = Array.from({ length: CHUNK }, () => ({}))
await engine.start({ concurrency: 100 })

function sample(): void {
  gc!()
  const m = process.memoryUsage()
  const report: MemorySample = { processed: executed, rss: m.rss, heapUsed: m.heapUsed, external: m.external }
  process.send!(report)
}

let enqueued = 0
let next = 0
while (executed < total) {
  if (enqueued < total && enqueued - executed < 2 * CHUNK) {
    const n = Math.min(CHUNK, total - enqueued)
    await engine.enqueueMany(noop, n === CHUNK ? args : args.slice(0, n))
    enqueued += n
  } else await new Promise((r) => setTimeout(r, 1))
  while (next < points.length && executed >= points[next]!) {
    sample()
    next++
  }
}
await engine.close()
