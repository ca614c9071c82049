import { EventEmitter } from 'node:events'
import { describe, expect, it } from 'vitest'
import type { RunEvent } from '../engine/events/run-events.js'
import type { BrokerSession } from './connection.js'
import { Egress } from './egress.js'

/** A session whose confirm channel records what is published and lets the test confirm or close. */
function fakeSession(generation: number): { session: BrokerSession; published: { key: string; seq: number; confirm: (error: unknown) => void }[] } {
  const published: { key: string; seq: number; confirm: (error: unknown) => void }[] = []
  const publisher = Object.assign(new EventEmitter(), {
    publish(_exchange: string, key: string, content: Buffer, _options: unknown, confirm: (error: unknown) => void): boolean {
      published.push({ key, seq: (JSON.parse(content.toString()) as { seq: number }).seq, confirm })
      return true
    },
  })
  return { session: { publisher, generation, connection: undefined, lose: () => undefined } as unknown as BrokerSession, published }
}

const started = (runId: string): RunEvent => ({ type: 'started', runId, task: 't', time: new Date(0), label: 'l', attempt: 1 })

describe('Egress', () => {
  it('puts messages unconfirmed when the channel closed back in front, in order, and drops nothing', async () => {
    const egress = new Egress('x', 100, () => undefined)
    const first = fakeSession(1)
    egress.attach(first.session)
    for (const id of ['a', 'b', 'c']) egress.push(started(id))
    // Not published inside the engine's emit: one pump a moment later takes all three.
    expect(first.published).toHaveLength(0)
    await Promise.resolve()
    expect(first.published).toHaveLength(3)
    first.published[0]!.confirm(null)
    // The connection drops: amqplib fails the callbacks of the unconfirmed ones, then the session ends.
    for (const p of first.published.slice(1)) p.confirm(new Error('channel closed'))
    egress.lost(first.session)
    egress.push(started('d'))
    expect(egress.buffered).toBe(3)
    const second = fakeSession(2)
    egress.attach(second.session)
    expect(second.published.map((p) => p.key)).toEqual(['runs.t.started.b', 'runs.t.started.c', 'runs.t.started.d'])
    for (const p of second.published) p.confirm(null)
    expect(egress.counters).toEqual({ published: 4, dropped: 0 })
  })

  it('writes a bigint of a result as its decimal string, and an event that cannot be JSON is dropped without stalling the later ones', async () => {
    const lines: string[] = []
    const egress = new Egress('x', 100, (line) => lines.push(line))
    const bodies: Record<string, unknown>[] = []
    const session = fakeSession(1)
    const publish = session.session.publisher.publish.bind(session.session.publisher)
    Object.assign(session.session.publisher, {
      publish: (exchange: string, key: string, content: Buffer, options: unknown, confirm: (error: unknown) => void) => {
        bodies.push(JSON.parse(content.toString()) as Record<string, unknown>)
        return publish(exchange, key, content, options as never, confirm)
      },
    })
    egress.attach(session.session)
    const circular: Record<string, unknown> = {}
    circular.self = circular
    egress.push({ type: 'succeeded', runId: 'a', task: 't', time: new Date(0), attempt: 1, durationMs: 1, result: { data: { n: 2n ** 64n } } } as unknown as RunEvent)
    egress.push({ type: 'succeeded', runId: 'b', task: 't', time: new Date(0), attempt: 1, durationMs: 1, result: { data: circular } } as unknown as RunEvent)
    egress.push({ type: 'succeeded', runId: 'c', task: 't', time: new Date(0), attempt: 1, durationMs: 1, result: { data: circular } } as unknown as RunEvent)
    egress.push(started('d'))
    await Promise.resolve()
    expect(bodies.map((b) => b.runId)).toEqual(['a', 'd'])
    expect(bodies[0]!.data).toEqual({ n: '18446744073709551616' })
    for (const p of session.published) p.confirm(null)
    expect(egress.counters).toEqual({ published: 2, dropped: 2 })
    expect(lines.filter((line) => line.includes('cannot be written as JSON'))).toHaveLength(1)
    await egress.flush(1_000)
  })

  it('drops the oldest past the limit while away, and counts a nacked message as dropped', () => {
    const lines: string[] = []
    const egress = new Egress('x', 2, (line) => lines.push(line))
    for (const id of ['a', 'b', 'c', 'd']) egress.push(started(id))
    expect(egress.counters.dropped).toBe(2)
    const session = fakeSession(1)
    egress.attach(session.session)
    expect(session.published.map((p) => p.key)).toEqual(['runs.t.started.c', 'runs.t.started.d'])
    session.published[0]!.confirm(new Error('message nacked'))
    session.published[1]!.confirm(null)
    expect(egress.counters).toEqual({ published: 1, dropped: 3 })
    expect(lines).toEqual([
      'event buffer full (2): dropping the oldest run events until the broker takes them again',
      '2 run events were dropped while the broker was away',
      'the broker refused run event started of run c: dropped',
    ])
  })
})
