/**
 * The cross-process event relay on its own, over a fake store that records what is signalled:
 * when a process shares its events, what an outbox batch holds, and what an observer re-emits.
 */
import { hostname } from 'node:os'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { Store, StoreSignal, WorkerInfo } from '../../store/types.js'
import { EventBus } from './bus.js'
import { EventRelay } from './relay.js'
import type { RunEvent } from './run-events.js'

const PROCESS = 'host:1:aaaaaaaa'
const T = new Date(Date.UTC(2026, 11, 6, 12))

interface FakeStore {
  readonly store: Store
  readonly signals: StoreSignal[]
  readonly rows: unknown[]
  readonly removed: string[]
  deliver(message: StoreSignal): void
}

function fakeStore(): FakeStore {
  const signals: StoreSignal[] = []
  const rows: unknown[] = []
  const removed: string[] = []
  let listener: ((message: StoreSignal) => void) | undefined
  const store = {
    signal: (message: StoreSignal) => {
      signals.push(message)
      return Promise.resolve()
    },
    saveWorker: (row: unknown) => {
      rows.push(row)
      return Promise.resolve()
    },
    removeWorker: (id: string) => {
      removed.push(id)
      return Promise.resolve()
    },
    onSignal: (_channel: string, fn: (message: StoreSignal) => void) => {
      listener = fn
      return () => (listener = undefined)
    },
    signalsListening: () => Promise.resolve(),
  }
  return { store: store as unknown as Store, signals, rows, removed, deliver: (message) => listener?.(message) }
}

function relayOver(fake: FakeStore, bus = new EventBus(() => undefined)): EventRelay {
  return new EventRelay({
    bus,
    processId: PROCESS,
    heartbeatMs: 10_000,
    now: () => T.getTime(),
    store: () => Promise.resolve(fake.store),
    currentStore: () => fake.store,
    worker: () => undefined,
    taskKeys: () => ['a', 'b'],
    onError: (error) => {
      throw error
    },
  })
}

const peer = (id: string, observer: boolean): WorkerInfo => ({ id, observer }) as unknown as WorkerInfo
const log = (runId: string, seq: number): RunEvent => ({ type: 'log', runId, task: 't', time: T, entry: { seq, time: T, level: 'info', message: `line ${seq}` } })
const progress = (runId: string, percent: number): RunEvent => ({ type: 'progress', runId, task: 't', time: T, progress: { percent } })

beforeEach(() => vi.useFakeTimers())
afterEach(() => vi.useRealTimers())

describe('EventRelay', () => {
  it('shares nothing until another process observes; its own rows do not count', () => {
    const fake = fakeStore()
    const relay = relayOver(fake)
    relay.peers([peer(`${PROCESS}:server`, true), peer('elsewhere:2:bbbbbbbb', false)])
    expect(relay.listening()).toBe(false)
    relay.emit(log('r1', 1))
    vi.advanceTimersByTime(1000)
    expect(fake.signals).toEqual([])
    relay.peers([peer('elsewhere:2:bbbbbbbb:server', true)])
    expect(relay.listening()).toBe(true)
  })

  it('sends shared events in one batch after 200 ms: progress coalesced per run, without run and result objects', async () => {
    const fake = fakeStore()
    const bus = new EventBus(() => undefined)
    const seen: RunEvent[] = []
    bus.subscribe((event) => seen.push(event))
    const relay = relayOver(fake, bus)
    relay.peers([peer('elsewhere:2:bbbbbbbb:server', true)])
    relay.emit(progress('r1', 10))
    relay.emit(progress('r2', 50))
    relay.emit(progress('r1', 20))
    relay.emit({ type: 'succeeded', runId: 'r2', task: 't', time: T, error: null, run: { id: 'r2' } as never })
    // Events received from elsewhere are never sent on.
    relay.emit({ ...log('r3', 1), remote: true })
    expect(seen).toHaveLength(5)
    await vi.advanceTimersByTimeAsync(199)
    expect(fake.signals).toEqual([])
    await vi.advanceTimersByTimeAsync(1)
    expect(fake.signals).toEqual([
      {
        type: 'events',
        origin: PROCESS,
        events: [
          { type: 'progress', runId: 'r2', task: 't', time: T.toISOString(), progress: { percent: 50 } },
          { type: 'progress', runId: 'r1', task: 't', time: T.toISOString(), progress: { percent: 20 } },
          { type: 'succeeded', runId: 'r2', task: 't', time: T.toISOString(), error: null },
        ],
      },
    ])
  })

  it('pushes at most 500 log lines per batch; state changes always', async () => {
    const fake = fakeStore()
    const relay = relayOver(fake)
    relay.peers([peer('elsewhere:2:bbbbbbbb', true)])
    for (let seq = 1; seq <= 600; seq++) relay.emit(log('r1', seq))
    relay.emit(progress('r1', 99))
    await vi.advanceTimersByTimeAsync(200)
    const [batch] = fake.signals as unknown as { events: RunEvent[] }[]
    expect(batch!.events).toHaveLength(501)
    expect(batch!.events.at(-2)).toMatchObject({ type: 'log', entry: { seq: 500 } })
    expect(batch!.events.at(-1)).toMatchObject({ type: 'progress' })
  })

  it('sends what waits in the outbox when it closes', async () => {
    const fake = fakeStore()
    const relay = relayOver(fake)
    relay.peers([peer('elsewhere:2:bbbbbbbb', true)])
    relay.emit(log('r1', 1))
    await relay.close()
    expect(fake.signals).toHaveLength(1)
  })

  it("observes: announces the process, re-emits other processes' events as remote with their times, and removes its row when it stops", async () => {
    const fake = fakeStore()
    const bus = new EventBus(() => undefined)
    const seen: RunEvent[] = []
    bus.subscribe((event) => seen.push(event))
    const relay = relayOver(fake, bus)
    const stop = relay.observe()
    expect(relay.observing()).toBe(true)
    await vi.advanceTimersByTimeAsync(0)
    expect(fake.rows).toEqual([{ id: `${PROCESS}:server`, host: hostname(), pid: process.pid, concurrency: 0, busy: 0, queues: null, tasks: ['a', 'b'], running: [], startedAt: T.getTime(), heartbeatAt: T.getTime(), observer: true }])
    expect(fake.signals).toEqual([{ type: 'observing', origin: PROCESS }])
    fake.deliver({ type: 'events', origin: 'elsewhere:2:bbbbbbbb', events: [{ type: 'retrying', runId: 'r1', task: 't', time: T.toISOString(), runAt: T.toISOString(), attempt: 1, error: null }] })
    fake.deliver({ type: 'events', origin: PROCESS, events: [{ type: 'log', runId: 'own', task: 't', time: T.toISOString() }] })
    expect(seen).toEqual([{ type: 'retrying', runId: 'r1', task: 't', time: T, runAt: T, attempt: 1, error: null, remote: true }])
    stop()
    stop()
    expect(relay.observing()).toBe(false)
    expect(fake.removed).toEqual([`${PROCESS}:server`])
  })
})
