/**
 * The AMQP bridge (`npm run bench`, or `npm run bench -- amqp`) against the RabbitMQ on
 * 127.0.0.1:5672 (BENCH_AMQP), on a SQLite file:
 *
 * - ingress: AMQP_RUNS requests published at once (confirmed), timed from the first publish until
 *   every one is a committed run (the bridge acknowledges after the commit);
 * - egress: AMQP_RUNS runs enqueued in one call, timed until the broker confirmed every `created`
 *   event (a queue bound to the exchange takes them).
 *
 * Without a broker the section prints why and is skipped.
 */
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import amqp from 'amqplib'
import { startAmqpBridge, type AmqpBridge } from '../src/amqp/index.js'
import { Engine, defineTask } from '../src/index.js'
import { sqliteStore } from '../src/store/sqlite/store.js'
import type { Row } from './table.js'

export const AMQP_URL = process.env.BENCH_AMQP ?? 'amqp://guest:guest@127.0.0.1:5672'
export const AMQP_RUNS = Number(process.env.BENCH_AMQP_RUNS ?? 20_000)

const noop = defineTask({ key: 'noop', fields: [{ key: 'n', type: 'int', required: true }], async run() {} })

/** Resolves when `done()` holds, looking every millisecond (the figures are seconds long). */
async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((resolve) => setTimeout(resolve, 1))
}

/** The ingress and egress rates, or `undefined` (with the reason printed) when no broker answers. */
export async function benchAmqp(): Promise<Row[] | undefined> {
  let connection: amqp.ChannelModel
  try {
    connection = await amqp.connect(AMQP_URL, { timeout: 3000 })
  } catch (error) {
    console.log(`\nAMQP bridge skipped: no broker at ${AMQP_URL.replace(/:[^:@/]*@/, ':***@')} (${(error as Error).message})`)
    return undefined
  }
  const dir = mkdtempSync(join(tmpdir(), 'taskengine-bench-amqp-'))
  const id = `bench-${randomUUID().slice(0, 8)}`
  const names = { queue: id, exchange: `${id}.events`, bound: `${id}.bound` }
  const channel = await connection.createConfirmChannel()
  const engines: Engine[] = []
  const bridges: AmqpBridge[] = []
  const open = (file: string, events: boolean): { engine: Engine; bridge: AmqpBridge } => {
    const engine = new Engine({ tasks: [noop], store: sqliteStore(join(dir, file)) })
    const bridge = startAmqpBridge(engine, { url: AMQP_URL, queue: names.queue, exchange: names.exchange, events, bufferLimit: AMQP_RUNS * 2, onLog: () => undefined })
    engines.push(engine)
    bridges.push(bridge)
    return { engine, bridge }
  }
  try {
    // Ingress: requests → committed runs.
    const inbound = open('ingress.db', false)
    await inbound.bridge.ready
    const started = performance.now()
    for (let n = 0; n < AMQP_RUNS; n++) channel.sendToQueue(names.queue, Buffer.from(JSON.stringify({ type: 'noop', title: 'bench', userId: 'bench', params: { n } })), { messageId: `m-${n}` })
    await channel.waitForConfirms()
    await until(() => inbound.bridge.stats().enqueued >= AMQP_RUNS)
    const ingressMs = performance.now() - started
    await inbound.bridge.close()

    // Egress: run events → confirmed by the broker.
    const outbound = open('egress.db', true)
    await outbound.bridge.ready
    await channel.assertQueue(names.bound, { exclusive: true })
    await channel.bindQueue(names.bound, names.exchange, 'runs.#')
    const from = performance.now()
    await outbound.engine.enqueueMany(noop, Array.from({ length: AMQP_RUNS }, (_, n) => ({ n })))
    await until(() => outbound.bridge.stats().eventsPublished >= AMQP_RUNS)
    const egressMs = performance.now() - from
    await outbound.bridge.close()

    return [
      { measure: 'ingress: requests → committed runs', messages: AMQP_RUNS, 'ms': Math.round(ingressMs), 'per s': Math.round(AMQP_RUNS / (ingressMs / 1000)) },
      { measure: 'egress: run events → confirmed', messages: AMQP_RUNS, 'ms': Math.round(egressMs), 'per s': Math.round(AMQP_RUNS / (egressMs / 1000)) },
    ]
  } finally {
    await Promise.all(bridges.map((b) => b.close()))
    await Promise.all(engines.map((e) => e.close()))
    for (const queue of [names.queue, `${names.queue}.dead`, names.bound]) await channel.deleteQueue(queue).catch(() => undefined)
    for (const exchange of [names.exchange, `${names.queue}.dlx`]) await channel.deleteExchange(exchange).catch(() => undefined)
    await connection.close().catch(() => undefined)
    rmSync(dir, { recursive: true, force: true })
  }
}
