/**
 * Partial results over the live event stream (`GET /api/stream`): each `ctx.setResult` arrives
 * as a `result` event carrying the partial result so far, in order with the run's other events,
 * for in-process and durable runs alike.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createEngine, defineTask } from '../../src/index.js'
import { serve } from '../../src/server/index.js'
import { WsClient } from '../helpers/ws-client.js'

const counter = defineTask({
  key: 'counter',
  fields: [{ key: 'n', type: 'int', default: 2 }],
  run(ctx) {
    for (let i = 1; i <= ctx.args.n; i++) ctx.setResult({ [`item${i}`]: i, last: i })
    return { done: true }
  },
})

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

describe('result events on the stream', () => {
  it('streams each partial result, merged so far, between the run\'s start and its end', async () => {
    const engine = createEngine({ tasks: [counter], pollIntervalMs: 20 })
    cleanups.push(() => engine.close({ graceMs: 0 }))
    const running = await serve(engine, { port: 0, onError: () => undefined })
    cleanups.push(() => running.close())
    const client = new WsClient(`${running.url.replace('http', 'ws')}/api/stream`)
    cleanups.push(() => client.socket.terminate())
    await client.opened
    client.send({ type: 'subscribe', id: 'all', filter: { task: 'counter' } })
    await vi.waitFor(() => expect(client.of('subscribed')).toHaveLength(1))
    await engine.start()
    const durable = await engine.enqueue(counter, { n: 2 })
    const inProcess = await engine.run(counter, { n: 1 })
    await vi.waitFor(() => expect(client.events().filter((e) => e.event.type === 'succeeded')).toHaveLength(2))
    const of = (runId: string) => client.events().filter((e) => e.event.runId === runId)
    expect(of(durable.id).map((e) => e.event.type)).toEqual(['created', 'started', 'result', 'result', 'succeeded'])
    expect(of(durable.id).flatMap((e) => (e.event.type === 'result' ? [e.event.data] : []))).toEqual([
      { item1: 1, last: 1 },
      { item1: 1, item2: 2, last: 2 },
    ])
    expect(of(inProcess.id).flatMap((e) => (e.event.type === 'result' ? [e.event.data] : []))).toEqual([{ item1: 1, last: 1 }])
    expect(inProcess.data).toEqual({ item1: 1, last: 1, done: true })
  })
})
