/**
 * The live event stream: the numbered ring buffer and resuming across its wrap-around, and
 * what a caller who may read only its own runs receives.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createEngine, defineTask, type Engine, type RunEvent } from '../../src/index.js'
import { serve, type AuthResolver, type Identity, type RunningServer } from '../../src/server/index.js'
import { EventLog } from '../../src/server/stream/event-log.js'
import { WsClient } from '../helpers/ws-client.js'

const chatty = defineTask({
  key: 'chatty',
  fields: [{ key: 'lines', type: 'int', default: 1 }],
  run(ctx) {
    for (let i = 1; i <= ctx.args.lines; i++) {
      ctx.log(`line ${i}`)
      ctx.progress({ step: i, steps: ctx.args.lines })
    }
    return { lines: ctx.args.lines }
  },
})

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

function newEngine(): Engine {
  const engine = createEngine({ tasks: [chatty], pollIntervalMs: 20 })
  cleanups.push(() => engine.close({ graceMs: 0 }))
  return engine
}

async function started(engine: Engine, options: Parameters<typeof serve>[1] = {}): Promise<RunningServer> {
  const running = await serve(engine, { port: 0, onError: () => undefined, ...options })
  cleanups.push(() => running.close())
  return running
}

/** A WebSocket client collecting JSON messages, closed after each test. */
class Client extends WsClient {
  constructor(url: string, headers: Record<string, string> = {}) {
    super(url, headers)
    cleanups.push(() => this.socket.terminate())
  }
}

const event = (n: number): RunEvent => ({ type: 'log', runId: `r${n}`, task: 't', time: new Date(0), entry: { seq: n, time: new Date(0), level: 'info', message: `m${n}` } })

describe('EventLog', () => {
  it('keeps the newest events across wrap-around and replays after any position it still holds', () => {
    const log = new EventLog(3)
    for (let n = 1; n <= 10; n++) log.append(event(n))
    expect(log.seq).toBe(10)
    expect(log.since(7)?.map((e) => e.seq)).toEqual([8, 9, 10])
    expect(log.since(8)?.map((e) => e.event.runId)).toEqual(['r9', 'r10'])
    expect(log.since(10)).toEqual([])
    expect(log.since(12)).toEqual([])
    // Event 7 was overwritten: a client that saw only up to 6 cannot be served without a gap.
    expect(log.since(6)).toBeUndefined()
    expect(log.since(0)).toBeUndefined()
  })

  it('replays from the start before it is full, and holds nothing with capacity 0', () => {
    const log = new EventLog(5)
    for (let n = 1; n <= 3; n++) log.append(event(n))
    expect(log.since(0)?.map((e) => e.seq)).toEqual([1, 2, 3])
    const none = new EventLog(0)
    none.append(event(1))
    expect(none.since(0)).toBeUndefined()
    expect(none.since(1)).toEqual([])
    expect(() => new EventLog(-1)).toThrow('streamBufferEvents: expected an integer >= 0, got -1 (number)')
  })
})

describe('resuming the stream', () => {
  it('replays exactly what was missed after the ring wrapped, and says "gap" one event too far back', async () => {
    const engine = newEngine()
    // Each in-process run of one line emits 4 events: started, log, progress, succeeded.
    const running = await started(engine, { streamBufferEvents: 8 })
    const url = `${running.url.replace('http', 'ws')}/api/stream`
    for (let i = 0; i < 3; i++) await engine.run(chatty, { lines: 1 })
    const client = new Client(url)
    await client.opened
    await vi.waitFor(() => expect(client.of('hello')).toHaveLength(1))
    const { epoch, seq } = client.of('hello')[0] as { epoch: string; seq: number }
    expect(seq).toBe(12)
    client.send({ type: 'subscribe', id: 'from6', after: 6, epoch })
    client.send({ type: 'subscribe', id: 'from4', after: 4, epoch })
    client.send({ type: 'subscribe', id: 'from3', after: 3, epoch })
    await vi.waitFor(() => expect(client.of('gap')).toHaveLength(1))
    await vi.waitFor(() => expect(client.events('from4')).toHaveLength(8))
    expect(client.events('from6').map((e) => e.seq)).toEqual([7, 8, 9, 10, 11, 12])
    expect(client.events('from6').map((e) => e.event.type)).toEqual(['progress', 'succeeded', 'started', 'log', 'progress', 'succeeded'])
    expect(client.events('from4').map((e) => e.seq)).toEqual([5, 6, 7, 8, 9, 10, 11, 12])
    expect(client.of('gap')).toMatchObject([{ id: 'from3', epoch, seq: 12 }])
    expect(client.events('from3')).toEqual([])
    // Live events continue after the replay, numbered on.
    await engine.run(chatty, { lines: 1 })
    await vi.waitFor(() => expect(client.events('from6').at(-1)?.seq).toBe(16))
    expect(client.events('from6').map((e) => e.seq)).toEqual([7, 8, 9, 10, 11, 12, 13, 14, 15, 16])
  })
})

describe('a caller who may read only its own runs', () => {
  const users: Record<string, Identity> = {
    ada: { id: 'ada', permissions: ['runs:read:own', 'runs:write'] },
    bob: { id: 'bob', permissions: ['runs:read:own', 'runs:write'] },
    ops: { id: 'ops', permissions: ['runs:read'] },
    none: { id: 'none', permissions: ['tasks:read'] },
  }
  const auth: AuthResolver = (request) => users[request.headers.get('x-user') ?? ''] ?? null

  async function setup() {
    const engine = newEngine()
    const running = await started(engine, { auth, streamPollIntervalMs: 20 })
    const url = `${running.url.replace('http', 'ws')}/api/stream`
    const connect = async (user: string) => {
      const client = new Client(url, { 'x-user': user })
      await client.opened
      await vi.waitFor(() => expect(client.of('hello')).toHaveLength(1))
      return client
    }
    return { engine, connect }
  }

  it('receives only events of its own runs, live and on resume, whatever the filter', async () => {
    const { engine, connect } = await setup()
    const ada = await connect('ada')
    const ops = await connect('ops')
    const epoch = (ada.of('hello')[0] as { epoch: string }).epoch
    ada.send({ type: 'subscribe', id: 'all' })
    ada.send({ type: 'subscribe', id: 'task', filter: { task: 'chatty' } })
    ops.send({ type: 'subscribe', id: 'all' })
    await vi.waitFor(() => expect(ada.of('subscribed').length + ops.of('subscribed').length).toBe(3))
    const adas = await engine.enqueue(chatty, { lines: 2 }, { createdBy: 'ada' })
    const bobs = await engine.enqueue(chatty, { lines: 2 }, { createdBy: 'bob' })
    const nobodys = await engine.enqueue(chatty, { lines: 1 })
    await engine.start()
    for (const id of [adas.id, bobs.id, nobodys.id]) await vi.waitFor(async () => expect((await engine.getRun(id))?.status).toBe('succeeded'))
    await vi.waitFor(() => expect(ops.events('all').filter((e) => e.event.type === 'succeeded')).toHaveLength(3))
    await vi.waitFor(() => expect(ada.events('all').some((e) => e.event.type === 'succeeded')).toBe(true))
    const types = ['created', 'started', 'log', 'progress', 'log', 'progress', 'succeeded']
    for (const id of ['all', 'task']) {
      expect(new Set(ada.events(id).map((e) => e.event.runId)), id).toEqual(new Set([adas.id]))
      expect(ada.events(id).map((e) => e.event.type), id).toEqual(types)
    }
    expect(new Set(ops.events('all').map((e) => e.event.runId))).toEqual(new Set([adas.id, bobs.id, nobodys.id]))
    // In order, as numbered.
    const seqs = ada.events('all').map((e) => e.seq)
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b))

    // Resuming from the start replays Ada's events only.
    const later = await connect('ada')
    later.send({ type: 'subscribe', id: 'resume', after: 0, epoch })
    await vi.waitFor(() => expect(later.events('resume').map((e) => e.event.type)).toEqual(types))
    expect(new Set(later.events('resume').map((e) => e.event.runId))).toEqual(new Set([adas.id]))
  })

  it('cannot subscribe to another caller\'s run nor read its stored log lines', async () => {
    const { engine, connect } = await setup()
    const bobs = await engine.enqueue(chatty, { lines: 3 }, { createdBy: 'bob' })
    const adas = await engine.enqueue(chatty, { lines: 2 }, { createdBy: 'ada' })
    await engine.start()
    for (const id of [adas.id, bobs.id]) await vi.waitFor(async () => expect((await engine.getRun(id))?.status).toBe('succeeded'))
    // Bob's next run executes while Ada is subscribed to it.
    const bobsNext = await engine.enqueue(chatty, { lines: 3 }, { createdBy: 'bob', delayMs: 200 })
    const ada = await connect('ada')
    ada.send({ type: 'subscribe', id: 'theirs', filter: { runId: bobs.id }, logsAfter: 0 })
    ada.send({ type: 'subscribe', id: 'theirs-live', filter: { runId: bobsNext.id } })
    ada.send({ type: 'subscribe', id: 'mine', filter: { runId: adas.id }, logsAfter: 0 })
    await vi.waitFor(() => expect(ada.of('logs')).toHaveLength(1))
    await vi.waitFor(() => expect(ada.of('error')).toHaveLength(2))
    expect(ada.of('error')).toEqual([
      { type: 'error', id: 'theirs', message: `subscribe: unknown run "${bobs.id}"` },
      { type: 'error', id: 'theirs-live', message: `subscribe: unknown run "${bobsNext.id}"` },
    ])
    expect(ada.of('subscribed').map((m) => m.id)).toEqual(['mine'])
    expect(ada.of('logs')).toMatchObject([{ id: 'mine', runId: adas.id }])
    expect((ada.of('logs')[0]!.logs as { message: string }[]).map((l) => l.message)).toEqual(['line 1', 'line 2'])
    // The refused subscriptions receive nothing later either.
    await vi.waitFor(async () => expect((await engine.getRun(bobsNext.id))?.status).toBe('succeeded'))
    expect(ada.messages.filter((m) => m.id === 'theirs' || m.id === 'theirs-live').map((m) => m.type)).toEqual(['error', 'error'])
  })

  it('is refused the stream without any permission to read runs', async () => {
    const { connect } = await setup()
    await expect(connect('none')).rejects.toThrow('HTTP 403')
  })
})
