/**
 * The built-in `fan-out` example: its nested pools run to the end on a store, its partial result
 * is merged under the returned one, and its check of the arguments as a whole refuses too many runs.
 */
import { describe, expect, it, vi } from 'vitest'
import { createEngine } from '../create-engine.js'
import { ValidationError } from '../errors.js'
import { sqliteStore } from '../store/sqlite/store.js'
import { countdown, fanOut } from './tasks.js'

describe('the fan-out example', () => {
  it('opens a pool per level, down to countdowns, and ends with what its pool tree did', async () => {
    const engine = createEngine({ tasks: [fanOut, countdown], store: sqliteStore(':memory:'), pollIntervalMs: 10 })
    try {
      await engine.start({ concurrency: 4 })
      const run = await engine.enqueue(fanOut, { width: 2, depth: 2 })
      await vi.waitFor(async () => expect((await engine.getRun(run.id))?.status).toBe('succeeded'), { timeout: 15_000, interval: 20 })
      const done = await engine.getRun(run.id)
      // Counted over the whole tree: two fan-outs and four countdowns.
      expect(done).toMatchObject({ status: 'succeeded', data: { opened: 2, succeeded: 6, failed: 0 } })
      expect((await engine.listRuns({ task: 'countdown' })).data.map((r) => r.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded'])
    } finally {
      await engine.close()
    }
  })

  it('refuses a width and depth that would make more than 200 runs, naming the width', async () => {
    const engine = createEngine({ tasks: [fanOut, countdown], store: sqliteStore(':memory:') })
    try {
      await expect(engine.enqueue(fanOut, { width: 20, depth: 2 })).rejects.toThrow(ValidationError)
      await expect(engine.enqueue(fanOut, { width: 20, depth: 2 })).rejects.toThrow(/width: width\^depth is 400 runs; at most 200/)
      expect((await engine.listRuns({})).total).toBe(0)
    } finally {
      await engine.close()
    }
  })
})
