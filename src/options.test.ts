/**
 * The options catalog: every public options object refuses a key it does not know, naming the
 * key and, when one is close, the key meant; every option each one declares is still accepted.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createEngine } from './create-engine.js'
import type { Engine } from './engine/engine.js'
import type { EngineOptions, RunAllOptions, RunOptions, StopOptions } from './engine/options.js'
import type { EnqueueOptions } from './engine/durable/enqueue.js'
import type { WorkerOptions } from './engine/durable/worker.js'
import { TaskDefinitionError, ValidationError } from './errors.js'
import { tokenAuth, type TokenAuthOptions } from './server/auth.js'
import { serve, serveMetrics, type MetricsServeOptions, type ServeOptions } from './server/serve.js'
import { createServer, type ServerOptions } from './server/server.js'
import { postgresStore } from './store/postgres/store.js'
import { sqliteStore } from './store/sqlite/store.js'
import { defineSchedule } from './task/schedule.js'
import { defineTask } from './task/define.js'
import { checkOptionKeys, closestKey, optionKeys, unknownKeyMessage, unknownKeys } from './options.js'

const KNOWN = ['leaseMs', 'heartbeatMs', 'timeoutMs', 'queue', 'label']

describe('unknown option keys', () => {
  it('suggests the key a typo most likely meant, and nothing for a key far from any', () => {
    expect(closestKey('leasMs', KNOWN)).toBe('leaseMs')
    expect(closestKey('timeout', KNOWN)).toBe('timeoutMs')
    expect(closestKey('Label', KNOWN)).toBe('label')
    expect(closestKey('heartbaetMs', KNOWN)).toBe('heartbeatMs')
    expect(closestKey('colour', KNOWN)).toBeUndefined()
    expect(closestKey('q', KNOWN)).toBeUndefined()
  })

  it('lists every unknown key of an object, skipping keys set to undefined', () => {
    expect(unknownKeys({ leasMs: 1, label: 'x', colour: 'red', timeoutMs: undefined, extra: undefined }, KNOWN)).toEqual([
      { key: 'leasMs', suggestion: 'leaseMs' },
      { key: 'colour', suggestion: undefined },
    ])
    expect(unknownKeyMessage('options.', { key: 'leasMs', suggestion: 'leaseMs' }, KNOWN)).toBe('options.leasMs: unknown option (did you mean leaseMs?)')
    expect(unknownKeyMessage('', { key: 'colour', suggestion: undefined }, KNOWN)).toBe('colour: unknown option (known: leaseMs, heartbeatMs, timeoutMs, queue, label)')
  })

  it('throws one ValidationError naming every unknown key in its fields, or the error class given', () => {
    const error = catchError(() => checkOptionKeys({ leasMs: 1, colour: 'red', label: 'x' }, KNOWN, 'createThing'))
    expect(error).toBeInstanceOf(ValidationError)
    expect(error.message).toBe('createThing: leasMs: unknown option (did you mean leaseMs?); colour: unknown option (known: leaseMs, heartbeatMs, timeoutMs, queue, label)')
    expect((error as ValidationError).fields.map((f) => f.key)).toEqual(['leasMs', 'colour'])
    expect(() => checkOptionKeys({ queue: 'a' }, KNOWN, 'createThing')).not.toThrow()
    expect(() => checkOptionKeys({ nested: { lable: 1 } }.nested, KNOWN, 'createThing', { prefix: 'nested.' })).toThrow('createThing: nested.lable: unknown option (did you mean label?)')
    expect(() => checkOptionKeys({ lable: 1 }, KNOWN, 'thing', { ErrorClass: TaskDefinitionError })).toThrow(TaskDefinitionError)
    expect(() => checkOptionKeys(5, KNOWN, 'createThing')).toThrow('createThing: options: expected an object of options, got 5 (number)')
  })

  it('lists the keys of an options type from a map naming each (the compiler checks it is complete)', () => {
    expect(optionKeys<{ readonly a?: number; readonly b: string }>({ a: true, b: true })).toEqual(['a', 'b'])
  })
})

const noop = defineTask({ key: 'noop', fields: [{ key: 'n', type: 'int' }], run: () => 'ok' })
const TOKEN = 'a-token-of-sixteen-or-more'
const engines: Engine[] = []
const opened = (options: EngineOptions = {}): Engine => {
  const engine = createEngine({ tasks: [noop], retention: false, ...options })
  engines.push(engine)
  return engine
}
afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.close({ graceMs: 0 })))
})

describe('the options catalog: a typo is an error naming it and the option meant', () => {
  it('createEngine, and its retention', () => {
    expectValidation(() => createEngine({ leasMs: 1000 } as EngineOptions), 'createEngine: leasMs: unknown option (did you mean leaseMs?)', ['leasMs'])
    expectValidation(() => createEngine({ pollInterval: 10, colour: 'red' } as EngineOptions), 'createEngine: pollInterval: unknown option (did you mean pollIntervalMs?); colour: unknown option (known: tasks, store,')
    expectValidation(() => createEngine({ retention: { crom: '0 4 * * *' } } as EngineOptions), 'createEngine: retention.crom: unknown option (did you mean cron?)', ['retention.crom'])
    expectValidation(() => createEngine({ queues: { mail: { concurency: 3 } } } as EngineOptions), 'createEngine: queues.mail.concurency: unknown option (did you mean concurrency?)', [
      'queues.mail.concurency',
    ])
  })

  it("the limits of a task and of the engine's queues: positive integers, rates, group functions, queue names", () => {
    expect(() => defineTask({ key: 'sync', limits: { concurency: 3 }, run: () => undefined } as never)).toThrow('task "sync": limits.concurency: unknown option (did you mean concurrency?)')
    for (const bad of [0, -1, 1.5, '3', 2_000_000]) {
      expect(() => defineTask({ key: 'sync', limits: { concurrency: bad }, run: () => undefined } as never)).toThrow(`task "sync": limits.concurrency must be an integer from 1 to 1000000, got `)
      expect(() => defineTask({ key: 'sync', limits: { rate: { max: bad, perMs: 1000 } }, run: () => undefined } as never)).toThrow(`task "sync": limits.rate.max must be an integer from 1 to 1000000, got `)
      expect(() => createEngine({ queues: { mail: { concurrency: bad } } } as never)).toThrow('createEngine: queues.mail.concurrency must be an integer from 1 to 1000000, got ')
    }
    expect(() => defineTask({ key: 'sync', limits: { rate: { max: 1, perMs: 0 } }, run: () => undefined })).toThrow('task "sync": limits.rate.perMs must be an integer from 1 to 86400000 (a day), got 0')
    expect(() => defineTask({ key: 'sync', limits: { rate: { max: 1, perms: 10 } }, run: () => undefined } as never)).toThrow('task "sync": limits.rate.perms: unknown option (did you mean perMs?)')
    expect(() => defineTask({ key: 'sync', limits: { rate: 5 }, run: () => undefined } as never)).toThrow('task "sync": limits.rate must be { max, perMs }')
    expect(() => defineTask({ key: 'sync', limits: { groupBy: 'tenant', groupConcurrency: 1 }, run: () => undefined } as never)).toThrow('task "sync": limits.groupBy must be a function of the arguments')
    expect(() => defineTask({ key: 'sync', limits: { groupBy: () => 'a' }, run: () => undefined })).toThrow('task "sync": limits.groupBy needs limits.groupConcurrency')
    expect(() => createEngine({ queues: { mail: { rate: { max: 1 } } } } as never)).toThrow('createEngine: queues.mail.rate.perMs is missing: give the window in ms')
    expect(() => createEngine({ queues: { 'no spaces': { concurrency: 1 } } })).toThrow('createEngine: queues: "no spaces": expected a queue name')
    expect(() => createEngine({ queues: ['mail'] } as never)).toThrow('createEngine: queues: expected { <queue>: { concurrency, rate } }, got')
    expect(defineTask({ key: 'sync', limits: { concurrency: 3 }, run: () => undefined }).limits).toEqual({ concurrency: 3 })
    expect(defineTask({ key: 'sync', run: () => undefined }).limits).toEqual({})
  })

  it('engine.start (worker), engine.stop and engine.close', async () => {
    const engine = opened()
    await expect(engine.start({ concurency: 2 } as WorkerOptions)).rejects.toThrow('engine.start: concurency: unknown option (did you mean concurrency?)')
    expect(engine.started).toBe(false)
    await expect(engine.stop({ grace: 0 } as StopOptions)).rejects.toThrow('engine.stop: grace: unknown option (did you mean graceMs?)')
    await expect(engine.close({ graceMS: 0 } as StopOptions)).rejects.toThrow('engine.close: graceMS: unknown option (did you mean graceMs?)')
  })

  it('engine.run and engine.runAll, with the arguments checked alongside', async () => {
    const engine = opened()
    await expect(engine.run(noop, { n: 1 }, { timeout: 50 } as RunOptions)).rejects.toThrow('invalid run options: options.timeout: unknown option (did you mean timeoutMs?)')
    await expect(engine.run(noop, { n: 'x' }, { lable: 'x' } as RunOptions)).rejects.toThrow(/n: expected int, got "x" \(string\); options.lable: unknown option \(did you mean label\?\)/)
    expect(() => engine.runAll(noop, 'batch', [{ n: 1 }], { concurrncy: 2 } as RunAllOptions)).toThrow('invalid run options: options.concurrncy: unknown option (did you mean concurrency?)')
  })

  it('engine.enqueue and enqueueMany, backoff included; nothing is stored', async () => {
    const engine = opened()
    const error = await engine.enqueue(noop, { n: 1 }, { priorty: 1 } as EnqueueOptions).catch((e: unknown) => e as ValidationError)
    expect(error).toBeInstanceOf(ValidationError)
    expect((error as ValidationError).message).toBe('invalid enqueue options: options.priorty: unknown option (did you mean priority?)')
    expect((error as ValidationError).fields.map((f) => f.key)).toEqual(['options.priorty'])
    await expect(engine.enqueueMany(noop, [{ n: 1 }], { backoff: { type: 'exponential', delayMs: 10, maxDelay: 100 } } as never)).rejects.toThrow(
      'invalid enqueue options: options.backoff: maxDelay: unknown option (did you mean maxDelayMs?)',
    )
    await expect(engine.enqueue(noop, { n: 1 }, { backoff: { type: 'fixed', delayMs: 10, jitter: false } } as never)).rejects.toThrow('options.backoff: jitter: unknown option (known: type, delayMs)')
    expect((await engine.listRuns()).total).toBe(0)
  })

  it('engine.pool and ctx.pool', async () => {
    const engine = opened()
    expect(() => engine.pool({ lable: 'nightly' } as never)).toThrow('pool: lable: unknown option (did you mean label?)')
    const opener = defineTask({ key: 'opener', run: (ctx) => ctx.pool({ labels: 'x' } as never).id })
    const result = await engine.register(opener).run(opener, {})
    expect(result.error?.message).toBe('pool: labels: unknown option (did you mean label?)')
    expect(engine.pool({ label: 'kept' }).id).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('defineTask (its defaults and backoff too) and defineSchedule (its run options too)', () => {
    expect(() => defineTask({ key: 'backup', timeout: 5000, run: () => undefined } as never)).toThrow('task "backup": timeout: unknown option (did you mean timeoutMs?)')
    expect(() => defineTask({ key: 'backup', maxAttempt: 2, colour: 'red', run: () => undefined } as never)).toThrow(
      /task "backup": maxAttempt: unknown option \(did you mean maxAttempts\?\); colour: unknown option \(known: key, title/,
    )
    expect(() => defineTask({ key: 'backup', defaults: { tag: ['x'] }, run: () => undefined } as never)).toThrow('task "backup": defaults.tag: unknown option (did you mean tags?)')
    expect(() => defineTask({ key: 'backup', backoff: { type: 'exponential', delayMs: 10, jiter: true }, run: () => undefined } as never)).toThrow(
      new TaskDefinitionError('task "backup": backoff: jiter: unknown option (did you mean jitter?)'),
    )
    const task = defineTask({ key: 'backup', run: () => undefined })
    expect(() => defineSchedule({ id: 'nightly', cron: '0 3 * * *', task, timeZone: 'UTC' } as never)).toThrow('schedule "nightly": timeZone: unknown option (did you mean timezone?)')
    expect(() => defineSchedule({ id: 'nightly', cron: '0 3 * * *', task, options: { priorty: 1 } } as never)).toThrow('schedule "nightly": options.priorty: unknown option (did you mean priority?)')
  })

  it('createServer, serve, serveMetrics and tokenAuth', async () => {
    const engine = opened()
    expectValidation(() => createServer(engine, { basepath: '/ops' } as ServerOptions), 'createServer: basepath: unknown option (did you mean basePath?)', ['basepath'])
    expectValidation(() => createServer(engine, { allowedHost: ['ops.example'] } as ServerOptions), 'createServer: allowedHost: unknown option (did you mean allowedHosts?)')
    await expect(serve(engine, { prot: 0 } as ServeOptions)).rejects.toThrow('serve: prot: unknown option (did you mean port?)')
    await expect(serve(engine, { port: 0, tokn: TOKEN } as ServeOptions)).rejects.toThrow('serve: tokn: unknown option (did you mean token?)')
    await expect(serveMetrics(engine, { hots: '127.0.0.1' } as MetricsServeOptions)).rejects.toThrow('serveMetrics: hots: unknown option (did you mean host?)')
    expectValidation(() => tokenAuth({ tokn: TOKEN } as TokenAuthOptions), 'tokenAuth: tokn: unknown option (did you mean token?)')
  })

  it('sqliteStore and postgresStore (before any connection is made)', () => {
    expectValidation(() => sqliteStore(':memory:', { busyTimeout: 10 } as never), 'sqliteStore: busyTimeout: unknown option (did you mean busyTimeoutMs?)')
    expectValidation(() => postgresStore({ connectionString: 'postgres://127.0.0.1:1/none', schem: 'jobs' } as never), 'postgresStore: schem: unknown option (did you mean schema?)')
  })

  it('engine.settings.update names a mistyped setting among the bad values', async () => {
    const engine = opened()
    await expect(engine.settings.update({ runRetentionDay: 3, logRetentionDays: -1 } as never)).rejects.toThrow(
      'invalid settings: runRetentionDay: unknown setting (did you mean runRetentionDays?); logRetentionDays: expected an integer',
    )
  })
})

describe('the options catalog: every declared option is still accepted', () => {
  // `Required<…>` makes each of these name every option of its type: a new option that is
  // declared but not listed in its catalog fails typecheck there, and fails here at run time.
  it('createEngine, engine.start, engine.stop', async () => {
    const all: Required<EngineOptions> = {
      tasks: [noop],
      store: sqliteStore(':memory:', { synchronous: 'full', busyTimeoutMs: 100 }),
      leaseMs: 3000,
      heartbeatMs: 1000,
      pollIntervalMs: 50,
      progressIntervalMs: 50,
      defaultMaxAttempts: 2,
      maxArtifactBytes: 1024,
      hookTimeoutMs: 1000,
      maxLogLines: 10,
      maxLogLineLength: 100,
      clock: Date.now,
      unservedAfterMs: 60_000,
      schedules: [],
      logBackends: [],
      retention: { cron: '0 4 * * *', timezone: 'Europe/Berlin', batchSize: 10 },
      onError: () => undefined,
      queues: { default: { concurrency: 5 } },
      tracing: false,
      users: { roles: { viewer: ['runs:read'], admin: ['*'] }, sessionIdleMs: 60_000, sessionMaxMs: 120_000 },
    }
    const engine = opened(all)
    const worker: Required<WorkerOptions> = { concurrency: 2, queues: { default: 1 }, pollIntervalMs: 50, prefetch: 0, schedules: false, keepAlive: false, onStopRequested: () => undefined }
    await engine.start(worker)
    expect(engine.started).toBe(true)
    const stop: Required<StopOptions> = { graceMs: 0 }
    await engine.stop(stop)
    expect(engine.started).toBe(false)
  })

  it('engine.run, engine.runAll, engine.enqueue', async () => {
    const engine = opened()
    const run: Omit<Required<RunOptions>, 'record' | 'createdBy' | 'startedFrom'> = { label: 'one', timeoutMs: 1000, signal: new AbortController().signal, onEvent: () => undefined, tags: ['t'] }
    expect(await engine.run(noop, { n: 1 }, run)).toMatchObject({ status: 'succeeded', label: 'one', tags: ['t'] })
    const runAll: Required<RunAllOptions> = { timeoutMs: 1000, signal: new AbortController().signal, onEvent: () => undefined, tags: ['t'], concurrency: 2 }
    expect((await engine.runAll(noop, 'batch', [{ n: 1 }, { n: 2 }], runAll)).map((r) => r.status)).toEqual(['succeeded', 'succeeded'])
    // debounce sets the start itself (not with delayMs): its own call below.
    const enqueue: Omit<Required<EnqueueOptions>, 'runAt' | 'client' | 'poolId' | 'parentId' | 'scheduleId' | 'debounce' | 'requestId'> = {
      label: 'later',
      queue: 'mail',
      priority: 2,
      delayMs: 1000,
      maxAttempts: 2,
      backoff: { type: 'exponential', delayMs: 10, maxDelayMs: 100, jitter: false },
      timeoutMs: 500,
      uniqueKey: 'u',
      notAfter: Date.now() + 60_000,
      createdBy: 'ada',
      category: 'system',
      tags: ['t'],
      groupKey: 'g',
      throttle: { key: 'k', ms: 1000 },
    }
    expect(await engine.enqueue(noop, { n: 1 }, enqueue)).toMatchObject({ label: 'later', queue: 'mail', priority: 2, maxAttempts: 2, uniqueKey: 'u', createdBy: 'ada', category: 'system', groupKey: 'g' })
    expect(await engine.enqueue(noop, { n: 2 }, { debounce: { key: 'd', ms: 1000 } })).toMatchObject({ status: 'pending', args: { n: 2 } })
    expect(await engine.enqueue(noop, { n: 1 }, { runAt: new Date(), backoff: { type: 'fixed', delayMs: 5 } })).toMatchObject({ status: 'pending' })
    // requestId is not with throttle: its own call.
    expect(await engine.enqueue(noop, { n: 3 }, { requestId: 'r-1' })).toMatchObject({ status: 'pending', requestId: 'r-1' })
  })

  it('createServer, serve (its host and port are not the server\'s), serveMetrics, tokenAuth', async () => {
    const engine = opened()
    const identity = { id: 'ops', permissions: ['runs:read'] as const }
    const auth: Required<TokenAuthOptions> = { token: TOKEN, identity }
    const server: Required<ServerOptions> = {
      basePath: '/ops',
      auth: tokenAuth(auth),
      token: TOKEN,
      allowedHosts: ['ops.example'],
      maxBodyBytes: 1000,
      syncRunTimeoutMs: 1000,
      streamBufferEvents: 10,
      streamMaxBufferedBytes: 1000,
      streamPollIntervalMs: 100,
      allowedOrigins: ['https://ops.example'],
      allowedFrameAncestors: ['https://app.example'],
      onError: () => undefined,
    }
    createServer(engine, server).close()
    const serveAll: Required<ServeOptions> = { ...server, host: '127.0.0.1', port: 0 }
    const running = await serve(engine, serveAll)
    expect(running.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/ops$/)
    await running.close()
    const metricsAll: Required<MetricsServeOptions> = { host: '127.0.0.1', port: 0, onError: () => undefined }
    const metrics = await serveMetrics(engine, metricsAll)
    await metrics.close()
  })
})

function catchError(fn: () => unknown): Error {
  try {
    fn()
  } catch (error) {
    return error as Error
  }
  throw new Error('expected an error')
}

/** `fn` throws a `ValidationError` whose message starts with `message`, with these field keys if given. */
function expectValidation(fn: () => unknown, message: string, keys?: readonly string[]): void {
  const error = catchError(fn)
  expect(error).toBeInstanceOf(ValidationError)
  expect(error.message.startsWith(message), `${error.message}\ndoes not start with\n${message}`).toBe(true)
  if (keys !== undefined) expect((error as ValidationError).fields.map((f) => f.key)).toEqual(keys)
}
