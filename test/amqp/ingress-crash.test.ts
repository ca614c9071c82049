/**
 * The AMQP bridge as a process (`taskengine amqp` on a SQLite file) takes 10,000 requests, about
 * 5% of them invalid, and is SIGKILLed twice while it works: every valid request has exactly one
 * run (found by its request id), every invalid one sits in the dead-letter queue with its reason,
 * and every request that asked for a reply got one.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { expect, it } from 'vitest'
import { AMQP_URL, describeAmqp, drainQueue, openBroker, testNames } from '../helpers/amqp.js'
import { FIXTURES, finished, startCli, waitForOutput } from '../helpers/cli.js'

const TOTAL = 10_000

interface Sent {
  readonly id: string | undefined
  readonly valid: boolean
  readonly rpc: boolean
}

/** Request `i`: its body, properties, and what the test expects of it. */
function request(i: number, replyTo: string): { body: Buffer; properties: Record<string, unknown>; sent: Sent } {
  const id = `req-${i}`
  const rpc = i % 50 === 1 || i % 100 === 0
  const valid = i % 20 !== 0
  let body: string
  if (valid) body = JSON.stringify({ type: 'echo', title: `echo ${i}`, userId: 'ada', params: { n: i }, ...(i % 9 === 0 ? { options: { priority: 3, tags: ['amqp'] } } : {}) })
  else {
    const kind = (i / 20) % 5
    if (kind === 0) body = JSON.stringify({ type: 'no-such-task', params: {} })
    else if (kind === 1) body = JSON.stringify({ type: 'echo', params: { n: 'not a number' } })
    else if (kind === 2) body = `{"type": "echo", "params": {"n": ${i}`
    else if (kind === 3) body = JSON.stringify({ type: 'echo', params: { n: i }, options: { prority: 1 } })
    else body = JSON.stringify({ type: 'echo', params: {} })
  }
  // Some clients name their requests by correlation id only.
  const properties: Record<string, unknown> = i % 7 === 3 ? { correlationId: id } : { messageId: id, ...(rpc ? { correlationId: `c-${i}` } : {}) }
  if (rpc) properties.replyTo = replyTo
  return { body: Buffer.from(body), properties, sent: { id, valid, rpc } }
}

await describeAmqp('AMQP bridge process: requests survive SIGKILL', () => {
  it('10,000 requests, killed twice mid-way: one run per valid request, invalid ones dead-lettered with their reason, replies sent', async () => {
    const names = testNames('crash')
    const dir = mkdtempSync(join(tmpdir(), 'taskengine-amqp-'))
    const dbFile = join(dir, 'bridge.db')
    const broker = await openBroker()
    const replyQueue = `${names.queue}.replies`
    let child: ChildProcessWithoutNullStreams | undefined
    let stderr = ''
    const start = async (extra: readonly string[] = []): Promise<ChildProcessWithoutNullStreams> => {
      const process = startCli(['amqp', '--url', AMQP_URL, '--queue', names.queue, '--exchange', names.exchange, '--tasks', join(FIXTURES, 'amqp-tasks.mjs'), '--store', dbFile, ...extra])
      stderr = ''
      process.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
      const collected = finished(process)
      await Promise.race([waitForOutput(process.stderr, 'taskengine amqp: connected'), collected.then((r) => Promise.reject(new Error(`the bridge exited: ${r.stderr}`)))])
      return process
    }
    const runCount = (): number => {
      const db = new Database(dbFile, { readonly: true, fileMustExist: true })
      try {
        return (db.prepare('SELECT count(*) AS n FROM runs').get() as { n: number }).n
      } finally {
        db.close()
      }
    }
    const untilRuns = async (n: number): Promise<void> => {
      const deadline = Date.now() + 30_000
      while (runCount() < n) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${n} runs (have ${runCount()})`)
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    }
    try {
      await broker.channel.assertQueue(replyQueue, { durable: false })
      child = await start()
      const sent: Sent[] = []
      for (let i = 0; i < TOTAL; i++) {
        const { body, properties, sent: one } = request(i, replyQueue)
        sent.push(one)
        broker.channel.sendToQueue(names.queue, body, properties)
      }
      // Requests without any id: refused (a redelivery could not be told from a new one).
      for (let i = 0; i < 5; i++) broker.channel.sendToQueue(names.queue, Buffer.from(JSON.stringify({ type: 'echo', params: { n: i } })), {})
      await broker.channel.waitForConfirms()

      await untilRuns(2_500)
      child.kill('SIGKILL')
      await finished(child)
      child = await start()
      await untilRuns(6_000)
      child.kill('SIGKILL')
      await finished(child)
      // The last one also serves its metrics.
      child = await start(['--metrics-port', '0'])
      const metricsUrl = /metrics (http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(stderr)?.[1]
      expect(metricsUrl, stderr).toBeDefined()
      const valid = sent.filter((s) => s.valid)
      await untilRuns(valid.length)
      // And every invalid one dead-lettered (a kill between the copy and the ack may copy one twice).
      const deadExpected = TOTAL / 20 + 5
      const deadline = Date.now() + 30_000
      while ((await broker.channel.checkQueue(names.deadLetterQueue)).messageCount < deadExpected || (await broker.channel.checkQueue(names.queue)).messageCount > 0) {
        if (Date.now() > deadline) throw new Error('timed out waiting for the dead letters')
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      const scrape = await (await fetch(metricsUrl!)).text()
      expect(scrape).toMatch(/^taskengine_amqp_requests_total\{outcome="enqueued"\} [1-9]\d*$/m)
      expect(scrape).toContain('taskengine_amqp_connected 1')
      // Everything handled and acknowledged: the queue is still empty once the bridge stops cleanly.
      child.kill('SIGTERM')
      const last = await finished(child)
      child = undefined
      expect(last.code).toBe(0)
      expect((await broker.channel.checkQueue(names.queue)).messageCount).toBe(0)

      const db = new Database(dbFile, { readonly: true })
      const rows = db.prepare('SELECT id, request_id, args, label, created_by FROM runs').all() as { id: string; request_id: string; args: string; label: string; created_by: string }[]
      db.close()
      expect(rows).toHaveLength(valid.length)
      const byRequest = new Map(rows.map((r) => [r.request_id, r]))
      expect(byRequest.size).toBe(valid.length)
      for (const s of valid) expect(byRequest.has(s.id!), `run for ${s.id}`).toBe(true)
      expect(byRequest.get('req-42')).toMatchObject({ args: '{"n":42}', label: 'echo 42', created_by: 'ada' })

      const dead = await drainQueue(broker.channel, names.deadLetterQueue)
      const deadIds = new Set(dead.map((m) => (m.properties.messageId ?? m.properties.correlationId) as string | undefined))
      const invalid = sent.filter((s) => !s.valid)
      expect(invalid).toHaveLength(TOTAL / 20)
      for (const s of invalid) expect(deadIds.has(s.id), `dead letter ${s.id}`).toBe(true)
      for (const m of dead) expect(String(m.properties.headers?.['x-taskengine-error'])).not.toBe('')
      const reasonOf = (id: string): string => String(dead.find((m) => (m.properties.messageId ?? m.properties.correlationId) === id)!.properties.headers!['x-taskengine-error'])
      expect(reasonOf('req-0')).toMatch(/no-such-task/)
      expect(reasonOf('req-20')).toMatch(/n: expected int/)
      expect(reasonOf('req-40')).toMatch(/not JSON/)
      expect(reasonOf('req-60')).toMatch(/options\.prority: unknown option \(did you mean priority\?\)/)
      expect(reasonOf('req-80')).toMatch(/n:/)
      expect(dead.filter((m) => m.properties.messageId === undefined && m.properties.correlationId === undefined).map((m) => String(m.properties.headers!['x-taskengine-error']))).toEqual(
        Array.from({ length: 5 }, (): unknown => expect.stringMatching(/no id/)),
      )

      // Replies: at least one per request that asked (a kill between reply and ack repeats one), all agreeing.
      const replies = await drainQueue(broker.channel, replyQueue)
      const answers = new Map<string, { ok: boolean; runId?: string }[]>()
      for (const reply of replies) {
        const key = String(reply.properties.correlationId)
        answers.set(key, [...(answers.get(key) ?? []), JSON.parse(reply.content.toString()) as { ok: boolean; runId?: string }])
      }
      for (const s of sent.filter((x) => x.rpc)) {
        const i = Number(s.id!.slice(4))
        const got = answers.get(i % 7 === 3 ? s.id! : `c-${i}`)
        expect(got, `reply to ${s.id}`).toBeDefined()
        for (const answer of got!) {
          if (s.valid) expect(answer).toEqual({ ok: true, runId: byRequest.get(s.id!)!.id })
          else expect(answer).toMatchObject({ ok: false, errors: [expect.objectContaining({ message: expect.any(String) as unknown }) as unknown] })
        }
      }
    } finally {
      if (child !== undefined) {
        child.kill('SIGKILL')
        await finished(child).catch(() => undefined)
      }
      await broker.cleanUp(names, [replyQueue])
      rmSync(dir, { recursive: true, force: true })
    }
  }, 60_000)
})
