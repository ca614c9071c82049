/**
 * OpenTelemetry traces in one process, with the SDK's in-memory exporter and the async-hooks
 * context manager: spans of in-process runs and batches, of enqueues and of each durable attempt
 * (parented to the context stored with the run), log and progress events, failure status, the
 * handler's own spans nesting under its attempt, and the `tracing` option (off, no provider, a
 * tracer of one's own). Across processes: tracing-processes.test.ts.
 */
import { SpanKind, SpanStatusCode, context, trace, type Tracer } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createEngine, defineTask, type Engine, type EngineOptions } from '../src/index.js'
import { sqliteStore, type SqliteStore } from '../src/store/sqlite/index.js'

const exporter = new InMemorySpanExporter()
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  trace.setGlobalTracerProvider(provider)
})
afterAll(() => {
  trace.disable()
  context.disable()
})

const engines: Engine[] = []
afterEach(async () => {
  // In turn, last first: engines that share a store must not close it under each other.
  for (const e of engines.splice(0).reverse()) await e.close()
  exporter.reset()
})

const work = defineTask({
  key: 'work',
  fields: [
    { key: 'fail', type: 'bool' },
    { key: 'failFirst', type: 'bool' },
  ],
  maxAttempts: 3,
  backoff: { type: 'fixed', delayMs: 5 },
  async run(ctx) {
    ctx.log('starting')
    ctx.log.warn('careful')
    ctx.progress({ step: 1, steps: 2, message: 'half' })
    trace.getTracer('handler').startSpan('handler work').end()
    if (ctx.args.fail || (ctx.args.failFirst && ctx.attempt === 1)) throw new Error('it broke')
    return ctx.attempt
  },
})

function engine(options: EngineOptions = {}): Engine {
  const created = createEngine({ tasks: [work], pollIntervalMs: 20, onError: (error) => expect.unreachable(error.stack), ...options })
  engines.push(created)
  return created
}

/** Runs `fn` inside a span `request` of the test's tracer; resolves to its value and the span. */
async function inRequest<T>(fn: () => Promise<T>, tracer: Tracer = trace.getTracer('test')): Promise<{ value: T; request: ReadableSpan }> {
  let id = ''
  const value = await tracer.startActiveSpan('request', async (span) => {
    id = span.spanContext().spanId
    try {
      return await fn()
    } finally {
      span.end()
    }
  })
  return { value, request: exporter.getFinishedSpans().find((s) => s.spanContext().spanId === id)! }
}

const named = (name: string): ReadableSpan[] => exporter.getFinishedSpans().filter((s) => s.name === name)
const parentOf = (span: ReadableSpan): string | undefined => span.parentSpanContext?.spanId

/** Waits until every run given has finished. */
async function settled(e: Engine, ids: readonly string[]): Promise<void> {
  await expect.poll(async () => (await Promise.all(ids.map((id) => e.getRun(id)))).every((r) => r?.status === 'succeeded' || r?.status === 'failed'), { timeout: 10_000 }).toBe(true)
}

describe('in-process runs', () => {
  it('a run is an INTERNAL span under the caller’s, with its log lines and progress as events; the handler’s spans nest under it', async () => {
    const e = engine()
    const { value: result, request } = await inRequest(() => e.run(work, {}))
    expect(result.status).toBe('succeeded')
    const [span] = named('taskengine.run work')
    expect(span).toBeDefined()
    expect(span!.kind).toBe(SpanKind.INTERNAL)
    expect(span!.spanContext().traceId).toBe(request.spanContext().traceId)
    expect(parentOf(span!)).toBe(request.spanContext().spanId)
    expect(span!.attributes).toEqual({ 'taskengine.task': 'work', 'taskengine.run_id': result.id, 'taskengine.attempt': 1, 'taskengine.outcome': 'succeeded' })
    expect(span!.events.map((ev) => [ev.name, ev.attributes])).toEqual([
      ['log', { level: 'info', message: 'starting' }],
      ['log', { level: 'warn', message: 'careful' }],
      ['progress', { percent: 50, step: 1, steps: 2, message: 'half' }],
    ])
    expect(span!.status.code).toBe(SpanStatusCode.UNSET)
    expect(parentOf(named('handler work')[0]!)).toBe(span!.spanContext().spanId)
  })

  it('a failed run records its error and sets the status to ERROR', async () => {
    const result = await engine().run(work, { fail: true })
    expect(result.status).toBe('failed')
    const [span] = named('taskengine.run work')
    expect(span!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'it broke' })
    expect(span!.attributes).toMatchObject({ 'taskengine.outcome': 'failed', 'taskengine.error_code': 'ERR_HANDLER' })
    expect(span!.events.find((ev) => ev.name === 'exception')?.attributes).toMatchObject({ 'exception.type': 'Error', 'exception.message': 'it broke' })
  })

  it('each run of a batch is a span under the caller’s span, not under the run before it in its lane', async () => {
    const e = engine()
    const { value: results, request } = await inRequest(() => Promise.resolve(e.runAll(work, 'batch', [{}, {}, {}], { concurrency: 1 })))
    expect(results.map((r) => r.status)).toEqual(['succeeded', 'succeeded', 'succeeded'])
    const spans = named('taskengine.run work')
    expect(spans.map((s) => s.attributes['taskengine.run_id']).sort()).toEqual(results.map((r) => r.id).sort())
    for (const span of spans) expect(parentOf(span)).toBe(request.spanContext().spanId)
  })
})

describe('durable runs in one process (SQLite)', () => {
  it('an enqueue is a PRODUCER span under the caller’s; each attempt a CONSUMER span under it; a retry is a second span', async () => {
    const e = engine()
    const { value: run, request } = await inRequest(() => e.enqueue(work, { failFirst: true }, { queue: 'jobs' }))
    const [enqueue] = named('taskengine.enqueue work')
    expect(enqueue!.kind).toBe(SpanKind.PRODUCER)
    expect(parentOf(enqueue!)).toBe(request.spanContext().spanId)
    expect(enqueue!.attributes).toMatchObject({ 'taskengine.task': 'work', 'taskengine.queue': 'jobs', 'taskengine.run_id': run.id })
    await e.start({ concurrency: 2 })
    await settled(e, [run.id])
    const attempts = named('taskengine.run work').sort((a, b) => Number(a.attributes['taskengine.attempt']) - Number(b.attributes['taskengine.attempt']))
    expect(attempts.map((s) => [s.attributes['taskengine.attempt'], s.attributes['taskengine.outcome'], s.status.code])).toEqual([
      [1, 'retry', SpanStatusCode.ERROR],
      [2, 'succeeded', SpanStatusCode.UNSET],
    ])
    for (const span of attempts) {
      expect(span.kind).toBe(SpanKind.CONSUMER)
      expect(span.spanContext().traceId).toBe(request.spanContext().traceId)
      expect(parentOf(span)).toBe(enqueue!.spanContext().spanId)
      expect(span.attributes).toMatchObject({ 'taskengine.task': 'work', 'taskengine.run_id': run.id, 'taskengine.queue': 'jobs', 'taskengine.worker_id': e.workerId })
      expect(span.events.filter((ev) => ev.name === 'log').map((ev) => ev.attributes)).toEqual([
        { level: 'info', message: 'starting' },
        { level: 'warn', message: 'careful' },
      ])
      expect(named('handler work').filter((s) => parentOf(s) === span.spanContext().spanId)).toHaveLength(1)
    }
  })

  it('enqueueMany is one span, the parent of every run’s attempt; an attempt that fails for good is an ERROR span', async () => {
    const e = engine()
    const runs = await e.enqueueMany(work, [{}, {}, { fail: true }], { maxAttempts: 1 })
    const [enqueue] = named('taskengine.enqueue work')
    expect(enqueue!.attributes).toMatchObject({ 'taskengine.run_count': 3, 'taskengine.run_ids': runs.map((r) => r.id) })
    expect(parentOf(enqueue!)).toBeUndefined()
    await e.start()
    await settled(e, runs.map((r) => r.id))
    const attempts = named('taskengine.run work')
    expect(attempts).toHaveLength(3)
    for (const span of attempts) expect(parentOf(span)).toBe(enqueue!.spanContext().spanId)
    const failed = attempts.find((s) => s.attributes['taskengine.run_id'] === runs[2]!.id)!
    expect(failed.attributes['taskengine.outcome']).toBe('failed')
    expect(failed.status).toEqual({ code: SpanStatusCode.ERROR, message: 'it broke' })
  })

  it('a run enqueued without tracing starts a trace of its own on the worker, never under the worker’s context', async () => {
    const store = sqliteStore(':memory:')
    const untraced = engine({ store, tracing: false })
    const run = await inRequest(() => untraced.enqueue(work, {}))
    expect(named('taskengine.enqueue work')).toEqual([])
    expect(readTraceparent(store, run.value.id)).toBeNull()
    // A worker started inside a span of its own: the attempt is not its child.
    const worker = engine({ store })
    await inRequest(() => worker.start())
    await settled(worker, [run.value.id])
    const [attempt] = named('taskengine.run work')
    expect(parentOf(attempt!)).toBeUndefined()
    expect(attempt!.spanContext().traceId).not.toBe(run.request.spanContext().traceId)
  })
})

/** The traceparent stored with a run. */
function readTraceparent(store: SqliteStore, id: string): string | null {
  return (store.database.prepare('SELECT traceparent FROM runs WHERE id = ?').get(id) as { traceparent: string | null }).traceparent
}

describe('the tracing option', () => {
  it('false: no spans and no stored context, even with a provider registered', async () => {
    const store = sqliteStore(':memory:')
    const e = engine({ store, tracing: false })
    await e.run(work, {})
    const run = await e.enqueue(work, {})
    await e.start()
    await settled(e, [run.id])
    // Only the handler's own spans, roots of their own.
    expect(exporter.getFinishedSpans().map((s) => [s.name, parentOf(s)])).toEqual([
      ['handler work', undefined],
      ['handler work', undefined],
    ])
    expect(readTraceparent(store, run.id)).toBeNull()
  })

  it('true without a registered provider: nothing is made and nothing stored', async () => {
    trace.disable()
    try {
      const store = sqliteStore(':memory:')
      const e = engine({ store })
      await e.run(work, {})
      const run = await e.enqueue(work, {})
      expect(readTraceparent(store, run.id)).toBeNull()
    } finally {
      trace.setGlobalTracerProvider(provider)
    }
    expect(exporter.getFinishedSpans()).toEqual([])
  })

  it('{ tracer }: spans go through that tracer, whatever is registered globally, and the context is stored in W3C form', async () => {
    const own = new InMemorySpanExporter()
    const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(own)] }).getTracer('jobs')
    trace.disable()
    try {
      const store = sqliteStore(':memory:')
      const e = engine({ store, tracing: { tracer } })
      const run = await e.enqueue(work, {})
      const [enqueue] = own.getFinishedSpans()
      const { traceId, spanId } = enqueue!.spanContext()
      expect(readTraceparent(store, run.id)).toBe(`00-${traceId}-${spanId}-01`)
      await e.start()
      await settled(e, [run.id])
      expect(own.getFinishedSpans().map((s) => s.name)).toEqual(['taskengine.enqueue work', 'taskengine.run work'])
    } finally {
      trace.setGlobalTracerProvider(provider)
    }
    expect(exporter.getFinishedSpans()).toEqual([])
  })

  it('refuses a bad value, naming it', () => {
    expect(() => createEngine({ tracing: { tracer: 'x' } as never })).toThrow('createEngine: tracing.tracer: expected an OpenTelemetry tracer (an object with startSpan()), got "x" (string)')
    expect(() => createEngine({ tracing: 1 as never })).toThrow('createEngine: tracing: expected true, false or { tracer }, got 1 (number)')
  })
})
