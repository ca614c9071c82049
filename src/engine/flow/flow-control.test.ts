/** Flow control's limits: code defaults, live changes over them, the compiled policy, and checked patches. */
import { describe, expect, it } from 'vitest'
import { NotFoundError, ValidationError } from '../../errors.js'
import { defineTask } from '../../task/define.js'
import { TaskRegistry } from '../../task/registry.js'
import { FlowControl, flowKey } from './flow-control.js'

function setup(): { flow: FlowControl; stored: Record<string, unknown>; saves: Record<string, unknown>[] } {
  const registry = new TaskRegistry()
  registry.register(
    defineTask({ key: 'sync', limits: { concurrency: 5, groupBy: (args) => String((args as Record<string, unknown>)['t']), groupConcurrency: 2 }, run: () => undefined }),
    defineTask({ key: 'plain', run: () => undefined }),
  )
  let stored: Record<string, unknown> = {}
  const saves: Record<string, unknown>[] = []
  const flow = new FlowControl({
    registry,
    queueDefaults: new Map([['mail', { concurrency: 3 }]]),
    stored: () => stored,
    reload: async () => stored,
    save: async (values) => {
      saves.push(values)
      stored = { ...stored, ...values }
    },
  })
  return { flow, get stored() { return stored }, saves }
}

describe('FlowControl', () => {
  it('compiles code limits into the policy; live changes override them field by field, null removing one', async () => {
    const { flow, saves } = setup()
    const before = flow.policy()
    expect(before.taskConcurrency).toEqual(new Map([['sync', 5]]))
    expect(before.groups).toEqual(new Map([['sync', 2]]))
    expect(before.queueConcurrency).toEqual(new Map([['mail', 3]]))
    expect(flow.policy()).toBe(before) // cached while nothing changed

    expect(await flow.updateQueue('mail', { rate: { max: 10, perMs: 1000 }, paused: true }, async () => false)).toEqual({ concurrency: 3, rate: { max: 10, perMs: 1000 }, paused: true })
    expect(await flow.updateTask('sync', { concurrency: null, groupConcurrency: 1 })).toEqual({ concurrency: null, rate: null, groupConcurrency: 1, paused: false })
    expect(await flow.updateTask('sync', { paused: true })).toMatchObject({ groupConcurrency: 1, paused: true }) // earlier changes kept
    expect(saves.at(-1)).toEqual({ [flowKey('task', 'sync')]: { concurrency: null, groupConcurrency: 1, paused: true } })

    const after = flow.policy()
    expect(after).not.toBe(before)
    expect(after.taskConcurrency).toEqual(new Map())
    expect(after.groups).toEqual(new Map([['sync', 1]]))
    expect(after.queueRates).toEqual(new Map([['mail', { max: 10, perMs: 1000 }]]))
    expect(after.pausedQueues).toEqual(new Set(['mail']))
    expect(after.pausedTasks).toEqual(new Set(['sync']))
  })

  it('names every bad field of a patch, and unknown tasks and queues; nothing is saved', async () => {
    const { flow, saves } = setup()
    const bad = await flow.updateTask('sync', { concurrency: -1, rate: { max: 0, perMs: 10 }, paused: 'yes' as never, groupConcurrency: 1.5 }).catch((e: unknown) => e)
    expect(bad).toBeInstanceOf(ValidationError)
    expect((bad as ValidationError).fields.map((f) => f.key)).toEqual(['concurrency', 'groupConcurrency', 'rate', 'paused'])
    expect((bad as ValidationError).message).toContain('concurrency must be an integer from 1 to 1000000, got -1')
    await expect(flow.updateQueue('mail', { concurency: 2 }, async () => true)).rejects.toThrow(/concurency.*did you mean concurrency/)
    await expect(flow.updateQueue('mail', { rate: { max: 1 } }, async () => true)).rejects.toThrow(/rate\.perMs is missing/)
    await expect(flow.updateQueue('nowhere', { paused: true }, async () => false)).rejects.toBeInstanceOf(NotFoundError)
    await expect(flow.updateQueue('bad name!', { paused: true }, async () => true)).rejects.toBeInstanceOf(ValidationError)
    await expect(flow.updateTask('missing', { paused: true })).rejects.toBeInstanceOf(NotFoundError)
    await expect(flow.updateTask('plain', { groupConcurrency: 2, paused: 1 })).rejects.toThrow(/paused must be true or false/)
    expect(saves).toEqual([])
  })

  it('ignores stored values that do not check out (written by hand): the code limit holds', () => {
    const registry = new TaskRegistry()
    registry.register(defineTask({ key: 'sync', limits: { concurrency: 5 }, run: () => undefined }))
    const stored = { [flowKey('task', 'sync')]: { concurrency: 'many', paused: true }, [flowKey('queue', 'x')]: 'junk' }
    const flow = new FlowControl({ registry, queueDefaults: new Map(), stored: () => stored, reload: async () => stored, save: async () => undefined })
    expect(flow.task('sync')).toEqual({ concurrency: 5, rate: null, groupConcurrency: null, paused: true })
    expect(flow.queue('x')).toEqual({ concurrency: null, rate: null, paused: false })
  })
})
