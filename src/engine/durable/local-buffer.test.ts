/**
 * The local buffer on its own: prefetch sizing, expiry, and the holds that keep runs claimed
 * ahead unspent (at most once per attempt). A fake clock and fake timers; holds go to a list.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { ClaimedRun, HoldWrite } from '../../store/types.js'
import { HOLD_AFTER_MS, LOCAL_TTL_MS, LocalBuffer } from './local-buffer.js'

let clock = 0
let holds: HoldWrite[]
let queued: Set<string>

/** Holds queued like the write buffer's: cancellable until they "leave" (`send()`). */
function writes() {
  holds = []
  queued = new Set()
  return {
    hold: (write: HoldWrite) => {
      holds.push(write)
      queued.add(write.id)
    },
    unhold: (id: string) => queued.delete(id),
  }
}
const send = (): void => queued.clear()

function run(id: string, started = true): ClaimedRun {
  return { id, task: 't', label: 'l', queue: 'default', poolId: null, args: {}, tags: [], attempt: 1, attemptBase: 0, maxAttempts: started ? 3 : 1, backoff: null, timeoutMs: null, logCount: 0, token: `tok-${id}`, started }
}

function buffer(prefetch = 100): LocalBuffer {
  return new LocalBuffer(prefetch, writes(), () => clock)
}

beforeEach(() => {
  clock = 1_000_000
  vi.useFakeTimers()
})
afterEach(() => vi.useRealTimers())

describe('LocalBuffer', () => {
  it('keeps runs in claim order and gives them out, taken or all at once', () => {
    const local = buffer()
    for (const id of ['a', 'b', 'c', 'd']) local.push(run(id))
    expect(local.ids()).toEqual(['a', 'b', 'c', 'd'])
    expect(local.leases()).toEqual(['a', 'b', 'c', 'd'].map((id) => ({ id, token: `tok-${id}` })))
    expect(local.shift()?.id).toBe('a')
    expect(local.take('c')?.id).toBe('c')
    expect(local.take('c')).toBeUndefined()
    expect(local.has('b')).toBe(true)
    expect(local.takeAll().map((r) => r.id)).toEqual(['b', 'd'])
    expect(local.length).toBe(0)
  })

  it('holds ahead as many runs as finished in the last rate window, up to prefetch', () => {
    const local = buffer(5)
    expect(local.aheadLimit()).toBe(0)
    for (let i = 0; i < 3; i++) local.finished()
    expect(local.aheadLimit()).toBe(3)
    // The next window still counts the previous one.
    clock += 60
    local.finished()
    expect(local.aheadLimit()).toBe(4)
    for (let i = 0; i < 10; i++) local.finished()
    expect(local.aheadLimit()).toBe(5)
    // A quiet spell of two windows forgets the rate.
    clock += 200
    expect(local.aheadLimit()).toBe(0)
    expect(buffer(0).aheadLimit()).toBe(0)
  })

  it('gives back runs held longer than a second', () => {
    const local = buffer()
    local.push(run('old'))
    clock += LOCAL_TTL_MS - 10
    local.push(run('young'))
    expect(local.expired()).toEqual([])
    clock += 10
    expect(local.expired().map((r) => r.id)).toEqual(['old'])
    expect(local.ids()).toEqual(['young'])
  })

  it('leaves the start of runs it gives out within HOLD_AFTER_MS standing: no write at all', () => {
    const local = buffer()
    local.push(run('a'))
    local.watchHolds()
    vi.advanceTimersByTime(HOLD_AFTER_MS - 1)
    const a = local.shift()!
    expect(local.startStands(a)).toBe(true)
    vi.advanceTimersByTime(HOLD_AFTER_MS)
    expect(holds).toEqual([])
  })

  it('holds counted runs waiting HOLD_AFTER_MS, oldest first; one started before its hold leaves cancels it', () => {
    const local = buffer()
    local.push(run('a'))
    clock += 30
    local.push(run('last', false)) // on its last attempt: nothing counted, nothing to hold
    local.push(run('b'))
    local.watchHolds()
    clock += HOLD_AFTER_MS - 30
    vi.advanceTimersByTime(HOLD_AFTER_MS - 30)
    expect(holds).toEqual([{ id: 'a', token: 'tok-a' }])
    clock += 30
    vi.advanceTimersByTime(30)
    expect(holds.map((h) => h.id)).toEqual(['a', 'b'])
    // 'a' starts before its hold left: the hold is cancelled and the claim's start stands.
    expect(local.startStands(local.take('a')!)).toBe(true)
    // 'b' starts after its hold left: it needs a stored start first.
    send()
    expect(local.startStands(local.take('b')!)).toBe(false)
    // A run on its last attempt always needs a stored start.
    expect(local.startStands(local.take('last')!)).toBe(false)
  })

  it('cancels the queued hold of a run whose lease was lost', () => {
    const local = buffer()
    local.push(run('a'))
    local.watchHolds()
    clock += HOLD_AFTER_MS
    vi.advanceTimersByTime(HOLD_AFTER_MS)
    expect(queued.has('a')).toBe(true)
    expect(local.lose('a')?.id).toBe('a')
    expect(queued.has('a')).toBe(false)
    expect(local.lose('a')).toBeUndefined()
  })

  it('arms no more holds once closed, and hands every run out', () => {
    const local = buffer()
    local.push(run('a'))
    local.watchHolds()
    expect(local.close().map((r) => r.id)).toEqual(['a'])
    local.push(run('b'))
    local.watchHolds()
    clock += HOLD_AFTER_MS * 2
    vi.advanceTimersByTime(HOLD_AFTER_MS * 2)
    expect(holds).toEqual([])
  })

  it('forgets a held run handed back unstarted: a later claim of it is judged afresh', () => {
    const local = buffer()
    local.push(run('a'))
    local.watchHolds()
    clock += HOLD_AFTER_MS
    vi.advanceTimersByTime(HOLD_AFTER_MS)
    send()
    local.forget(local.take('a')!.id)
    // Claimed again with its start counted: it stands, no hold of it is tracked any more.
    expect(local.startStands(run('a'))).toBe(true)
  })
})
