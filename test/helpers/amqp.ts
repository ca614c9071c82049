/**
 * RabbitMQ for tests: the broker address (TASKENGINE_TEST_AMQP, default
 * amqp://guest:guest@127.0.0.1:5672), names unique to each test (deleted in `finally`), reading
 * queues, and closing a connection from the broker's side. A missing broker skips the suite
 * loudly outside CI and fails it with CI=true (as PostgreSQL suites do).
 */
import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { promisify } from 'node:util'
import amqp, { type Channel, type ChannelModel, type GetMessage } from 'amqplib'
import { describe, it } from 'vitest'

export const AMQP_URL = process.env.TASKENGINE_TEST_AMQP ?? 'amqp://guest:guest@127.0.0.1:5672'
const RABBITMQCTL = process.env.RABBITMQCTL ?? '/usr/sbin/rabbitmqctl'

let reachable: Promise<true | string> | undefined

async function probe(): Promise<true | string> {
  try {
    const connection = await amqp.connect(AMQP_URL, { timeout: 3000 })
    await connection.close()
    return true
  } catch (error) {
    return (error as Error).message
  }
}

/** Whether the broker answers (asked once per file). */
export async function amqpReachable(): Promise<boolean> {
  reachable ??= probe()
  return (await reachable) === true
}

/** Declares a RabbitMQ suite: `body` runs when the broker answers; else skipped with a warning, or failing when CI=true. */
export async function describeAmqp(name: string, body: () => void): Promise<void> {
  reachable ??= probe()
  const status = await reachable
  if (status === true) {
    describe(name, body)
    return
  }
  if (process.env.CI === 'true') {
    describe(name, () => {
      it('reaches RabbitMQ (required in CI)', () => {
        throw new Error(`RabbitMQ at ${AMQP_URL.replace(/:[^:@/]*@/, ':***@')} is unreachable and CI=true: ${status}`)
      })
    })
    return
  }
  console.warn(`\n!!! SKIPPING "${name}": RabbitMQ is unreachable (${status}).\n!!! Start it (rabbitmq-server -detached) or set TASKENGINE_TEST_AMQP; with CI=true this fails instead.\n`)
  describe.skip(`${name} (SKIPPED: RabbitMQ unreachable)`, () => {
    it('needs a RabbitMQ broker', () => undefined)
  })
}

/** The names one test uses: its queue, exchanges and dead-letter queue, unique to it. */
export interface TestNames {
  readonly queue: string
  readonly exchange: string
  readonly deadLetterExchange: string
  readonly deadLetterQueue: string
  readonly connectionName: string
}

export function testNames(prefix: string): TestNames {
  const id = `${prefix}-${randomUUID().slice(0, 8)}`
  return { queue: id, exchange: `${id}.events`, deadLetterExchange: `${id}.dlx`, deadLetterQueue: `${id}.dead`, connectionName: `te-test-${id}` }
}

/** A connection for a test's own publishing and reading, with a confirm channel. */
export interface TestBroker {
  readonly connection: ChannelModel
  readonly channel: Channel & { waitForConfirms(): Promise<void> }
  /** Deletes the test's queues and exchanges (and any `extraQueues`) and disconnects. */
  cleanUp(names: TestNames, extraQueues?: readonly string[]): Promise<void>
}

export async function openBroker(): Promise<TestBroker> {
  const connection = await amqp.connect(AMQP_URL)
  connection.on('error', () => undefined)
  const channel = await connection.createConfirmChannel()
  return {
    connection,
    channel,
    async cleanUp(names, extraQueues = []) {
      const ch = await connection.createChannel()
      for (const queue of [names.queue, names.deadLetterQueue, ...extraQueues]) await ch.deleteQueue(queue).catch(() => undefined)
      for (const exchange of [names.exchange, names.deadLetterExchange]) await ch.deleteExchange(exchange).catch(() => undefined)
      await connection.close().catch(() => undefined)
    },
  }
}

/** Every message now in `queue` (read with basic.get and acknowledged). */
export async function drainQueue(channel: Channel, queue: string): Promise<GetMessage[]> {
  const messages: GetMessage[] = []
  for (;;) {
    const message = await channel.get(queue, { noAck: true })
    if (message === false) return messages
    messages.push(message)
  }
}

/** Closes, from the broker's side, every connection whose client named itself `name`; resolves to how many. */
export async function closeConnectionsNamed(name: string): Promise<number> {
  const run = promisify(execFile)
  const { stdout } = await run(RABBITMQCTL, ['list_connections', 'pid', 'client_properties', '-q', '--no-table-headers'])
  const pids = stdout
    .split('\n')
    .filter((line) => line.includes(`{"connection_name","${name}"}`))
    .map((line) => line.split('\t')[0]!)
  for (const pid of pids) await run(RABBITMQCTL, ['close_connection', pid, 'test: connection closed by the broker'])
  return pids.length
}
