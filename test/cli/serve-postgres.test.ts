/**
 * `taskengine serve --store postgres://…?schema=…` against the real PostgreSQL: the server and
 * its worker use that schema, and nothing else.
 */
import { afterEach, expect, it, vi } from 'vitest'
import { finished, startCli, waitForOutput } from '../helpers/cli.js'
import { describePostgres } from '../helpers/postgres.js'

const children: ReturnType<typeof startCli>[] = []
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
})

await describePostgres('taskengine serve on PostgreSQL', ({ admin, newSchema, storeUrl }) => {
  it('serves from the schema the URL names, migrating it, and executes runs there', async () => {
    const schema = newSchema()
    const child = startCli(['serve', '--port', '0', '--store', storeUrl(schema)])
    children.push(child)
    const done = finished(child)
    let banner = ''
    child.stderr.on('data', (chunk: Buffer) => (banner += chunk.toString()))
    await waitForOutput(child.stderr, 'metrics')
    expect(banner).toContain(`store postgres://${new URL(storeUrl(schema)).host}/test (schema ${schema});`)
    expect(banner).not.toMatch(/password|postgres@/)
    const url = /serving (http:\/\/127\.0\.0\.1:\d+)\/admin/.exec(banner)![1]!
    expect(await (await fetch(`${url}/readyz`)).json()).toEqual({ status: 'ready' })
    const created = await fetch(`${url}/api/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ task: 'hello', args: { name: 'pg' } }) })
    expect(created.status).toBe(201)
    const { id } = (await created.json()) as { id: string }
    await vi.waitFor(async () => expect(((await (await fetch(`${url}/api/runs/${id}`)).json()) as { status: string }).status).toBe('succeeded'), { timeout: 15_000 })
    const stored = await admin.query<{ status: string; args: unknown }>(`SELECT status, args FROM "${schema}".runs WHERE id = $1`, [id])
    expect(stored.rows).toMatchObject([{ status: 'succeeded' }])
    child.kill('SIGTERM')
    expect((await done).code).toBe(0)
  })
})
