import { describe, expect, it } from 'vitest'
import type { RunEvent } from '../engine/events/run-events.js'
import type { RunResult } from '../task/context.js'
import { LiveOutput, describeProgress, formatDuration } from './live-output.js'

const base = { runId: 'r', task: 't', time: new Date('2026-11-23T10:00:00.123Z') }
const progress = (percent: number, message?: string): RunEvent => ({ ...base, type: 'progress', progress: { percent, ...(message === undefined ? {} : { message }) } })
const log = (message: string): RunEvent => ({ ...base, type: 'log', entry: { seq: 1, time: base.time, level: 'info', message } })

describe('LiveOutput', () => {
  it('on a terminal redraws the bar in place and keeps log lines above it', () => {
    let out = ''
    const live = new LiveOutput((t) => (out += t), { tty: true, color: false })
    live.onEvent(progress(50, 'half'))
    live.onEvent(log('hello'))
    expect(out).toBe(`\r\x1b[K${'█'.repeat(12)}${'░'.repeat(12)} 50% half\r\x1b[K10:00:00.123 info  hello\n\r\x1b[K${'█'.repeat(12)}${'░'.repeat(12)} 50% half`)
  })

  it('elsewhere prints a progress line per visible change, throttled, and always the final one', () => {
    let out = ''
    const live = new LiveOutput((t) => (out += t), { tty: false, color: false, plainProgressIntervalMs: 60_000 })
    live.onEvent(progress(10))
    live.onEvent(progress(20))
    live.onEvent(progress(100))
    expect(out).toBe('progress 10%\nprogress 100%\n')
  })

  it('ends with a summary and, for failures, the stack', () => {
    let out = ''
    const live = new LiveOutput((t) => (out += t), { tty: false, color: false })
    live.finish({ task: 't', status: 'failed', durationMs: 1500, finishedAt: new Date(), logs: [], error: { message: 'boom', code: 'X', name: 'Error', stack: 'Error: boom\n  at x' } } as unknown as RunResult)
    // The log's last line says how it ended and how long its handler took; then the summary.
    expect(out).toMatch(/^\d\d:\d\d:\d\d\.\d{3} info {2}failed after 1500 ms\n✖ t failed in 1\.5 s: boom\n {4}Error: boom\n {6}at x\n$/)
  })
})

describe('formatting', () => {
  it('describes progress and durations', () => {
    expect(describeProgress({ percent: 33.3, step: 1, steps: 3, message: 'go' })).toBe('33% (1/3) go')
    expect(formatDuration(850)).toBe('850 ms')
    expect(formatDuration(125_000)).toBe('2 min 5 s')
  })
})
