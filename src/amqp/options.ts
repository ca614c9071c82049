/**
 * Options of the AMQP bridge: which broker, which queue it consumes task requests from, which
 * topic exchange it publishes run events to, and its bounds. Checked eagerly; a bad value is a
 * `ValidationError` quoting it.
 */
import { ValidationError, describeValue, type FieldIssue } from '../errors.js'
import { checkOptionKeys, optionKeys } from '../options.js'

/** Options of {@link startAmqpBridge}. */
export interface AmqpBridgeOptions {
  /**
   * The broker, as an AMQP URL.
   * @example 'amqp://guest:guest@127.0.0.1:5672'
   */
  readonly url: string
  /**
   * The queue task requests arrive on (declared durable, dead-lettering to {@link deadLetterExchange}).
   * @example 'tasks'
   */
  readonly queue: string
  /**
   * The topic exchange every run event is published to (declared durable), with routing key
   * `runs.<task>.<event>.<runId>`.
   * @example 'taskengine.events'
   */
  readonly exchange: string
  /**
   * The fanout exchange rejected requests go to, with the reason in the `x-taskengine-error` header.
   * @default `<queue>.dlx`
   */
  readonly deadLetterExchange?: string
  /**
   * The queue bound to the dead-letter exchange, where rejected requests wait for an operator.
   * @default `<queue>.dead`
   */
  readonly deadLetterQueue?: string
  /**
   * Requests handled at once (the consumer's prefetch): an integer from 1 to 65,535.
   * @default 256
   */
  readonly prefetch?: number
  /**
   * Run events kept while the broker is away; past it the oldest are dropped (counted in
   * `stats().eventsDropped`, with a log line). An integer from 1 up.
   * @default 10_000
   */
  readonly bufferLimit?: number
  /**
   * First delay before reconnecting, in ms; doubles per failed try up to {@link maxReconnectDelayMs}, with jitter.
   * @default 100
   */
  readonly reconnectDelayMs?: number
  /**
   * Longest delay between reconnect tries, in ms.
   * @default 30_000
   */
  readonly maxReconnectDelayMs?: number
  /**
   * On `close()`, how long buffered events may take to be confirmed before they are given up, in ms.
   * @default 5_000
   */
  readonly closeTimeoutMs?: number
  /**
   * The connection's name, as the broker lists it (`rabbitmqctl list_connections client_properties`).
   * @default 'taskengine-amqp'
   */
  readonly connectionName?: string
  /**
   * Which run events to publish (egress). `'local'`: those of this engine (its enqueues, the runs
   * its workers execute, its cancels). `'all'`: also those of other processes that reach it
   * through the store's event relay (PostgreSQL): for a bridge without workers next to workers
   * elsewhere; give it one bridge only, or each event goes out once per bridge. `false`: none,
   * the bridge only takes requests in. `true` means `'local'`.
   * @default 'local'
   */
  readonly events?: 'local' | 'all' | boolean
  /**
   * Where the bridge reports what happens to it (connected, reconnecting, dropping events, a
   * request it could not handle).
   * @default a line on stderr
   */
  readonly onLog?: (message: string) => void
}

/** Every key of {@link AmqpBridgeOptions}. */
export const AMQP_BRIDGE_OPTION_KEYS = optionKeys<AmqpBridgeOptions>({
  url: true,
  queue: true,
  exchange: true,
  deadLetterExchange: true,
  deadLetterQueue: true,
  prefetch: true,
  bufferLimit: true,
  reconnectDelayMs: true,
  maxReconnectDelayMs: true,
  closeTimeoutMs: true,
  connectionName: true,
  events: true,
  onLog: true,
})

/** The options with every default filled in. */
export type ResolvedBridgeOptions = Required<Omit<AmqpBridgeOptions, 'events'>> & { readonly events: 'local' | 'all' | false }

/** The defaults of the bridge's bounds. */
export const DEFAULT_PREFETCH = 256
export const DEFAULT_BUFFER_LIMIT = 10_000

/** Checks the options (every problem at once) and fills in the defaults. */
export function resolveBridgeOptions(options: AmqpBridgeOptions): ResolvedBridgeOptions {
  checkOptionKeys(options, AMQP_BRIDGE_OPTION_KEYS, 'startAmqpBridge')
  const issues: FieldIssue[] = []
  const bad = (key: string, expected: string): void => {
    const received = describeValue((options as unknown as Record<string, unknown>)[key])
    issues.push({ key, expected, received, message: `${key}: expected ${expected}, got ${received}` })
  }
  if (typeof options.url !== 'string' || !/^amqps?:\/\//.test(options.url)) bad('url', 'an amqp:// or amqps:// URL')
  // Names the broker accepts: at most 255 bytes; an empty one means the default exchange or a generated queue.
  const name = (key: keyof AmqpBridgeOptions, required: boolean): void => {
    const value = options[key]
    if (value === undefined && !required) return
    if (typeof value !== 'string' || value === '' || Buffer.byteLength(value) > 255) bad(key, 'a non-empty name of at most 255 bytes')
  }
  name('queue', true)
  name('exchange', true)
  name('deadLetterExchange', false)
  name('deadLetterQueue', false)
  name('connectionName', false)
  const int = (key: keyof AmqpBridgeOptions, min: number, max: number): void => {
    const value = options[key]
    if (value !== undefined && (!Number.isSafeInteger(value) || (value as number) < min || (value as number) > max)) bad(key, `an integer from ${min} to ${max}`)
  }
  int('prefetch', 1, 65_535)
  int('bufferLimit', 1, Number.MAX_SAFE_INTEGER)
  int('reconnectDelayMs', 1, 3_600_000)
  int('maxReconnectDelayMs', 1, 3_600_000)
  int('closeTimeoutMs', 0, 3_600_000)
  if (options.events !== undefined && typeof options.events !== 'boolean' && options.events !== 'local' && options.events !== 'all') bad('events', `'local', 'all', true or false`)
  if (options.onLog !== undefined && typeof options.onLog !== 'function') bad('onLog', 'a function')
  if (issues.length > 0) throw new ValidationError('startAmqpBridge: invalid options', issues)
  const reconnectDelayMs = options.reconnectDelayMs ?? 100
  return {
    url: options.url,
    queue: options.queue,
    exchange: options.exchange,
    deadLetterExchange: options.deadLetterExchange ?? `${options.queue}.dlx`,
    deadLetterQueue: options.deadLetterQueue ?? `${options.queue}.dead`,
    prefetch: options.prefetch ?? DEFAULT_PREFETCH,
    bufferLimit: options.bufferLimit ?? DEFAULT_BUFFER_LIMIT,
    reconnectDelayMs,
    maxReconnectDelayMs: Math.max(reconnectDelayMs, options.maxReconnectDelayMs ?? 30_000),
    closeTimeoutMs: options.closeTimeoutMs ?? 5_000,
    connectionName: options.connectionName ?? 'taskengine-amqp',
    events: options.events === undefined || options.events === true ? 'local' : options.events,
    onLog: options.onLog ?? ((message) => void process.stderr.write(`taskengine amqp: ${message}\n`)),
  }
}
