/**
 * The bridge's link to the broker: connects, hands each new connection (a "session": the
 * connection and its confirm channel for publishing) to the ingress and egress to set up, and
 * when the broker goes away (restart, `rabbitmqctl close_connection`, network) tells them and
 * tries again after an exponential, jittered delay, for as long as the bridge runs.
 */
import amqp from 'amqplib'
import type { ChannelModel, ConfirmChannel } from 'amqplib'
import { coerceError } from '../errors.js'
import { reconnectDelay } from './reconnect-delay.js'

/** One connection to the broker, from its set-up until it closes. */
export interface BrokerSession {
  readonly connection: ChannelModel
  /** A confirm channel for everything the bridge publishes (events, dead letters, replies). */
  readonly publisher: ConfirmChannel
  /** Counts sessions from 1: what was bound to an older session is stale. */
  readonly generation: number
  /** Ends the session (and so starts a reconnect): for a channel that closed under it. */
  lose(reason: string): void
}

/** What the connection tells its users. */
export interface SessionHooks {
  /** A new session: declare, consume, publish. A throw ends the session and retries later. */
  setup(session: BrokerSession): Promise<void>
  /** The session ended (its channels are closed): forget what was bound to it. */
  lost(session: BrokerSession): void
}

/** How the link connects. */
export interface BrokerLinkOptions {
  readonly url: string
  readonly connectionName: string
  readonly reconnectDelayMs: number
  readonly maxReconnectDelayMs: number
  readonly log: (message: string) => void
}

/** The reconnecting link to the broker (see the file's comment). */
export class BrokerLink {
  readonly #options: BrokerLinkOptions
  readonly #hooks: SessionHooks
  #session: BrokerSession | undefined
  #generation = 0
  #closing = false
  #wakeSleep: (() => void) | undefined
  #loop: Promise<void> | undefined
  /** Connections lost and made again since the start. */
  reconnects = 0
  #firstSetup: { promise: Promise<void>; resolve: () => void }

  constructor(options: BrokerLinkOptions, hooks: SessionHooks) {
    this.#options = options
    this.#hooks = hooks
    let resolve!: () => void
    const promise = new Promise<void>((r) => (resolve = r))
    this.#firstSetup = { promise, resolve }
  }

  /** Resolves once the first session is set up (it may take many tries). */
  get ready(): Promise<void> {
    return this.#firstSetup.promise
  }

  /** The current session, if connected and set up. */
  get session(): BrokerSession | undefined {
    return this.#session
  }

  /** Starts connecting (in the background, for as long as the link is not closed). */
  start(): void {
    this.#loop ??= this.#run()
  }

  /** Stops reconnecting and closes the connection. */
  async close(): Promise<void> {
    this.#closing = true
    this.#wakeSleep?.()
    const session = this.#session
    if (session !== undefined) await session.connection.close().catch(() => undefined)
    await this.#loop
  }

  async #run(): Promise<void> {
    let failures = 0
    while (!this.#closing) {
      const ended = await this.#connectOnce()
      if (this.#closing) break
      if (ended.setUp) {
        failures = 0
        this.reconnects++
        this.#options.log(`connection lost (${ended.reason}); reconnecting`)
      }
      failures++
      const delay = reconnectDelay(failures, this.#options.reconnectDelayMs, this.#options.maxReconnectDelayMs)
      if (!ended.setUp) this.#options.log(`cannot reach ${redacted(this.#options.url)} (${ended.reason}); next try in ${delay} ms`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay)
        this.#wakeSleep = () => {
          clearTimeout(timer)
          resolve()
        }
      })
      this.#wakeSleep = undefined
    }
  }

  /** One connection, from connecting until it closes; resolves with why it ended and whether it was set up. */
  async #connectOnce(): Promise<{ setUp: boolean; reason: string }> {
    let connection: ChannelModel | undefined
    let session: BrokerSession | undefined
    try {
      connection = await amqp.connect(this.#options.url, { clientProperties: { connection_name: this.#options.connectionName } })
      const conn = connection
      let endSession!: (reason: string) => void
      const ended = new Promise<string>((resolve) => (endSession = resolve))
      conn.on('error', (error: Error) => endSession(error.message))
      conn.on('close', (error?: Error) => endSession(error?.message ?? 'closed'))
      if (this.#closing) {
        await conn.close().catch(() => undefined)
        return { setUp: false, reason: 'closing' }
      }
      const publisher = await conn.createConfirmChannel()
      const lose = (reason: string): void => {
        endSession(reason)
        void conn.close().catch(() => undefined)
      }
      publisher.on('error', (error: Error) => this.#options.log(`publishing channel: ${error.message}`))
      publisher.on('close', () => {
        if (!this.#closing) lose('publishing channel closed')
      })
      session = { connection: conn, publisher, generation: ++this.#generation, lose }
      await this.#hooks.setup(session)
      this.#session = session
      this.#options.log(`connected to ${redacted(this.#options.url)}`)
      this.#firstSetup.resolve()
      const reason = await ended
      return { setUp: true, reason }
    } catch (error) {
      await connection?.close().catch(() => undefined)
      return { setUp: false, reason: coerceError(error).message }
    } finally {
      if (this.#session === session) this.#session = undefined
      if (session !== undefined) this.#hooks.lost(session)
    }
  }
}

/** The URL without its password, for log lines. */
export function redacted(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@')
}
