/**
 * `runAll` batches as in-process pools: their `onFailure` and `onSettled` hooks run once every
 * item finished, in order, before the batch resolves; a throwing hook is reported and the next
 * one still runs.
 */
import { describe, expect, it } from 'vitest'
import { ValidationError } from '../../errors.js'
import { createEngine } from '../../create-engine.js'
import { defineTask } from '../../task/define.js'

const job = defineTask({
  key: 'job',
  fields: [{ key: 'fail', type: 'bool' }],
  run(ctx) {
    if (ctx.args.fail) throw new Error('job broke')
    return 'ok'
  },
})

describe('runAll hooks', () => {
  it('run onFailure then onSettled hooks in registration order before the batch resolves, with the failed results', async () => {
    const errors: Error[] = []
    const engine = createEngine({ tasks: [job], onError: (e) => errors.push(e) })
    const calls: string[] = []
    const batch = engine
      .runAll(job, 'nightly', [{ fail: false }, { fail: true }, { fail: false }])
      .onSettled((s) => void calls.push(`settled ${s.status.succeeded}/${s.status.total} done=${s.status.done}`))
      .onFailure(async (s) => {
        await Promise.resolve()
        calls.push(`failure ${s.failed.map((r) => r.error?.message).join()}`)
      })
      .onFailure(() => {
        throw new Error('cleanup broke')
      })
      .onSettled(() => void calls.push('settled 2'))
    const results = await batch
    expect(results.map((r) => r.status)).toEqual(['succeeded', 'failed', 'succeeded'])
    expect(calls).toEqual(['failure job broke', 'settled 2/3 done=true', 'settled 2'])
    expect(errors.map((e) => e.message)).toEqual([`runAll batch ${batch.id} onFailure hook failed: cleanup broke`])
  })

  it('skip onFailure when every run succeeded; a hook added after the batch settled runs at once', async () => {
    const engine = createEngine({ tasks: [job] })
    const calls: string[] = []
    const batch = engine.runAll(job, 'fine', [{}, {}]).onFailure(() => void calls.push('failure'))
    for await (const result of batch) expect(result.status).toBe('succeeded')
    const late = await new Promise((resolve) => {
      batch.onSettled(resolve)
    })
    expect(late).toMatchObject({ status: { total: 2, succeeded: 2, failed: 0, cancelled: 0 }, failed: [] })
    expect(calls).toEqual([])
  })

  it('count a cancelled run as a failure for onFailure', async () => {
    const engine = createEngine({ tasks: [job] })
    const controller = new AbortController()
    controller.abort('not today')
    const seen: string[] = []
    await engine.runAll(job, 'cancelled', [{}], { signal: controller.signal }).onFailure((s) => void seen.push(`${s.status.cancelled} ${s.failed[0]?.status}`))
    expect(seen).toEqual(['1 cancelled'])
  })

  it('refuse a hook that is not a function', () => {
    const engine = createEngine({ tasks: [job] })
    const batch = engine.runAll(job, 'x', [])
    expect(() => batch.onSettled('nope' as never)).toThrow(ValidationError)
    expect(() => batch.onFailure(undefined as never)).toThrow(/onFailure\(\) takes a function, got undefined/)
  })
})
