/**
 * Traces across real processes: this process enqueues under a span of its own, a worker process
 * (test/fixtures/traced-worker.mjs, with the SDK and an in-memory exporter it saves to a file)
 * executes the runs, and its attempt spans continue this process's trace — same trace id, the
 * enqueue span as parent — on SQLite and on PostgreSQL. And a process where
 * `@opentelemetry/api` cannot be resolved (a module resolve hook) runs everything as before.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createEngine, defineTask } from '../src/index.js'
import type { Store } from '../src/store/types.js'
import { sqliteStore } from '../src/store/sqlite/index.js'
import { FIXTURES, ROOT, finished } from './helpers/cli.js'
import { describePostgres } from './helpers/postgres.js'

const dir = mkdtempSync(join(tmpdir(), 'taskengine-tracing-'))
const exporter = new InMemorySpanExporter()
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
const contextManager = new AsyncLocalStorageContextManager()

beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable())
  trace.setGlobalTracerProvider(provider)
})
afterAll(() => {
  trace.disable()
  context.disable()
  rmSync(dir, { recursive: true, force: true })
})

interface SavedSpan {
  readonly name: string
  readonly kind: number
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId: string | null
  readonly attributes: Record<string, unknown>
  readonly events: { name: string; attributes: Record<string, unknown> }[]
  readonly status: { code: number; message?: string }
}

/** Starts a fixture with node; resolves with its output once it exits. */
function node(args: readonly string[]) {
  return finished(spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } }))
}

let n = 0

/** Enqueues two runs (one failing its first attempt) under a span here, has a worker process execute them, and checks its spans. */
async function acrossProcesses(store: Store, spec: string): Promise<void> {
  // The enqueuing side of test/fixtures/traced-tasks.mjs (the worker process has its handler).
  const traced = defineTask({ key: 'traced', fields: [{ key: 'failFirst', type: 'bool' }], maxAttempts: 2, run: () => undefined })
  const engine = createEngine({ tasks: [traced], store, tracing: true })
  try {
    exporter.reset()
    const [once, retried] = await trace.getTracer('test').startActiveSpan('request', async (span) => {
      try {
        return [await engine.enqueue('traced', {}), await engine.enqueue('traced', { failFirst: true })]
      } finally {
        span.end()
      }
    })
    const ours = exporter.getFinishedSpans()
    const request = ours.find((s) => s.name === 'request')!
    const enqueues = ours.filter((s) => s.name === 'taskengine.enqueue traced')
    expect(enqueues).toHaveLength(2)
    for (const span of enqueues) {
      expect(span.kind).toBe(SpanKind.PRODUCER)
      expect(span.spanContext().traceId).toBe(request.spanContext().traceId)
      expect(span.parentSpanContext?.spanId).toBe(request.spanContext().spanId)
    }
    const enqueueOf = (id: string) => enqueues.find((s) => s.attributes['taskengine.run_id'] === id)!

    const out = join(dir, `spans-${++n}.json`)
    const worker = await node([join(FIXTURES, 'traced-worker.mjs'), spec, out, once!.id, retried!.id])
    expect(worker.stderr).toBe('')
    expect(worker.code).toBe(0)
    const spans = JSON.parse(readFileSync(out, 'utf8')) as SavedSpan[]
    const attempts = spans.filter((s) => s.name === 'taskengine.run traced')
    // One span per attempt: one for the run that succeeded at once, two for the retried one.
    expect(attempts.map((s) => [s.attributes['taskengine.run_id'], s.attributes['taskengine.attempt'], s.attributes['taskengine.outcome']]).sort()).toEqual(
      [
        [once!.id, 1, 'succeeded'],
        [retried!.id, 1, 'retry'],
        [retried!.id, 2, 'succeeded'],
      ].sort(),
    )
    for (const span of attempts) {
      const runId = span.attributes['taskengine.run_id'] as string
      const parent = enqueueOf(runId).spanContext()
      // The worker's span continues the enqueuer's trace: its trace id, the enqueue span as parent.
      expect(span).toMatchObject({ kind: SpanKind.CONSUMER, traceId: parent.traceId, parentSpanId: parent.spanId })
      expect(span.attributes).toMatchObject({ 'taskengine.task': 'traced', 'taskengine.queue': 'default' })
      expect(span.events.filter((e) => e.name === 'log').map((e) => e.attributes)).toEqual([
        { level: 'info', message: expect.stringMatching(new RegExp(`^attempt ${String(span.attributes['taskengine.attempt'])} in \\d+$`)) as unknown },
      ])
      // The handler's own span nests under the attempt's.
      expect(spans.filter((s) => s.name === 'handler work' && s.parentSpanId === span.spanId)).toHaveLength(1)
    }
    const failed = attempts.find((s) => s.attributes['taskengine.outcome'] === 'retry')!
    expect(failed.status).toEqual({ code: SpanStatusCode.ERROR, message: 'first attempt fails' })
    expect(failed.events.find((e) => e.name === 'exception')?.attributes).toMatchObject({ 'exception.message': 'first attempt fails', 'exception.type': 'Error' })
    expect(attempts.filter((s) => s !== failed).map((s) => s.status.code)).toEqual([SpanStatusCode.UNSET, SpanStatusCode.UNSET])
  } finally {
    await engine.close()
  }
}

describe('traces across processes', () => {
  it('SQLite: the worker process’s attempt spans continue the trace of the enqueue made here', async () => {
    const file = join(dir, 'across.db')
    await acrossProcesses(sqliteStore(file), file)
  })

  it('runs as before where @opentelemetry/api cannot be resolved: in-process, batches, durable with a retry; no error', async () => {
    const result = await node(['--import', join(FIXTURES, 'no-otel.mjs'), join(FIXTURES, 'untraced-runs.mjs'), join(dir, 'absent.db')])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(JSON.parse(result.stdout)).toEqual({
      api: { import: 'absent (ERR_MODULE_NOT_FOUND)', require: 'absent (MODULE_NOT_FOUND)' },
      inProcess: ['succeeded', ['attempt 1']],
      batch: ['succeeded', 'succeeded'],
      durable: ['succeeded', 2, ['attempt 1', 'attempt 2']],
    })
  })
})

await describePostgres('traces across processes on PostgreSQL', ({ open, newSchema, storeUrl }) => {
  it('the worker process’s attempt spans continue the trace of the enqueue made here', async () => {
    const schema = newSchema()
    await acrossProcesses(open({ schema }), storeUrl(schema))
  })
})
