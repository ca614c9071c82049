/**
 * Errors a user reads from the real binary: a port in use, a PostgreSQL database that does not
 * exist or a server that does not answer, a store file that is no database — each says what
 * happened and what to do, exits 1, and shows a stack only with --debug; a truly unexpected
 * error says to run again with --debug, which prints its stack.
 */
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { closedPort, runBin } from '../helpers/cli.js'
import { describePostgres } from '../helpers/postgres.js'

const dir = mkdtempSync(join(tmpdir(), 'taskengine-cli-errors-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** A stack frame as Node prints it. */
const STACK = /^\s+at /m

/** Holds a port with a real listener for `fn`. */
async function withPortInUse<T>(fn: (port: number) => Promise<T>): Promise<T> {
  const server: Server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  try {
    return await fn((server.address() as { port: number }).port)
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
}

describe('a port in use', () => {
  it('serve names the port, --port and TASKENGINE_PORT, exits 1, and shows no stack', async () => {
    await withPortInUse(async (port) => {
      for (const [args, env] of [[['--port', String(port)], {}], [[], { TASKENGINE_PORT: String(port) }]] as const) {
        const { code, stdout, stderr } = await runBin(['serve', ...args, '--store', ':memory:'], { env })
        expect(code).toBe(1)
        expect(stdout).toBe('')
        expect(stderr).toBe(`taskengine: port ${port} on 127.0.0.1 is already in use (another taskengine, or another program, listens there): choose another port with --port (or TASKENGINE_PORT); 0 picks a free one\n`)
      }
    })
  })

  it('worker --metrics-port names its own option', async () => {
    await withPortInUse(async (port) => {
      const { code, stderr } = await runBin(['worker', '--metrics-port', String(port), '--store', ':memory:'])
      expect(code).toBe(1)
      expect(stderr).toBe(`taskengine: port ${port} on 127.0.0.1 is already in use (another taskengine, or another program, listens there): choose another port with --metrics-port (or TASKENGINE_METRICS_PORT); 0 picks a free one\n`)
    })
  })

  it('with --debug (after the command or before it), adds the stack and its cause', async () => {
    await withPortInUse(async (port) => {
      for (const args of [['serve', '--port', String(port), '--store', ':memory:', '--debug'], ['--debug', 'serve', '--port', String(port), '--store', ':memory:']]) {
        const { code, stderr } = await runBin(args)
        expect(code).toBe(1)
        expect(stderr).toMatch(new RegExp(`^taskengine: port ${port} on 127\\.0\\.0\\.1 is already in use`))
        expect(stderr).toMatch(STACK)
        expect(stderr).toMatch(/caused by: Error: listen EADDRINUSE/)
      }
    })
  })
})

describe('a PostgreSQL server that does not answer', () => {
  it('says it cannot connect, shows the URL without its password, for every command that opens a store', async () => {
    const port = await closedPort()
    const url = `postgres://ada:s3cret-pw@127.0.0.1:${port}/app?schema=jobs`
    const shown = `postgres://ada:***@127.0.0.1:${port}/app?schema=jobs`
    for (const command of [['runs', 'list'], ['enqueue', 'hello'], ['worker'], ['serve', '--port', '0'], ['schedules', 'list'], ['settings', 'show']]) {
      const { code, stdout, stderr } = await runBin([...command, '--store', url])
      expect(code, command.join(' ')).toBe(1)
      expect(stdout).toBe('')
      expect(stderr).toBe(`taskengine: cannot connect to PostgreSQL (store ${shown}): connect ECONNREFUSED 127.0.0.1:${port}. Is the server running, and are the host and port in --store (or TASKENGINE_STORE) right?\n`)
    }
  })
})

await describePostgres('a PostgreSQL database that does not exist', ({ url }) => {
  it('names the database and what to do, shows the URL without its password, exits 1 without a stack', async () => {
    const database = `te_missing_${randomUUID().replaceAll('-', '').slice(0, 12)}`
    const parsed = new URL(url)
    parsed.pathname = `/${database}`
    parsed.password = 'hunter2-secret'
    const shown = new URL(parsed)
    shown.password = '***'
    for (const [args, env] of [[['runs', 'list', '--store', parsed.toString()], {}], [['serve', '--port', '0'], { TASKENGINE_STORE: parsed.toString() }]] as const) {
      const { code, stderr } = await runBin(args, { env })
      expect(code).toBe(1)
      expect(stderr).toBe(`taskengine: the PostgreSQL database "${database}" does not exist (store ${shown.toString()}): check the database name in --store (or TASKENGINE_STORE), or create it (createdb ${database})\n`)
      expect(stderr).not.toContain('hunter2')
    }
  })
})

describe('a store file that is no SQLite database', () => {
  it('names the file and what --store needs', async () => {
    const file = join(dir, 'notes.txt')
    writeFileSync(file, 'not a database, just some words that fill the first page of the file. '.repeat(20))
    const { code, stderr } = await runBin(['runs', 'list', '--store', file])
    expect(code).toBe(1)
    expect(stderr).toBe(`taskengine: cannot open the SQLite store ${file}: file is not a database. --store (or TASKENGINE_STORE) must name a SQLite database file (created if missing) in a directory this user can write\n`)
  })
})

describe('an unexpected error', () => {
  // A tasks module whose config object throws when read: nothing the CLI can explain.
  const module = join(dir, 'throws.mjs')
  writeFileSync(module, "export default { get tasks() { throw new TypeError('config getter broke') } }\n")

  it('prints its message and says to run again with --debug; no stack', async () => {
    const { code, stderr } = await runBin(['tasks', '--tasks', module])
    expect(code).toBe(1)
    expect(stderr).toBe('taskengine: unexpected error: config getter broke\n  (run again with --debug for the stack)\n')
  })

  it('prints the stack with --debug', async () => {
    const { code, stderr } = await runBin(['tasks', '--tasks', module, '--debug'])
    expect(code).toBe(1)
    expect(stderr).toMatch(/^taskengine: unexpected error: config getter broke\n {4}TypeError: config getter broke\n {8}at /)
    expect(stderr).not.toContain('run again with --debug')
  })
})
