/** A task's own validate and int64 arguments on durable runs: checked at enqueue, stored exact, checked again before each attempt. */
import { describe, expect, it } from 'vitest'
import { ValidationError, defineTask } from '../../src/index.js'
import { runReaches } from '../helpers/runs.js'
import type { DurableSuite } from './harness.js'

const BIG = '9007199254740993' // 2^53 + 1

/** A task with an int64 id and a day range whose end must not come before its start. */
const ranged = (withValidate: boolean) =>
  defineTask({
    key: 'ranged',
    fields: [
      { key: 'id', type: 'int64', required: true },
      { key: 'from', type: 'int', required: true },
      { key: 'to', type: 'number', required: true },
    ],
    ...(withValidate ? { validate: ({ from, to }: { from: number; to: number }) => (to < from ? { field: 'to' as const, message: 'must not come before from' } : undefined) } : {}),
    run: (ctx) => ({ type: typeof ctx.args.id, next: ctx.args.id + 1n, days: ctx.args.to - ctx.args.from }),
  })

export function describeValidate({ backend, engineWith }: DurableSuite): void {
  describe('validate and int64 arguments', () => {
    it('refuses what validate reports, at its field, for enqueue and enqueueMany; nothing is stored', async () => {
      const engine = engineWith({ tasks: [ranged(true)] })
      const error = (await engine.enqueue('ranged', { id: 1, from: 5, to: 2 }).catch((e: unknown) => e)) as ValidationError
      expect(error).toBeInstanceOf(ValidationError)
      expect(error.fields).toEqual([{ key: 'to', expected: 'must not come before from', received: '2 (number)', message: 'to: must not come before from', origin: 'validate' }])
      const batch = (await engine.enqueueMany('ranged', [{ id: 1, from: 1, to: 2 }, { id: 2, from: 9, to: 1 }, { id: 'x', from: 9, to: 1 }]).catch((e: unknown) => e)) as ValidationError
      // Item 2's fields are bad, so its validate never ran: only item 1 has the task's own issue.
      expect(batch.fields.map((f) => f.key)).toEqual(['[1].to', '[2].id'])
      expect(batch.message).toMatch(/^invalid arguments in batch: \[1\]\.to: must not come before from; \[2\]\.id: expected int64/)
      expect((await engine.listRuns()).total).toBe(0)
    })

    it('stores an int64 beyond 2^53 as its exact decimal string; the handler gets a bigint; a bigint in the data is stored as text', async () => {
      const engine = engineWith({ tasks: [ranged(true)] })
      const run = await engine.enqueue('ranged', { id: BIG, from: 1, to: 3 })
      expect(run.args).toEqual({ id: BIG, from: 1, to: 3 })
      await engine.start()
      const done = await runReaches(engine, run.id, 'succeeded')
      expect(done.args).toEqual({ id: BIG, from: 1, to: 3 })
      expect(done.data).toEqual({ type: 'bigint', next: '9007199254740994', days: 2 })
    })

    it('checks stored arguments again before each attempt: a run stored by code without the rule fails, naming the field, not retried', async () => {
      const open = backend.database()
      const before = engineWith({ tasks: [ranged(false)], store: open() })
      const run = await before.enqueue('ranged', { id: 7, from: 5, to: 2 })
      const worker = engineWith({ tasks: [ranged(true)], store: open() })
      await worker.start()
      const failed = await runReaches(worker, run.id, 'failed')
      expect(failed.error).toMatchObject({ code: 'ERR_UNRECOVERABLE' })
      expect(failed.error?.message).toBe("stored arguments no longer match the task's fields or its validate(): invalid arguments: to: must not come before from")
      expect(failed.attempt).toBe(1)
    })
  })
}
