/**
 * Ingress: task requests consumed from the queue become durable runs. Each message is parsed,
 * enqueued through `engine.enqueue` (the task's fields and its own checks apply) with the
 * message's id as the run's `requestId`, and acknowledged only once the run is committed: a
 * redelivery (the bridge died between commit and ack) finds the run its id made instead of adding
 * one. A message that can never become a run (not JSON, not a request, unknown task, bad
 * arguments, no id) is copied to the dead-letter exchange with the reason in its headers,
 * confirmed, then acknowledged: never requeued. A failure that is not the request's (the store is
 * briefly unreachable) holds the message for a delay that doubles from {@link RETRY_FIRST_DELAY_MS}
 * and gives it back to the queue; only after {@link MAX_ATTEMPTS} failed attempts, counted here by
 * request id (the broker's `redelivered` flag says nothing: every message in hand when a process
 * died comes back with it), is it dead-lettered. A message that asks for a reply (`replyTo`) gets
 * `{ ok: true, runId }` or `{ ok: false, errors }` with its correlation id. Each new run is
 * recorded in the audit trail (actor `amqp`, action `run.enqueue`).
 */
import type { Channel, ConsumeMessage } from 'amqplib'
import type { Engine } from '../engine/engine.js'
import { answeredByExisting } from '../engine/durable/enqueue.js'
import { TaskEngineError, ValidationError, coerceError } from '../errors.js'
import { publishConfirmed } from './confirmed.js'
import type { BrokerSession } from './connection.js'
import type { ResolvedBridgeOptions } from './options.js'
import { parseTaskRequest, requestIdOf, type RequestFailure } from './request-message.js'
import { declareTopology } from './topology.js'

/** The header naming why a request was dead-lettered. */
export const ERROR_HEADER = 'x-taskengine-error'
/** The header with the stable code of that reason (`ERR_VALIDATION`, `ERR_NOT_FOUND`, …). */
export const ERROR_CODE_HEADER = 'x-taskengine-error-code'

/** Attempts of a request that fail through no fault of its own before it is dead-lettered. */
export const MAX_ATTEMPTS = 5
/** The wait before a failed request goes back to the queue, doubled per attempt up to {@link RETRY_MAX_DELAY_MS}. */
export const RETRY_FIRST_DELAY_MS = 100
export const RETRY_MAX_DELAY_MS = 3_000

/** The bridge in the audit trail. */
const AMQP_ACTOR = { id: 'amqp', kind: 'amqp', via: 'amqp' } as const

/** The engine's errors that are the request's fault: dead-lettered, never retried. */
const REQUEST_FAULTS = new Set(['ERR_VALIDATION', 'ERR_NOT_FOUND', 'ERR_CONFLICT', 'ERR_FORBIDDEN'])

/** What ingress counts (see `AmqpBridgeStats`). */
export interface IngressCounters {
  received: number
  enqueued: number
  deduplicated: number
  deadLettered: number
  requeued: number
  replies: number
}

/** The consumer side of the bridge. */
export class Ingress {
  readonly #engine: Engine
  readonly #options: ResolvedBridgeOptions
  readonly counters: IngressCounters = { received: 0, enqueued: 0, deduplicated: 0, deadLettered: 0, requeued: 0, replies: 0 }
  #consumer: { channel: Channel; tag: string } | undefined
  /** The session consuming now; requests of an older one are delivered again by the broker. */
  #current: BrokerSession | undefined
  #inFlight = 0
  #idle: (() => void)[] = []
  /** Failed attempts so far of the requests that failed through no fault of theirs, by request id. */
  readonly #attempts = new Map<string, number>()
  /** Ends the waits before requeueing (on stop). */
  readonly #wakeRetries = new Set<() => void>()
  #stopping = false

  constructor(engine: Engine, options: ResolvedBridgeOptions) {
    this.#engine = engine
    this.#options = options
  }

  /** Declares the topology on a new session and starts consuming. */
  async setup(session: BrokerSession): Promise<void> {
    const o = this.#options
    const channel = await session.connection.createChannel()
    channel.on('error', (error: Error) => o.onLog(`consuming channel: ${error.message}`))
    channel.on('close', () => {
      if (this.#consumer?.channel === channel) session.lose('consuming channel closed')
    })
    await declareTopology(channel, { queue: o.queue, deadLetterExchange: o.deadLetterExchange, deadLetterQueue: o.deadLetterQueue, exchange: o.events ? o.exchange : undefined })
    await channel.prefetch(o.prefetch)
    const { consumerTag } = await channel.consume(o.queue, (message) => {
      // null: the broker cancelled the consumer (the queue was deleted): start over.
      if (message === null) session.lose('the broker cancelled the consumer')
      else void this.#handle(session, channel, message)
    })
    this.#consumer = { channel, tag: consumerTag }
    this.#current = session
  }

  /** The session ended: its deliveries can no longer be acknowledged (the broker delivers them again). */
  lost(session: BrokerSession): void {
    if (this.#current === session) this.#current = undefined
    if (this.#consumer !== undefined && this.#consumer.channel.connection === session.connection.connection) this.#consumer = undefined
  }

  /**
   * Stops consuming, waits (at most `timeoutMs`) for the requests being handled to finish, and
   * closes the consuming channel: its close handshake comes after the broker took every ack (a
   * connection closed at once could overtake acks still queued on the channel).
   */
  async stop(timeoutMs: number): Promise<void> {
    const consumer = this.#consumer
    this.#consumer = undefined
    this.#stopping = true
    for (const wake of this.#wakeRetries) wake()
    if (consumer !== undefined) await consumer.channel.cancel(consumer.tag).catch(() => undefined)
    if (this.#inFlight > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs)
        this.#idle.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
    if (consumer !== undefined) await consumer.channel.close().catch(() => undefined)
  }

  async #handle(session: BrokerSession, channel: Channel, message: ConsumeMessage): Promise<void> {
    this.#inFlight++
    this.counters.received++
    try {
      const parsed = parseTaskRequest(message.content, message.properties)
      if (!parsed.ok) return await this.#deadLetter(session, channel, message, parsed.failure)
      const { task, args, options } = parsed.request
      let run: Awaited<ReturnType<Engine['enqueue']>>
      try {
        run = await this.#engine.enqueue(task, args, options)
      } catch (thrown) {
        const error = coerceError(thrown)
        if (error instanceof TaskEngineError && REQUEST_FAULTS.has(error.code)) return await this.#deadLetter(session, channel, message, failureOf(error))
        throw error
      }
      // Committed. A run the enqueue answered with is the one an earlier delivery of the same id
      // made (a redelivery): not audited again.
      if (answeredByExisting(run)) this.counters.deduplicated++
      else {
        this.counters.enqueued++
        await this.#audit(run.id, task, parsed.requestId, options.createdBy)
      }
      this.#attempts.delete(parsed.requestId)
      // Then the reply, then the ack (a crash in between only repeats the reply).
      await this.#reply(session, message, { ok: true, runId: run.id })
      settle(() => channel.ack(message))
    } catch (thrown) {
      // Its session ended meanwhile: the broker delivers the message again (and the run, if it
      // was committed, is found by its request id).
      if (this.#current !== session) return
      // Not the request's fault (the store or the broker failed): wait, then give it back to the
      // queue; dead-lettered only after MAX_ATTEMPTS such failures.
      const error = coerceError(thrown)
      const key = requestIdOf(message.properties) ?? `#${message.fields.deliveryTag}`
      const attempts = (this.#attempts.get(key) ?? 0) + 1
      if (attempts >= MAX_ATTEMPTS) {
        this.#attempts.delete(key)
        this.#options.onLog(`request ${describeMessage(message)} failed ${attempts} times (${error.message}): dead-lettered`)
        await this.#deadLetter(session, channel, message, { code: 'ERR_INTERNAL', message: error.message, issues: [] }).catch((e: unknown) => {
          this.#options.onLog(`request ${describeMessage(message)}: cannot dead-letter it (${coerceError(e).message}); the broker delivers it again`)
        })
      } else {
        this.#attempts.set(key, attempts)
        const delay = Math.min(RETRY_MAX_DELAY_MS, RETRY_FIRST_DELAY_MS * 2 ** (attempts - 1))
        this.#options.onLog(`request ${describeMessage(message)} failed (${error.message}): requeued in ${delay} ms (attempt ${attempts} of ${MAX_ATTEMPTS})`)
        await this.#pause(delay)
        this.counters.requeued++
        settle(() => channel.nack(message, false, true))
      }
    } finally {
      if (--this.#inFlight === 0) for (const wake of this.#idle.splice(0)) wake()
    }
  }

  /** Waits `ms`, or less when the bridge stops. */
  async #pause(ms: number): Promise<void> {
    if (this.#stopping) return
    await new Promise<void>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer)
        this.#wakeRetries.delete(wake)
        resolve()
      }
      const timer = setTimeout(wake, ms)
      this.#wakeRetries.add(wake)
    })
  }

  /** Records a new run in the audit trail; a failing write is logged, not the request's failure (its run exists). */
  async #audit(runId: string, task: string, requestId: string, userId: string | undefined): Promise<void> {
    try {
      await this.#engine.audit.record(AMQP_ACTOR, { action: 'run.enqueue', target: runId, details: { task, requestId, userId: userId ?? null } })
    } catch (error) {
      this.#options.onLog(`run ${runId} was enqueued, but the audit trail could not record it: ${coerceError(error).message}`)
    }
  }

  /** Copies the message to the dead-letter exchange with the reason, waits for the confirm, then acks it. */
  async #deadLetter(session: BrokerSession, channel: Channel, message: ConsumeMessage, failure: RequestFailure): Promise<void> {
    const p = message.properties
    const headers: Record<string, unknown> = { ...(p.headers ?? {}), [ERROR_HEADER]: failure.message, [ERROR_CODE_HEADER]: failure.code, 'x-taskengine-queue': this.#options.queue }
    await publishConfirmed(session.publisher, this.#options.deadLetterExchange, this.#options.queue, message.content, {
      persistent: true,
      headers,
      ...(p.messageId === undefined ? {} : { messageId: p.messageId as string }),
      ...(p.correlationId === undefined ? {} : { correlationId: p.correlationId as string }),
      ...(p.contentType === undefined ? {} : { contentType: p.contentType as string }),
      ...(p.type === undefined ? {} : { type: p.type as string }),
      ...(p.timestamp === undefined ? {} : { timestamp: p.timestamp as number }),
    })
    this.counters.deadLettered++
    await this.#reply(session, message, { ok: false, errors: failure.issues.length > 0 ? failure.issues.map((i) => ({ key: i.key, message: i.message })) : [{ message: failure.message }], code: failure.code })
    settle(() => channel.ack(message))
  }

  /** Answers `replyTo`, when the message asks for it, with its correlation id (else its message id). */
  async #reply(session: BrokerSession, message: ConsumeMessage, body: Record<string, unknown>): Promise<void> {
    const replyTo = message.properties.replyTo as unknown
    if (typeof replyTo !== 'string' || replyTo === '') return
    const correlationId = (message.properties.correlationId ?? message.properties.messageId) as string | undefined
    await publishConfirmed(session.publisher, '', replyTo, Buffer.from(JSON.stringify(body)), {
      contentType: 'application/json',
      ...(correlationId === undefined ? {} : { correlationId }),
    })
    this.counters.replies++
  }
}

/** The reason an engine error gives a request. */
function failureOf(error: TaskEngineError): RequestFailure {
  return { code: error.code, message: error.message, issues: error instanceof ValidationError ? error.fields : [] }
}

/** Acks or nacks, unless the channel closed meanwhile (then the broker delivers the message again). */
function settle(action: () => void): void {
  try {
    action()
  } catch {
    // IllegalOperationError: channel closed. The redelivery finds the run by its request id.
  }
}

/** A message's id for log lines. */
function describeMessage(message: ConsumeMessage): string {
  const id = (message.properties.messageId ?? message.properties.correlationId) as unknown
  return typeof id === 'string' ? JSON.stringify(id) : `#${message.fields.deliveryTag} (no id)`
}
