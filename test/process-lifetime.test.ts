/**
 * What keeps a process alive: a started worker does, until it is stopped (a worker process must
 * not exit when its queue is empty); `keepAlive: false`, in-process runs and an engine without a
 * worker do not. Each case is a real Node process running a script against a SQLite file.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { createEngine, defineTask } from '../src/index.js'
import { sqliteStore } from '../src/store/sqlite/store.js'
import { ROOT, finished } from './helpers/cli.js'

const dir = mkdtempSync(join(tmpdir(), 'taskengine-lifetime-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let n = 0

const children: ChildProcessWithoutNullStreams[] = []
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
})

/** Runs an ES module script (importing the built package by its name) in a new Node process. */
function script(code: string, env: Record<string, string>) {
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { cwd: ROOT, env: { ...process.env, ...env } })
  children.push(child)
  return { child, done: finished(child) }
}

// `stop` is a task: a run of it, enqueued from outside, stops the worker from inside the process.
const WORKER_SCRIPT = `
  import { createEngine, defineTask } from 'taskengine'
  import { sqliteStore } from 'taskengine/sqlite'
  const engine = createEngine({ store: sqliteStore(process.env.DB), tasks: [
    defineTask({ key: 'stop', run: () => { setImmediate(() => engine.close().then(() => console.log('closed'))); return 'stopping' } }),
  ] })
  await engine.start(process.env.KEEP_ALIVE === 'false' ? { keepAlive: false, pollIntervalMs: 20 } : { pollIntervalMs: 20 })
  console.log('started')
`

describe('process lifetime', () => {
  it('a started worker keeps its process alive with an empty queue, executes what arrives later, and lets it exit once closed', async () => {
    const db = join(dir, `alive-${++n}.db`)
    const { child, done } = script(WORKER_SCRIPT, { DB: db })
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()))
    // The queue was empty when the worker started; a run enqueued now by another process is
    // executed only if the worker's process is still there.
    const stop = defineTask({ key: 'stop', run: () => undefined })
    const producer = createEngine({ store: sqliteStore(db), tasks: [stop] })
    try {
      const run = await producer.enqueue(stop, {})
      const exit = await done
      expect(exit).toMatchObject({ code: 0, signal: null, stdout: 'started\nclosed\n' })
      expect(await producer.getRun(run.id)).toMatchObject({ status: 'succeeded', data: 'stopping' })
    } finally {
      await producer.close()
    }
  })

  it('with keepAlive: false the process exits when nothing else keeps it up', async () => {
    const exit = await script(WORKER_SCRIPT, { DB: join(dir, `no-keep-alive-${++n}.db`), KEEP_ALIVE: 'false' }).done
    expect(exit).toMatchObject({ code: 0, signal: null, stdout: 'started\n' })
  })

  it('in-process runs and an engine that never started a worker do not hold the process open', async () => {
    const exit = await script(
      `
      import { createEngine, defineTask } from 'taskengine'
      import { sqliteStore } from 'taskengine/sqlite'
      const hello = defineTask({ key: 'hello', run: () => 'hi' })
      const engine = createEngine({ store: sqliteStore(process.env.DB), tasks: [hello] })
      const result = await engine.run(hello, {})
      const batch = await engine.runAll(hello, 'pair', [{}, {}])
      await engine.enqueue(hello, {})
      console.log(result.data, batch.length, (await engine.stats()).statuses.pending)
      `,
      { DB: join(dir, `in-process-${++n}.db`) },
    ).done
    expect(exit).toMatchObject({ code: 0, signal: null, stdout: 'hi 2 1\n' })
  })

  it('rejects a keepAlive that is not a boolean, naming it', async () => {
    const engine = createEngine({ store: sqliteStore(':memory:') })
    try {
      await expect(engine.start({ keepAlive: 'yes' as unknown as boolean })).rejects.toThrow('keepAlive: expected true or false, got "yes" (string)')
      expect(engine.started).toBe(false)
    } finally {
      await engine.close()
    }
  })
})
