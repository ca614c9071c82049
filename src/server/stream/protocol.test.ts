import { describe, expect, it } from 'vitest'
import type { RunEvent } from '../../engine/events/run-events.js'
import { eventMessageText, matches, readClientMessage, type EventMessage } from './protocol.js'

const read = (message: unknown, admit?: (id: string) => string | undefined) => readClientMessage(typeof message === 'string' ? message : JSON.stringify(message), admit)

describe('readClientMessage', () => {
  it('reads the three messages a client sends, with the filter never absent', () => {
    expect(read({ type: 'ping', extra: 1 })).toEqual({ type: 'ping' })
    expect(read({ type: 'unsubscribe', id: 's1' })).toEqual({ type: 'unsubscribe', id: 's1' })
    expect(read({ type: 'subscribe', id: 's1' })).toEqual({ type: 'subscribe', id: 's1', filter: {} })
    expect(read({ type: 'subscribe', id: 's1', filter: null })).toEqual({ type: 'subscribe', id: 's1', filter: {} })
    expect(read({ type: 'subscribe', id: 's2', filter: { runId: 'r1' }, after: 12, epoch: 'e', logsAfter: 0 })).toEqual({
      type: 'subscribe',
      id: 's2',
      filter: { runId: 'r1' },
      after: 12,
      epoch: 'e',
      logsAfter: 0,
    })
    // An epoch that is not text can never match the server's: it reads as none (a gap on resume).
    expect(read({ type: 'subscribe', id: 's3', after: 1, epoch: 7 })).toEqual({ type: 'subscribe', id: 's3', filter: {}, after: 1 })
  })

  it('answers a message it cannot read with the error the client is sent, naming the subscription when it can', () => {
    const cases: [unknown, { message: unknown; id?: string }][] = [
      [new Uint8Array([123, 125]), { message: 'messages must be JSON text' }],
      [`"${'x'.repeat(64 * 1024)}"`, { message: 'message too large (64 KiB at most)' }],
      ['{nope', { message: expect.stringMatching(/^malformed JSON: /) }],
      [[1], { message: 'expected a JSON object, got [1] (array)' }],
      [{ type: 'shout' }, { message: 'unknown message type "shout" (string) (expected subscribe, unsubscribe or ping)' }],
      [{}, { message: 'unknown message type undefined (undefined) (expected subscribe, unsubscribe or ping)' }],
      [{ type: 'unsubscribe' }, { message: 'unsubscribe: expected an "id"' }],
      [{ type: 'subscribe', id: '' }, { message: 'subscribe: "id" must be a non-empty string, got "" (string)' }],
      [{ type: 'subscribe', id: 'x'.repeat(101) }, { message: expect.stringMatching(/^subscribe: "id" must be a non-empty string, got "x{20}/) }],
      [{ type: 'subscribe', id: 's', filter: [] }, { id: 's', message: 'subscribe: "filter" must be an object, got [] (array)' }],
      [{ type: 'subscribe', id: 's', filter: { status: 'failed' } }, { id: 's', message: 'subscribe: unknown filter "status" (expected runId, task or poolId)' }],
      [{ type: 'subscribe', id: 's', filter: { task: '' } }, { id: 's', message: 'subscribe: filter.task must be a non-empty string, got "" (string)' }],
      [{ type: 'subscribe', id: 's', after: -1 }, { id: 's', message: 'subscribe: "after" must be an event position, got -1 (number)' }],
      [{ type: 'subscribe', id: 's', after: 1.5 }, { id: 's', message: 'subscribe: "after" must be an event position, got 1.5 (number)' }],
      [{ type: 'subscribe', id: 's', logsAfter: 0 }, { id: 's', message: 'subscribe: "logsAfter" needs a runId filter and a log position >= 0' }],
      [{ type: 'subscribe', id: 's', filter: { runId: 'r' }, logsAfter: '3' }, { id: 's', message: 'subscribe: "logsAfter" needs a runId filter and a log position >= 0' }],
    ]
    for (const [message, expected] of cases) {
      const data = typeof message === 'string' || message instanceof Uint8Array ? message : JSON.stringify(message)
      const answer = readClientMessage(data)
      expect(answer).toEqual({ type: 'error', ...expected })
      if (expected.id === undefined) expect(answer).not.toHaveProperty('id')
    }
  })

  it('asks whether a subscription fits right after its id, before reading the rest', () => {
    const asked: string[] = []
    const full = (id: string): string => {
      asked.push(id)
      return 'at most 100 subscriptions per connection'
    }
    expect(read({ type: 'subscribe', id: 's9', filter: 'bad' }, full)).toEqual({ type: 'error', id: 's9', message: 'subscribe: at most 100 subscriptions per connection' })
    expect(read({ type: 'subscribe', id: 7 }, full)).toEqual({ type: 'error', message: 'subscribe: "id" must be a non-empty string, got 7 (number)' })
    expect(read({ type: 'unsubscribe', id: 's9' }, full)).toEqual({ type: 'unsubscribe', id: 's9' })
    expect(asked).toEqual(['s9'])
  })
})

describe('the event message', () => {
  it('is the same text as the message serialized whole', () => {
    const event: RunEvent = { type: 'log', runId: 'r1', task: 't', time: new Date(0), entry: { seq: 1, time: new Date(0), level: 'info', message: 'a "quoted" line' } }
    const message: EventMessage = { type: 'event', id: 'sub "1"', seq: 42, event }
    expect(eventMessageText('sub "1"', 42, JSON.stringify(event))).toBe(JSON.stringify(message))
  })

  it('goes to subscriptions whose filter the event matches', () => {
    const event: RunEvent = { type: 'deleted', runId: 'r1', task: 't', time: new Date(0), poolId: 'p1' }
    expect(matches({}, event)).toBe(true)
    expect(matches({ runId: 'r1', task: 't', poolId: 'p1' }, event)).toBe(true)
    expect(matches({ runId: 'r2' }, event)).toBe(false)
    expect(matches({ task: 'u' }, event)).toBe(false)
    expect(matches({ poolId: 'p2' }, event)).toBe(false)
  })
})
