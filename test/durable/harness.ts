/**
 * What every file of the durable suite shares: the kind of store it runs against, the engine
 * factory (engines closed after each test), stores to observe or sever a worker by, and the
 * tasks several files use.
 */
import { afterEach } from 'vitest'
import { createEngine, defineTask, type Engine, type EngineOptions } from '../../src/index.js'
import type { Store, WriteBatch } from '../../src/store/types.js'

/** A kind of store the suite runs against. */
export interface DurableBackend {
  /** A store on a fresh database of its own. */
  store(): Store
  /** A fresh database; each call of the returned function opens another store on it (another "process"). */
  database(): () => Store
}

/**
 * A store an engine can be cut off from, as if its process died: once severed, its writes land
 * nowhere (reported fenced), its leases are reported lost, it claims and maintains nothing, and
 * its connections close. What the others see in the store is what a dead process leaves behind.
 */
export function severable(store: Store): { store: Store; sever(): void } {
  let severed = false
  const dead: Partial<Record<keyof Store, (...args: never[]) => unknown>> = {
    writeBatch: async (batch: WriteBatch) => ({
      fenced: [...new Set([...batch.progress, ...batch.waits, ...(batch.holds ?? []), ...(batch.starts ?? []), ...batch.completions, ...(batch.releases ?? [])].map((w) => w.id))],
      ...(batch.claim === undefined ? {} : { claimed: [] }),
    }),
    claimRuns: async () => [],
    renewLeases: async (_worker: string, leases: readonly { id: string }[]) => ({ cancelRequested: [], lost: leases.map((l) => l.id) }),
    putArtifact: async () => false,
    expiredLeases: async () => [],
    rescueRuns: async () => [],
    expireOverdue: async () => [],
    saveWorker: async () => null,
    removeWorker: async () => undefined,
    lead: async () => false,
    signal: async () => undefined,
  }
  const proxy = new Proxy(store, {
    get(target, key, receiver) {
      if (severed && typeof key === 'string' && key in dead) return dead[key as keyof Store]
      const value: unknown = Reflect.get(target, key, receiver)
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value
    },
  })
  return {
    store: proxy,
    sever: () => {
      severed = true
      // Its connections go with it (on PostgreSQL, with them the maintenance leadership).
      void store.close()
    },
  }
}

/** A store watched by {@link observed}. */
export interface ObservedStore {
  readonly store: Store
  /** Calls so far, by method. */
  readonly calls: Map<string, number>
  /** Every batch written. */
  readonly batches: WriteBatch[]
  /** The leases of every heartbeat. */
  readonly renewals: (readonly { id: string }[])[]
  /** Resolves at the `n`th call of `method` from now (made, not yet answered); rejects after `timeoutMs`. */
  more(method: string, n: number, timeoutMs?: number): Promise<void>
}

/**
 * A store that counts the calls of each method, keeps the batches written and the leases renewed
 * (to observe a worker: its polls, heartbeats and writes), and tells waiters of the calls as they
 * are made.
 */
export function observed(store: Store): ObservedStore {
  const calls = new Map<string, number>()
  const batches: WriteBatch[] = []
  const renewals: (readonly { id: string }[])[] = []
  const waiters = new Set<{ method: string; count: number; resolve(): void }>()
  const proxy = new Proxy(store, {
    get(target, key, receiver) {
      const value: unknown = Reflect.get(target, key, receiver)
      if (typeof value !== 'function' || typeof key !== 'string') return value
      return (...args: unknown[]) => {
        const count = (calls.get(key) ?? 0) + 1
        calls.set(key, count)
        if (key === 'writeBatch') batches.push(args[0] as WriteBatch)
        if (key === 'renewLeases') renewals.push(args[1] as { id: string }[])
        for (const waiter of waiters) if (waiter.method === key && count >= waiter.count) waiter.resolve()
        return (value as (...a: unknown[]) => unknown).apply(target, args)
      }
    },
  })
  const more = (method: string, n: number, timeoutMs = 5000): Promise<void> => {
    const count = (calls.get(method) ?? 0) + n
    const timedOut = new Error(`${method} was not called ${n} more time(s) within ${timeoutMs} ms`)
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(waiter)
        reject(timedOut)
      }, timeoutMs)
      const waiter = {
        method,
        count,
        resolve: () => {
          waiters.delete(waiter)
          clearTimeout(timer)
          resolve()
        },
      }
      waiters.add(waiter)
    })
  }
  return { store: proxy, calls, batches, renewals, more }
}

/** Resolves once `watched` has seen `n` more calls of `method` than now. */
export function moreCalls(watched: ObservedStore, method: string, n: number): Promise<void> {
  return watched.more(method, n)
}

/** What a file of the suite is given: the store kind, and engines closed after each test. */
export interface DurableSuite {
  readonly backend: DurableBackend
  /** An engine polling every 20 ms with 3 s leases on a fresh store (unless `options` say otherwise), closed after the test. */
  readonly engineWith: (options?: EngineOptions) => Engine
}

/** Closes after each test the engines made by the returned {@link DurableSuite.engineWith}. */
export function durableSuite(backend: DurableBackend): DurableSuite {
  const engines: Engine[] = []
  afterEach(async () => {
    await Promise.all(engines.splice(0).map((e) => e.close({ graceMs: 0 })))
  })

  function engineWith(options: EngineOptions = {}): Engine {
    const engine = createEngine({ pollIntervalMs: 20, leaseMs: 3000, store: options.store ?? backend.store(), ...options })
    engines.push(engine)
    return engine
  }

  return { backend, engineWith }
}

/** Resolves after `ms`: work a handler does that takes time. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

export const echo = defineTask({
  key: 'echo',
  fields: [
    { key: 'text', type: 'string', required: true },
    { key: 'times', type: 'int', default: 1 },
    { key: 'at', type: 'time' },
  ],
  async run(ctx) {
    ctx.log(`echo ${ctx.args.text}`)
    ctx.progress({ step: 1, steps: 1, message: 'done' })
    await Promise.resolve()
    return { text: ctx.args.text.repeat(ctx.args.times), at: ctx.args.at?.toISOString() ?? null, attempt: ctx.attempt }
  },
})

/** A task whose runs wait for their signal, recording which started and which were aborted (and telling `onAbort`). */
export const blocking = (onAbort: (runId: string) => void = () => undefined) => {
  const started: string[] = []
  const aborted: string[] = []
  const task = defineTask({
    key: 'blocking',
    run: (ctx) =>
      new Promise((_, reject) => {
        started.push(ctx.runId)
        ctx.signal.addEventListener('abort', () => {
          aborted.push(ctx.runId)
          onAbort(ctx.runId)
          reject(ctx.signal.reason as Error)
        })
      }),
  })
  return { task, started, aborted }
}

