/** Bulk jobs end to end: cancel, retry and delete over a filter, in batches, and a job resumed by another engine after a stop. */
import { describe, expect, it, vi } from 'vitest'
import { BulkJobs } from '../../src/engine/durable/bulk-jobs.js'
import { RunControl } from '../../src/engine/durable/control.js'
import type { BulkJob, Store } from '../../src/store/types.js'
import { runReaches } from '../helpers/runs.js'
import { blocking, echo, type DurableSuite } from './harness.js'

/** Resolves with the job once it left `running`. */
async function jobEnds(read: () => Promise<BulkJob | undefined>): Promise<BulkJob> {
  let job: BulkJob | undefined
  await vi.waitFor(
    async () => {
      job = await read()
      expect(job?.state, JSON.stringify(job)).not.toBe('running')
    },
    { timeout: 10_000, interval: 20 },
  )
  return job!
}

export function describeBulk({ backend, engineWith }: DurableSuite): void {
  describe('bulk jobs', () => {
    it('cancels every matching run: pending at once, running through its signal; finished ones and later runs are left alone', async () => {
      const { task, started, aborted } = blocking()
      const engine = engineWith({ tasks: [task, echo] })
      await engine.start()
      const running = await engine.enqueue(task, {})
      await vi.waitFor(() => expect(started).toContain(running.id))
      const pending = await engine.enqueueMany(task, Array.from({ length: 12 }, () => ({})), { delayMs: 60_000 })
      const done = await engine.enqueue(echo, { text: 'x' }, { delayMs: 60_000 })
      await engine.cancel(done.id)
      const other = await engine.enqueue(echo, { text: 'not this task' }, { delayMs: 60_000 })
      expect(await engine.bulk.preview('cancel', { task: 'blocking' })).toMatchObject({ count: 13, sample: expect.arrayContaining([expect.objectContaining({ task: 'blocking' })]) as unknown })
      const job = await engine.bulk.start('cancel', { task: 'blocking' }, 'ann')
      expect(job).toMatchObject({ action: 'cancel', total: 13, state: 'running', filter: { task: 'blocking' }, createdBy: 'ann' })
      const later = await engine.enqueue(task, {}, { delayMs: 60_000 })
      const ended = await jobEnds(() => engine.bulk.get(job.id))
      expect(ended).toMatchObject({ state: 'finished', total: 13, done: 13, skipped: 0 })
      for (const run of pending) expect(await engine.getRun(run.id)).toMatchObject({ status: 'cancelled', cancelReason: `cancelled by ann (bulk job ${job.id})`, cancelledBy: 'ann' })
      await runReaches(engine, running.id, 'cancelled')
      // Who cancelled is kept for the run page, on a running run as on a pending one.
      expect((await engine.getRun(running.id))?.cancelledBy).toBe('ann')
      expect(aborted).toEqual([running.id])
      expect((await engine.getRun(later.id))?.status).toBe('pending')
      expect((await engine.getRun(other.id))?.status).toBe('pending')
      // Again: every run is final now, but for the one enqueued after the first job.
      const second = await engine.bulk.start('cancel', { task: 'blocking' })
      const again = await jobEnds(() => engine.bulk.get(second.id))
      expect(again).toMatchObject({ state: 'finished', total: 14, done: 1, skipped: 13 })
    })

    it('retries failed and cancelled runs and skips the rest; deletes every match', async () => {
      const engine = engineWith({ tasks: [echo] })
      const runs = await engine.enqueueMany(echo, Array.from({ length: 6 }, (_, i) => ({ text: String(i) })), { delayMs: 60_000 })
      for (const run of runs.slice(0, 4)) await engine.cancel(run.id)
      const retry = await engine.bulk.start('retry', { task: 'echo' })
      const retried = await jobEnds(() => engine.bulk.get(retry.id))
      expect(retried).toMatchObject({ state: 'finished', total: 6, done: 4, skipped: 2 })
      for (const run of runs) expect((await engine.getRun(run.id))?.status).toBe('pending')
      const deletion = await engine.bulk.start('delete', { task: 'echo', status: ['pending'] })
      const deleted = await jobEnds(() => engine.bulk.get(deletion.id))
      expect(deleted).toMatchObject({ state: 'finished', total: 6, done: 6, skipped: 0 })
      expect((await engine.listRuns({ task: 'echo' })).total).toBe(0)
      await expect(engine.bulk.start('cancel', { task: 'echo', page: 2 })).rejects.toThrow(/filter.page: a bulk job walks every matching run/)
      await expect(engine.bulk.start('archive' as 'cancel', {})).rejects.toThrow(/action: expected cancel, retry, delete/)
    })

    it('resumes a job from its cursor in another engine after the first one stopped mid-way, each run handled once', async () => {
      const open = backend.database()
      const first = engineWith({ tasks: [echo], store: open() })
      const runs = await first.enqueueMany(echo, Array.from({ length: 45 }, (_, i) => ({ text: String(i) })), { delayMs: 60_000 })
      // The first engine's bulk jobs, 10 runs a batch, stopping after its second batch.
      const storeA = open()
      const stopped: Promise<void>[] = []
      const bulkA: BulkJobs = bulkJobsOn(storeA, (job) => {
        if (job.done === 20) stopped.push(bulkA.stop())
      })
      const job = await bulkA.start('cancel', { task: 'echo' })
      await vi.waitFor(() => expect(stopped).toHaveLength(1))
      await stopped[0]
      const left = await storeA.getBulkJob(job.id)
      expect(left).toMatchObject({ state: 'running', done: 20, owner: null, cursor: [...runs].map((r) => r.id).sort()[19] })
      expect((await first.listRuns({ task: 'echo', status: 'cancelled' })).total).toBe(20)
      // "Restart": another engine on the same database picks it up.
      const second = engineWith({ tasks: [echo], store: open() })
      await second.bulk.resume()
      const ended = await jobEnds(() => second.bulk.get(job.id))
      expect(ended).toMatchObject({ state: 'finished', total: 45, done: 45, skipped: 0 })
      expect((await second.listRuns({ task: 'echo', status: 'cancelled' })).total).toBe(45)
      await storeA.close()
    })

    it('applies no further batch once the job is cancelled; an empty selection finishes at once', async () => {
      const open = backend.database()
      const engine = engineWith({ tasks: [echo], store: open() })
      await engine.enqueueMany(echo, Array.from({ length: 30 }, (_, i) => ({ text: String(i) })), { delayMs: 60_000 })
      const store = open()
      let jobId = ''
      const bulk = bulkJobsOn(store, async (job) => {
        if (job.done === 10) await engine.bulk.cancel(jobId)
      })
      jobId = (await bulk.start('cancel', { task: 'echo' })).id
      const ended = await jobEnds(() => engine.bulk.get(jobId))
      expect(ended).toMatchObject({ state: 'cancelled', done: 10 })
      await bulk.stop()
      expect((await engine.listRuns({ task: 'echo', status: 'cancelled' })).total).toBe(10)
      await store.close()
      const none = await engine.bulk.start('cancel', { task: 'nothing-matches' })
      expect(await jobEnds(() => engine.bulk.get(none.id))).toMatchObject({ state: 'finished', upTo: null, total: 0, done: 0, skipped: 0 })
      await expect(engine.bulk.cancel('missing')).rejects.toThrow(/unknown bulk job "missing"/)
    })
  })
}

/** Bulk jobs of a bare engine part on `store`, 10 runs a batch, calling `afterBatch` after each. */
function bulkJobsOn(store: Store, afterBatch: (job: BulkJob) => Promise<void> | void): BulkJobs {
  const control = new RunControl({ store: () => Promise.resolve(store), now: () => Date.now(), worker: () => undefined, emit: () => undefined })
  return new BulkJobs({
    store: () => Promise.resolve(store),
    now: () => Date.now(),
    control,
    onError: (error) => {
      throw error
    },
    batchSize: 10,
    afterBatch,
  })
}
