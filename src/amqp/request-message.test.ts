import { describe, expect, it } from 'vitest'
import { routingKeyOf } from './event-message.js'
import { reconnectDelay } from './reconnect-delay.js'
import { parseTaskRequest, requestIdOf } from './request-message.js'

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value))

describe('parseTaskRequest', () => {
  it('maps the seed\'s message onto an enqueue: type → task, title → label, userId → createdBy, params → args, the id → requestId', () => {
    const parsed = parseTaskRequest(json({ type: 'backup', title: 'nightly', userId: 'ada', params: { format: 'tar' }, options: { priority: 2, runAt: '2026-12-06T10:00:00Z', tags: ['x'] } }), { messageId: 'm-1' })
    expect(parsed).toEqual({
      ok: true,
      requestId: 'm-1',
      request: { task: 'backup', args: { format: 'tar' }, options: { priority: 2, runAt: new Date('2026-12-06T10:00:00Z'), tags: ['x'], label: 'nightly', createdBy: 'ada', requestId: 'm-1' } },
    })
  })

  it('takes the correlation id when there is no message id, and refuses a message with neither', () => {
    expect(requestIdOf({ correlationId: 'c-1' })).toBe('c-1')
    expect(requestIdOf({ messageId: 'm', correlationId: 'c' })).toBe('m')
    expect(parseTaskRequest(json({ type: 'a' }), {})).toMatchObject({ ok: false, failure: { code: 'ERR_VALIDATION', message: expect.stringContaining('no id') as unknown } })
  })

  it('names every problem: not JSON, not an object, unknown keys and options, bad values', () => {
    expect(parseTaskRequest(Buffer.from('{"type":'), { messageId: 'm' })).toMatchObject({ ok: false, failure: { code: 'ERR_MALFORMED_JSON' } })
    expect(parseTaskRequest(json([1]), { messageId: 'm' })).toMatchObject({ ok: false, failure: { code: 'ERR_VALIDATION', message: expect.stringContaining('must be an object') as unknown } })
    const parsed = parseTaskRequest(json({ type: 3, titel: 'x', params: [1], options: { prority: 1, runAt: 'soon', requestId: 'r' } }), { messageId: 'm' })
    expect(parsed.ok).toBe(false)
    if (!parsed.ok) {
      expect(parsed.failure.issues.map((i) => i.message)).toEqual([
        'titel: unknown key (did you mean title?)',
        'type: expected a task key, got 3 (number)',
        'params: expected an object of task arguments, got [1] (array)',
        expect.stringMatching(/^options\.prority: unknown option \(did you mean priority\?\)/),
        expect.stringMatching(/^options\.requestId: unknown option/),
        'options.runAt: expected an ISO 8601 time or epoch ms, got "soon" (string)',
      ])
    }
  })
})

describe('routing keys and reconnect delays', () => {
  it('routes runs.<task>.<event>.<runId>, a task key\'s dots written %2E', () => {
    expect(routingKeyOf({ task: 'mail.send', type: 'failed', runId: 'r1' })).toBe('runs.mail%2Esend.failed.r1')
  })

  it('doubles the delay per failure up to the cap, in its upper half', () => {
    expect([1, 2, 3, 4].map((n) => reconnectDelay(n, 100, 30_000, () => 1))).toEqual([100, 200, 400, 800])
    expect(reconnectDelay(1, 100, 30_000, () => 0)).toBe(50)
    expect(reconnectDelay(50, 100, 30_000, () => 1)).toBe(30_000)
  })
})
