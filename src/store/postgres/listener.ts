/**
 * The LISTEN side of push wake-up: one long-lived connection that LISTENs on the store's channel
 * and hands each notification to the store. Idle workers on every machine wake the moment runs
 * are inserted or retried anywhere (the writers NOTIFY inside their transaction, so the wake-up
 * fires on commit).
 *
 * The connection can drop (server restart, network, `pg_terminate_backend`). The listener then
 * reconnects with exponential backoff and jitter, forever, until closed; after each (re)connect
 * it reports `onListening`, because notifications sent while it was away are lost and the store
 * must wake its workers to look for themselves. Nothing here throws into the process: errors go
 * to `onError`.
 */
import type pg from 'pg'
import { coerceError } from '../../errors.js'

/** Options of {@link ChannelListener}. */
export interface ChannelListenerOptions {
  /** Where the LISTEN connection comes from (held for as long as the listener runs). */
  readonly pool: pg.Pool
  /** The channel, a validated identifier. */
  readonly channel: string
  /** Called with each notification's payload. */
  readonly onNotify: (payload: string) => void
  /** Called each time LISTEN becomes active (first connect and every reconnect). */
  readonly onListening: () => void
  /** Called with connection errors the listener survives. */
  readonly onError: (error: Error) => void
  /** First reconnect delay in ms. Default: 100. */
  readonly minDelayMs?: number
  /** Longest reconnect delay in ms. Default: 10 000. */
  readonly maxDelayMs?: number
}

/** One checked-out connection and whether it was given back. */
interface Connection {
  readonly client: pg.PoolClient
  released: boolean
}

/** Keeps one connection LISTENing on a channel; see the module comment. */
export class ChannelListener {
  readonly #options: ChannelListenerOptions
  #connection: Connection | undefined
  #timer: NodeJS.Timeout | undefined
  #failures = 0
  #started = false
  #closed = false
  #waiters: (() => void)[] = []

  constructor(options: ChannelListenerOptions) {
    this.#options = options
  }

  /** Starts listening (connecting in the background). Calling it again does nothing. */
  start(): void {
    if (this.#started || this.#closed) return
    this.#started = true
    void this.#connect()
  }

  /** Whether LISTEN is active now. */
  get active(): boolean {
    return this.#connection !== undefined
  }

  /** Resolves once LISTEN is active: at once, or after the next successful (re)connect. */
  listening(): Promise<void> {
    if (this.#connection !== undefined) return Promise.resolve()
    return new Promise((resolve) => this.#waiters.push(resolve))
  }

  /** Stops listening and gives the connection back (destroyed: it may hold a LISTEN). */
  close(): void {
    this.#closed = true
    clearTimeout(this.#timer)
    const connection = this.#connection
    this.#connection = undefined
    if (connection !== undefined) this.#release(connection, true)
    // Nobody will be listening any more; do not leave callers hanging.
    for (const resolve of this.#waiters.splice(0)) resolve()
  }

  async #connect(): Promise<void> {
    this.#timer = undefined
    if (this.#closed) return
    let connection: Connection | undefined
    try {
      const client = await this.#options.pool.connect()
      const current: Connection = { client, released: false }
      connection = current
      // Handlers first: a connection that drops later must never emit an unhandled 'error'.
      client.on('error', (error: Error) => this.#dropped(current, error))
      client.on('end', () => this.#dropped(current, new Error('connection ended')))
      client.on('notification', (message) => {
        if (message.channel === this.#options.channel) this.#options.onNotify(message.payload ?? '')
      })
      await client.query(`LISTEN "${this.#options.channel}"`)
      if (this.#closed) {
        this.#release(current, true)
        return
      }
      if (current.released) throw new Error('connection lost while starting to LISTEN')
      this.#connection = current
      this.#failures = 0
      for (const resolve of this.#waiters.splice(0)) resolve()
      this.#options.onListening()
    } catch (error) {
      if (connection !== undefined) this.#release(connection, coerceError(error))
      if (this.#closed) return
      this.#options.onError(new Error(`LISTEN "${this.#options.channel}" failed; retrying: ${coerceError(error).message}`, { cause: error }))
      this.#retry()
    }
  }

  #dropped(connection: Connection, error: Error): void {
    if (connection.released) return
    this.#release(connection, error)
    if (this.#connection !== connection) return // still connecting: #connect retries
    this.#connection = undefined
    if (this.#closed) return
    this.#options.onError(new Error(`LISTEN "${this.#options.channel}" connection lost; reconnecting: ${error.message}`, { cause: error }))
    this.#retry()
  }

  #release(connection: Connection, error: Error | true): void {
    if (connection.released) return
    connection.released = true
    // An error (or `true`) makes the pool destroy the connection instead of reusing it.
    connection.client.release(error)
  }

  #retry(): void {
    if (this.#closed || this.#timer !== undefined) return
    const min = this.#options.minDelayMs ?? 100
    const max = this.#options.maxDelayMs ?? 10_000
    const delay = Math.min(max, min * 2 ** this.#failures) * (0.5 + Math.random() / 2)
    this.#failures = Math.min(this.#failures + 1, 30)
    this.#timer = setTimeout(() => void this.#connect(), delay)
    // The timer alone must not keep a process alive that has nothing else to do.
    this.#timer.unref()
  }
}
