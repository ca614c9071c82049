/**
 * `taskengine amqp --worker` stopping with a run in hand: SIGTERM stops the requests, the run gets
 * its grace period, and its final events still reach the exchange before the process exits.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ConsumeMessage } from 'amqplib'
import { expect, it } from 'vitest'
import { AMQP_URL, describeAmqp, openBroker, testNames } from '../helpers/amqp.js'
import { FIXTURES, finished, startCli, waitForOutput } from '../helpers/cli.js'
import { Watched } from '../helpers/watched.js'

await describeAmqp('taskengine amqp --worker: shutdown', () => {
  it('publishes the final events of a run that finishes during the grace period', async () => {
    const names = testNames('shutdown')
    const dir = mkdtempSync(join(tmpdir(), 'taskengine-amqp-shutdown-'))
    const broker = await openBroker()
    const watchQueue = `${names.queue}.watch`
    const child = startCli(['amqp', '--url', AMQP_URL, '--queue', names.queue, '--exchange', names.exchange, '--tasks', join(FIXTURES, 'amqp-tasks.mjs'), '--store', join(dir, 'bridge.db'), '--worker', '--grace', '10000'])
    const exited = finished(child)
    try {
      await Promise.race([waitForOutput(child.stderr, 'taskengine amqp: connected'), exited.then((r) => Promise.reject(new Error(`the bridge exited: ${r.stderr}`)))])
      await broker.channel.assertQueue(watchQueue, { exclusive: true })
      await broker.channel.bindQueue(watchQueue, names.exchange, 'runs.#')
      const events = new Watched<ConsumeMessage[]>([])
      await broker.channel.consume(watchQueue, (message) => {
        if (message !== null) events.set([...events.value, message])
      }, { noAck: true })
      broker.channel.sendToQueue(names.queue, Buffer.from(JSON.stringify({ type: 'slow', params: { ms: 700 } })), { messageId: 'slow-1' })
      await events.until((list) => list.some((m) => m.fields.routingKey.startsWith('runs.slow.started.')), 'the run to start', 10_000)
      child.kill('SIGTERM')
      const result = await exited
      expect(result.code).toBe(0)
      // Published and confirmed before the process exited.
      const types = (await events.until((list) => list.some((m) => m.fields.routingKey.startsWith('runs.slow.succeeded.')), 'the succeeded event', 2_000)).map((m) => (JSON.parse(m.content.toString()) as { type: string }).type)
      expect(types).toEqual(['created', 'started', 'succeeded'])
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL')
      await exited.catch(() => undefined)
      await broker.cleanUp(names, [watchQueue])
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
