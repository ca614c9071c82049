/**
 * Output formats over HTTP: `?format=toml` (a real run and a real list rendered as TOML parse
 * back to the JSON answer, nulls left out), `?t=` as the short name of `?format=` on API routes
 * and admin pages, and an unknown format or two different ones refused with a 400 naming them.
 */
import { parse as parseToml } from 'smol-toml'
import { describe, expect, it } from 'vitest'
import { parse as parseYaml } from 'yaml'
import { apiHarness, body, greet, waitFor } from '../helpers/api.js'

const { setup } = apiHarness()

/** What a JSON value is as TOML keeps it: without nulls (TOML has none). */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.filter((v) => v !== null).map(withoutNulls)
  if (typeof value !== 'object' || value === null) return value
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null).map(([k, v]) => [k, withoutNulls(v)]))
}

/** A TOML answer as JSON would carry it (TOML date-times as ISO text). */
async function tomlOf(response: Response): Promise<unknown> {
  expect(response.status).toBe(200)
  expect(response.headers.get('content-type')).toBe('application/toml; charset=utf-8')
  return JSON.parse(JSON.stringify(parseToml(await response.text()))) as unknown
}

describe('?format=toml', () => {
  it('renders a real run, its list and the task list as TOML that parses back to the JSON answer without its nulls', async () => {
    const { engine, call } = setup()
    await engine.start()
    const run = await engine.enqueue(greet, { name: 'toml' }, { createdBy: 'local', tags: ['a'] })
    await waitFor(engine, run.id, 'succeeded')
    for (const path of [`/api/runs/${run.id}`, '/api/runs?status=succeeded', `/api/runs/${run.id}/logs`]) {
      const json: unknown = await (await call(path)).json()
      expect(await tomlOf(await call(`${path}${path.includes('?') ? '&' : '?'}format=toml`)), path).toEqual(withoutNulls(json))
    }
    // A list at the top goes under the data's name.
    const tasks: unknown = await (await call('/api/tasks')).json()
    expect(await tomlOf(await call('/api/tasks?format=toml'))).toEqual({ tasks: withoutNulls(tasks) })
    expect((await call('/api/tasks?format=toml&download=true')).headers.get('content-disposition')).toBe('attachment; filename="tasks.toml"')
    expect((await call('/api/tasks/greet', { headers: { accept: 'application/toml' } })).headers.get('content-type')).toBe('application/toml; charset=utf-8')
  })
})

describe('?t= is short for ?format=', () => {
  it('picks the format on API routes, in any case, and agrees with ?format= given alongside', async () => {
    const { call } = setup()
    const json: unknown = await (await call('/api/tasks/greet')).json()
    const yaml = await call('/api/tasks/greet?t=yaml')
    expect(yaml.headers.get('content-type')).toBe('application/yaml; charset=utf-8')
    expect(parseYaml(await yaml.text())).toEqual(json)
    expect(await tomlOf(await call('/api/tasks/greet?t=TOML'))).toEqual(withoutNulls(json))
    expect((await call('/api/tasks?t=csv&format=CSV')).headers.get('content-type')).toBe('text/csv; charset=utf-8')
  })

  it('refuses an unknown format naming the known ones, and two different formats, with a 400', async () => {
    const { call } = setup()
    const unknown = await call('/api/tasks?t=pdf')
    expect(unknown.status).toBe(400)
    expect((await body<{ error: { message: string; fields: { key: string }[] } }>(unknown)).error).toMatchObject({
      message: 't: expected one of json, csv, xml, yaml, toml, debug, got "pdf"',
      fields: [{ key: 't' }],
    })
    const clash = await call('/api/tasks?format=json&t=yaml')
    expect(clash.status).toBe(400)
    expect((await body<{ error: { message: string } }>(clash)).error.message).toBe('format and t name the same parameter (t is short for format), got format=json and t=yaml')
    expect((await call('/api/openapi.json?t=toml')).status).toBe(400)
  })

  it('turns an admin page into its data (it used to show the page and ignore ?t=)', async () => {
    const { call } = setup()
    const page = await call('/admin/task?t=yaml', { headers: { accept: 'text/html' } })
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toBe('application/yaml; charset=utf-8')
    const toml = await call('/admin/task?format=toml', { headers: { accept: 'text/html' } })
    expect(toml.headers.get('content-type')).toBe('application/toml; charset=utf-8')
    const bad = await call('/admin/task?t=pdf', { headers: { accept: 'text/html' } })
    expect(bad.status).toBe(400)
    expect(await bad.text()).toContain('t: expected one of json, csv, xml, yaml, toml, debug, got')
  })
})
