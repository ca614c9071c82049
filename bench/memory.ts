/**
 * Memory of a worker over a million runs (issue 16: RSS after 1,000,000 runs within 30 MB of its
 * RSS after the first 10,000). The worker runs in a child process of its own (`memory-worker.ts`,
 * `node --expose-gc`) on a SQLite file, so nothing of this process or of earlier suites counts,
 * and reports RSS and heap after a full collection at 10,000 runs processed and at each tenth of
 * the way. A leak grows with every tenth; a bounded cache (SQLite's own page cache is 32 MB per
 * connection) grows early, then stays.
 */
import { fork } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { MemorySample } from './memory-worker.js'
import type { Row } from './table.js'
import { target } from './targets.js'

export const MEMORY_RUNS = Number(process.env.BENCH_MEMORY_RUNS ?? 1_000_000)
/** The first point, the baseline every later one is compared with. */
export const MEMORY_BASELINE = Math.min(10_000, MEMORY_RUNS)

const mb = (bytes: number): number => Math.round(bytes / 1e5) / 10

/** Runs the worker process and returns its samples, in order. */
function runWorker(path: string, points: readonly number[]): Promise<MemorySample[]> {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'memory-worker.js')
  const child = fork(script, [path, String(MEMORY_RUNS), ...points.map(String)], { execArgv: ['--expose-gc'] })
  const samples: MemorySample[] = []
  child.on('message', (m) => samples.push(m as MemorySample))
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('exit', (code, signal) => (code === 0 ? resolve(samples) : reject(new Error(`memory worker exited with ${signal ?? code}`))))
  })
}

/** The table rows (RSS and heap at each point, growth since the baseline); records the target. */
export async function benchMemory(): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'taskengine-bench-memory-'))
  try {
    const tenths = Array.from({ length: 10 }, (_, i) => Math.round(((i + 1) * MEMORY_RUNS) / 10)).filter((n) => n > MEMORY_BASELINE)
    const samples = await runWorker(join(dir, 'memory.db'), [MEMORY_BASELINE, ...tenths])
    const base = samples[0]
    const last = samples.at(-1)
    if (base === undefined || last === undefined || samples.length !== tenths.length + 1) throw new Error(`memory worker reported ${samples.length} of ${tenths.length + 1} points`)
    target(`Worker RSS growth, ${base.processed.toLocaleString('en-US')} → ${last.processed.toLocaleString('en-US')} runs processed`, mb(last.rss - base.rss), '≤', 30, 'MB')
    return samples.map((s) => ({
      'runs processed': s.processed,
      'RSS MB': mb(s.rss),
      'heap used MB': mb(s.heapUsed),
      'external MB': mb(s.external),
      'RSS Δ MB': s === base ? '—' : mb(s.rss - base.rss),
      'heap Δ MB': s === base ? '—' : mb(s.heapUsed - base.heapUsed),
    }))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
