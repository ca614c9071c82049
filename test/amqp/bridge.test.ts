/**
 * The AMQP bridge in this process against the real broker: run events on a bound queue with
 * their routing keys, in order per run; a connection closed by the broker is survived; a request
 * id dedupes on PostgreSQL too; a broker that is away costs buffered events (oldest dropped),
 * never a blocked worker (and shows in its metrics); bad options are refused.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Channel, ConsumeMessage } from 'amqplib'
import { afterAll, expect, it } from 'vitest'
import { Registry } from 'prom-client'
import { registerAmqpMetrics, startAmqpBridge, type AmqpBridge } from '../../src/amqp/index.js'
import { Engine } from '../../src/engine/engine.js'
import { ValidationError } from '../../src/errors.js'
import { sqliteStore } from '../../src/store/sqlite/store.js'
import { defineTask } from '../../src/task/define.js'
import { AMQP_URL, amqpReachable, closeConnectionsNamed, describeAmqp, drainQueue, openBroker, testNames, type TestNames } from '../helpers/amqp.js'
import { closedPort } from '../helpers/cli.js'
import { describePostgres } from '../helpers/postgres.js'
import { Watched } from '../helpers/watched.js'

const dir = mkdtempSync(join(tmpdir(), 'taskengine-amqp-bridge-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let files = 0

const steps = defineTask({
  key: 'report.steps',
  fields: [{ key: 'n', type: 'int', required: true }],
  maxAttempts: 2,
  backoff: { type: 'fixed', delayMs: 10 },
  async run(ctx) {
    ctx.progress({ percent: 50, step: 1, steps: 2 })
    ctx.log(`attempt ${ctx.attempt}`)
    if (ctx.attempt === 1) throw new Error('first attempt fails')
    return { n: ctx.args.n }
  },
})
const boom = defineTask({
  key: 'boom',
  maxAttempts: 1,
  async run() {
    throw new Error('always fails')
  },
})
const hold = defineTask({
  key: 'hold',
  async run(ctx) {
    await new Promise((_resolve, reject: (reason: Error) => void) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error)))
  },
})

/** Messages arriving on a queue, watched. */
async function collect(channel: Channel, queue: string): Promise<Watched<ConsumeMessage[]>> {
  const seen = new Watched<ConsumeMessage[]>([])
  await channel.consume(queue, (message) => {
    if (message !== null) seen.set([...seen.value, message])
  }, { noAck: true })
  return seen
}

/** A bridge on `engine` with the test's names and quiet logs (kept for assertions). */
function bridgeOn(engine: Engine, names: TestNames, logs: string[] = [], extra: Partial<Parameters<typeof startAmqpBridge>[1]> = {}): AmqpBridge {
  return startAmqpBridge(engine, { url: AMQP_URL, queue: names.queue, exchange: names.exchange, connectionName: names.connectionName, reconnectDelayMs: 20, onLog: (line) => logs.push(line), ...extra })
}

const body = (value: unknown): Buffer => Buffer.from(JSON.stringify(value))

await describeAmqp('AMQP bridge', () => {
  it('publishes every event of runs that retry, fail and get cancelled, in order per run, as runs.<task>.<event>.<runId>', async () => {
    const names = testNames('events')
    const broker = await openBroker()
    const engine = new Engine({ tasks: [steps, boom, hold], store: sqliteStore(join(dir, `events-${++files}.db`)), pollIntervalMs: 20 })
    const bridge = bridgeOn(engine, names)
    const watchQueue = `${names.queue}.watch`
    try {
      await bridge.ready
      await broker.channel.assertQueue(watchQueue, { exclusive: true })
      await broker.channel.bindQueue(watchQueue, names.exchange, 'runs.#')
      const events = await collect(broker.channel, watchQueue)
      const replyQueue = (await broker.channel.assertQueue('', { exclusive: true })).queue
      const replies = await collect(broker.channel, replyQueue)
      // Requests come in over AMQP too.
      broker.channel.sendToQueue(names.queue, body({ type: 'report.steps', title: 'steps', userId: 'ada', params: { n: 7 } }), { messageId: 'steps-1', replyTo: replyQueue })
      broker.channel.sendToQueue(names.queue, body({ type: 'boom', params: {} }), { messageId: 'boom-1', replyTo: replyQueue })
      broker.channel.sendToQueue(names.queue, body({ type: 'hold', params: {} }), { messageId: 'hold-1', replyTo: replyQueue })
      await broker.channel.waitForConfirms()
      const answered = await replies.until((r) => r.length === 3, 'three replies')
      const runIds = new Map(answered.map((m) => [String(m.properties.correlationId), (JSON.parse(m.content.toString()) as { runId: string }).runId]))
      await engine.start({ concurrency: 4 })
      const held = runIds.get('hold-1')!
      await events.until((list) => list.some((m) => m.fields.routingKey === `runs.hold.started.${held}`), 'hold started')
      await engine.cancel(held)
      const ends = (list: ConsumeMessage[]): number => list.filter((m) => /\.(succeeded|failed|cancelled)\./.test(m.fields.routingKey)).length
      const all = await events.until((list) => ends(list) === 3, 'three runs ended')
      const parsed = all.map((m) => ({ key: m.fields.routingKey, ...(JSON.parse(m.content.toString()) as { type: string; runId: string; task: string; seq: number }) }))
      for (const e of parsed) expect(e.key).toBe(`runs.${e.task.replaceAll('.', '%2E')}.${e.type}.${e.runId}`)
      const of = (id: string): typeof parsed => parsed.filter((e) => e.runId === id)
      for (const id of runIds.values()) {
        const seqs = of(id).map((e) => e.seq)
        expect(seqs).toEqual([...seqs].sort((a, b) => a - b))
      }
      const stepsRun = runIds.get('steps-1')!
      expect(of(stepsRun).map((e) => e.type).filter((t) => t !== 'log' && t !== 'progress')).toEqual(['created', 'started', 'retrying', 'started', 'succeeded'])
      expect(of(stepsRun).map((e) => e.type)).toEqual(expect.arrayContaining(['progress', 'log']))
      expect(of(stepsRun)[0]).toMatchObject({ key: `runs.report%2Esteps.created.${stepsRun}`, requestId: 'steps-1', label: 'steps', createdBy: 'ada' })
      expect(of(stepsRun).at(-1)).toMatchObject({ type: 'succeeded', attempt: 2, durationMs: expect.any(Number) as unknown })
      expect(of(stepsRun).find((e) => e.type === 'progress')).toMatchObject({ progress: { percent: 50, step: 1, steps: 2 } })
      expect(of(runIds.get('boom-1')!).map((e) => e.type)).toEqual(['created', 'started', 'failed'])
      expect(of(runIds.get('boom-1')!).at(-1)).toMatchObject({ error: { message: 'always fails' } })
      expect(of(held).map((e) => e.type)).toEqual(['created', 'started', 'cancelled'])
      expect(bridge.stats()).toMatchObject({ connected: true, enqueued: 3, eventsDropped: 0 })
    } finally {
      await bridge.close()
      await engine.close({ graceMs: 0 })
      await broker.cleanUp(names, [watchQueue])
    }
  })

  it('survives a connection closed by the broker: reconnects, declares again, keeps consuming and publishing', async () => {
    const names = testNames('drop')
    const broker = await openBroker()
    const engine = new Engine({ tasks: [steps], store: sqliteStore(join(dir, `drop-${++files}.db`)) })
    const logs: string[] = []
    const bridge = bridgeOn(engine, names, logs)
    const watchQueue = `${names.queue}.watch`
    try {
      await bridge.ready
      await broker.channel.assertQueue(watchQueue, { exclusive: true })
      await broker.channel.bindQueue(watchQueue, names.exchange, 'runs.*.created.*')
      const events = await collect(broker.channel, watchQueue)
      const stats = new Watched(bridge.stats())
      const poll = setInterval(() => stats.set(bridge.stats()), 10)
      try {
        broker.channel.sendToQueue(names.queue, body({ type: 'report.steps', params: { n: 1 } }), { messageId: 'before' })
        await events.until((list) => list.length === 1, 'the first created event')
        expect(await closeConnectionsNamed(names.connectionName)).toBe(1)
        await stats.until((s) => s.reconnects === 1 && s.connected, 'the bridge to reconnect', 10_000)
        broker.channel.sendToQueue(names.queue, body({ type: 'report.steps', params: { n: 2 } }), { messageId: 'after' })
        await events.until((list) => list.length === 2, 'the created event after the reconnect')
      } finally {
        clearInterval(poll)
      }
      expect((await engine.listRuns({})).data.map((r) => r.requestId).sort()).toEqual(['after', 'before'])
      expect(logs.some((line) => /connection lost .*reconnecting/.test(line))).toBe(true)
    } finally {
      await bridge.close()
      await engine.close()
      await broker.cleanUp(names, [watchQueue])
    }
  })

  it('buffers events while the broker is away, dropping the oldest past bufferLimit, without slowing enqueues; close() does not hang', async () => {
    const engine = new Engine({ tasks: [steps], store: sqliteStore(join(dir, `away-${++files}.db`)) })
    const logs = new Watched<string[]>([])
    const bridge = startAmqpBridge(engine, { url: `amqp://127.0.0.1:${await closedPort()}`, queue: 'q', exchange: 'x', bufferLimit: 5, reconnectDelayMs: 5_000, onLog: (line) => logs.set([...logs.value, line]) })
    try {
      await logs.until((lines) => lines.some((line) => /cannot reach amqp:\/\/127\.0\.0\.1:\d+ .*next try in/.test(line)), 'a failed connect')
      await engine.enqueueMany(steps, Array.from({ length: 20 }, (_, n) => ({ n })))
      expect(bridge.stats()).toMatchObject({ connected: false, eventsBuffered: 5, eventsDropped: 15, eventsPublished: 0 })
      expect(logs.value.filter((line) => line.includes('dropping the oldest'))).toHaveLength(1)
      // The same counts as Prometheus metrics.
      const registry = new Registry()
      registerAmqpMetrics(registry, bridge)
      const scrape = await registry.metrics()
      for (const line of ['taskengine_amqp_events_dropped_total 15', 'taskengine_amqp_events_buffered 5', 'taskengine_amqp_connected 0', 'taskengine_amqp_requests_total{outcome="enqueued"} 0']) expect(scrape).toContain(line)
    } finally {
      // Not connected, waiting 5 s for its next try: close() ends the wait at once.
      const closing = Date.now()
      await bridge.close()
      expect(Date.now() - closing).toBeLessThan(1_000)
      await engine.close()
    }
  })

  it("runs the task's validate(args) after its fields: a request it refuses is dead-lettered and answered with the field it names, and makes no run", async () => {
    const names = testNames('validate')
    const broker = await openBroker()
    const window = defineTask({
      key: 'report.window',
      fields: [{ key: 'from', type: 'int', required: true }, { key: 'to', type: 'int', required: true }],
      validate: (args) => (args.to > args.from ? undefined : { field: 'to', message: 'must be after from' }),
      async run() {},
    })
    const engine = new Engine({ tasks: [window], store: sqliteStore(join(dir, `validate-${++files}.db`)) })
    const bridge = bridgeOn(engine, names)
    try {
      await bridge.ready
      const replyQueue = (await broker.channel.assertQueue('', { exclusive: true })).queue
      const replies = await collect(broker.channel, replyQueue)
      broker.channel.sendToQueue(names.queue, body({ type: 'report.window', params: { from: 5, to: 1 } }), { messageId: 'w-bad', correlationId: 'w-bad', replyTo: replyQueue })
      broker.channel.sendToQueue(names.queue, body({ type: 'report.window', params: { from: 1, to: 5 } }), { messageId: 'w-good', correlationId: 'w-good', replyTo: replyQueue })
      const all = await replies.until((r) => r.length === 2, 'two replies')
      const byId = new Map(all.map((m) => [m.properties.correlationId as string, JSON.parse(m.content.toString()) as { ok: boolean; runId?: string; code?: string; errors?: { key?: string; message: string }[] }]))
      expect(byId.get('w-bad')).toMatchObject({ ok: false, code: 'ERR_VALIDATION', errors: [{ key: 'to', message: expect.stringContaining('must be after from') as string }] })
      expect(byId.get('w-good')).toMatchObject({ ok: true })
      const runs = (await engine.listRuns({})).data
      expect(runs.map((r) => r.requestId)).toEqual(['w-good'])
      let dead: Awaited<ReturnType<typeof drainQueue>> = []
      const deadline = Date.now() + 10_000
      while (dead.length === 0 && Date.now() < deadline) dead = await drainQueue(broker.channel, names.deadLetterQueue)
      expect(dead.map((m): unknown => m.properties.messageId)).toEqual(['w-bad'])
      expect(String(dead[0]!.properties.headers?.['x-taskengine-error'])).toContain('must be after from')
    } finally {
      await bridge.close()
      await engine.close()
      await broker.cleanUp(names)
    }
  })

  it('publishes a result holding a bigint as its decimal string, and the events after it still go out', async () => {
    const names = testNames('bigint')
    const broker = await openBroker()
    const big = defineTask({
      key: 'big',
      maxAttempts: 1,
      async run(ctx) {
        ctx.setResult({ n: 2n ** 64n })
        ctx.log('after the result')
      },
    })
    const engine = new Engine({ tasks: [big], store: sqliteStore(join(dir, `bigint-${++files}.db`)), pollIntervalMs: 20 })
    const bridge = bridgeOn(engine, names)
    const watchQueue = `${names.queue}.watch`
    try {
      await bridge.ready
      await broker.channel.assertQueue(watchQueue, { exclusive: true })
      await broker.channel.bindQueue(watchQueue, names.exchange, 'runs.#')
      const events = await collect(broker.channel, watchQueue)
      const run = await engine.enqueue(big, {})
      await engine.start({ concurrency: 1 })
      const all = await events.until((list) => list.some((m) => m.fields.routingKey === `runs.big.succeeded.${run.id}`), 'the run to succeed')
      const parsed = all.map((m) => JSON.parse(m.content.toString()) as { type: string; data?: unknown; entry?: { message?: string } })
      expect(parsed.map((e) => e.type)).toEqual(['created', 'started', 'result', 'log', 'succeeded'])
      expect(parsed[2]!.data).toEqual({ n: '18446744073709551616' })
      expect(bridge.stats()).toMatchObject({ eventsDropped: 0 })
    } finally {
      await bridge.close()
      await engine.close({ graceMs: 0 })
      await broker.cleanUp(names, [watchQueue])
    }
  })

  it('a request whose enqueue fails twice (the store briefly away) still gets its run, after waits, and is never dead-lettered; a new run is audited once, a redelivery counted as deduplicated', async () => {
    const names = testNames('outage')
    const broker = await openBroker()
    const engine = new Engine({ tasks: [steps], store: sqliteStore(join(dir, `outage-${++files}.db`)) })
    const original = engine.enqueue.bind(engine)
    let failures = 0
    Object.assign(engine, {
      enqueue: (...args: Parameters<typeof original>) => (failures < 2 ? (failures++, Promise.reject(new Error('the store is unreachable'))) : original(...args)),
    })
    const logs: string[] = []
    const bridge = bridgeOn(engine, names, logs)
    try {
      await bridge.ready
      const replyQueue = (await broker.channel.assertQueue('', { exclusive: true })).queue
      const replies = await collect(broker.channel, replyQueue)
      const send = (): boolean => broker.channel.sendToQueue(names.queue, body({ type: 'report.steps', userId: 'ada', params: { n: 3 } }), { messageId: 'flaky-1', replyTo: replyQueue })
      send()
      const [first] = await replies.until((r) => r.length === 1, 'the reply after two failures', 10_000)
      const runs = (await engine.listRuns({})).data
      expect(runs.map((r) => r.requestId)).toEqual(['flaky-1'])
      expect(JSON.parse(first!.content.toString())).toEqual({ ok: true, runId: runs[0]!.id })
      expect(failures).toBe(2)
      expect(logs.filter((line) => /failed \(the store is unreachable\): requeued in \d+ ms/.test(line))).toHaveLength(2)
      send()
      await replies.until((r) => r.length === 2, 'the reply to the redelivery')
      expect(bridge.stats()).toMatchObject({ enqueued: 1, deduplicated: 1, requeued: 2, deadLettered: 0 })
      expect(await drainQueue(broker.channel, names.deadLetterQueue)).toHaveLength(0)
      const audit = (await engine.audit.list({ action: 'run.enqueue' })).entries
      expect(audit).toHaveLength(1)
      expect(audit[0]).toMatchObject({ actor: 'amqp', actorKind: 'amqp', via: 'amqp', target: runs[0]!.id, details: { task: 'report.steps', requestId: 'flaky-1', userId: 'ada' } })
      const registry = new Registry()
      registerAmqpMetrics(registry, bridge)
      const scrape = await registry.metrics()
      for (const line of ['taskengine_amqp_requests_total{outcome="enqueued"} 1', 'taskengine_amqp_requests_total{outcome="deduplicated"} 1', 'taskengine_amqp_requests_total{outcome="requeued"} 2']) expect(scrape).toContain(line)
    } finally {
      await bridge.close()
      await engine.close()
      await broker.cleanUp(names)
    }
  })

  it('refuses bad options, naming each', () => {
    const engine = new Engine({ tasks: [steps] })
    expect(() => startAmqpBridge(engine, { url: 'http://x', queue: '', exchange: 'x', prefetch: 0, bufferSize: 3 } as never)).toThrow(ValidationError)
    try {
      startAmqpBridge(engine, { url: 'http://x', queue: '', exchange: 'x', prefetch: 0 })
    } catch (error) {
      expect((error as ValidationError).fields.map((f) => f.message)).toEqual([
        'url: expected an amqp:// or amqps:// URL, got "http://x" (string)',
        'queue: expected a non-empty name of at most 255 bytes, got "" (string)',
        'prefetch: expected an integer from 1 to 65535, got 0 (number)',
      ])
    }
    expect(() => startAmqpBridge(engine, { url: 'amqp://x', queue: 'q', exchange: 'x', events: 'remote' } as never)).toThrow(`events: expected 'local', 'all', true or false, got "remote" (string)`)
    expect(() => startAmqpBridge(engine, { url: 'amqp://x', queue: 'q', exchange: 'x', bufferLimt: 3 } as never)).toThrow(/bufferLimt: unknown option \(did you mean bufferLimit\?\)/)
  })
})

// Without a broker the suite above already says so (or fails under CI).
if (await amqpReachable()) {
  await describePostgres('AMQP bridge on PostgreSQL', (pg) => {
    it("publishes each event once with a bridge next to every process (events 'local'); one bridge with events 'all' publishes what other processes relay", async () => {
      const names = testNames('pg-events')
      const relayed = testNames('pg-relayed')
      const broker = await openBroker()
      const schema = pg.newSchema()
      // A runs the worker; B only takes requests; C runs no worker and publishes relayed events too.
      const [a, b, c] = [0, 1, 2].map(() => new Engine({ tasks: [boom], store: pg.open({ schema }), pollIntervalMs: 20 }))
      const bridges = [bridgeOn(a!, names), bridgeOn(b!, names), bridgeOn(c!, relayed, [], { events: 'all' })]
      const watch = [`${names.queue}.watch`, `${relayed.queue}.watch`]
      try {
        await Promise.all(bridges.map((bridge) => bridge.ready))
        const [local, all] = await Promise.all(
          [names, relayed].map(async (n, i) => {
            await broker.channel.assertQueue(watch[i], { exclusive: true })
            await broker.channel.bindQueue(watch[i]!, n.exchange, 'runs.#')
            return collect(broker.channel, watch[i]!)
          }),
        )
        await a!.start({ concurrency: 1 })
        const run = await b!.enqueue(boom, {})
        const failed = `runs.boom.failed.${run.id}`
        // C got the failure relayed from A and published it: by then B (had it published relayed events) would have too.
        await all!.until((list) => list.some((m) => m.fields.routingKey === failed), 'the relayed failure on the "all" bridge', 10_000)
        const seen = await local!.until((list) => list.some((m) => m.fields.routingKey === failed), 'the failure from A')
        expect(seen.map((m) => (JSON.parse(m.content.toString()) as { type: string }).type)).toEqual(['created', 'started', 'failed'])
        expect(seen.map((m) => m.fields.routingKey).filter((key) => key === failed)).toHaveLength(1)
      } finally {
        for (const bridge of bridges) await bridge.close()
        await Promise.all([a, b, c].map((e) => e!.close({ graceMs: 0 })))
        await broker.cleanUp(names, [watch[0]!])
        await (await openBroker()).cleanUp(relayed)
      }
    })

    it('a request delivered twice (and one reusing its id with other content) makes one run on a PostgreSQL store', async () => {
      const names = testNames('pg')
      const broker = await openBroker()
      const engine = new Engine({ tasks: [steps, boom], store: pg.open() })
      const bridge = bridgeOn(engine, names)
      try {
        await bridge.ready
        const replyQueue = (await broker.channel.assertQueue('', { exclusive: true })).queue
        const replies = await collect(broker.channel, replyQueue)
        const send = (value: unknown, id: string): boolean => broker.channel.sendToQueue(names.queue, body(value), { messageId: id, replyTo: replyQueue })
        send({ type: 'report.steps', params: { n: 1 } }, 'pg-1')
        await replies.until((r) => r.length === 1, 'the first reply')
        send({ type: 'report.steps', params: { n: 1 } }, 'pg-1')
        send({ type: 'report.steps', params: { n: 2 } }, 'pg-1')
        // The same id for another task: refused, not a second run.
        send({ type: 'boom', params: {} }, 'pg-1')
        const all = (await replies.until((r) => r.length === 4, 'four replies')).map((m) => JSON.parse(m.content.toString()) as { ok: boolean; runId?: string; code?: string })
        const runs = (await engine.listRuns({})).data
        expect(runs).toHaveLength(1)
        expect(runs[0]).toMatchObject({ requestId: 'pg-1', args: { n: 1 } })
        expect(all.slice(0, 3)).toEqual([0, 1, 2].map(() => ({ ok: true, runId: runs[0]!.id })))
        expect(all[3]).toMatchObject({ ok: false, code: 'ERR_CONFLICT' })
        expect(bridge.stats()).toMatchObject({ enqueued: 1, deduplicated: 2, deadLettered: 1 })
      } finally {
        await bridge.close()
        await engine.close()
        await broker.cleanUp(names)
      }
    })
  })
}
