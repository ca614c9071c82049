/**
 * `taskengine users` and `taskengine audit` on PostgreSQL: the same commands against a
 * `postgres://…?schema=…` store, checked through an engine on that schema.
 */
import { expect, it } from 'vitest'
import { createEngine } from '../../src/index.js'
import type { AuditPage } from '../../src/store/types.js'
import { runInProcess } from '../helpers/cli.js'
import { describePostgres } from '../helpers/postgres.js'

await describePostgres('taskengine users on PostgreSQL', ({ newSchema, open, storeUrl }) => {
  it('adds a user who signs in, makes and revokes a token, and lists the audit trail', async () => {
    const schema = newSchema()
    const cli = (args: readonly string[], stdin?: string): ReturnType<typeof runInProcess> =>
      runInProcess([...args, '--store', storeUrl(schema)], { env: { USER: 'ada' }, ...(stdin === undefined ? {} : { stdin }) })
    const added = await cli(['users', 'add', 'oncall', '--role', 'operator', '--password-stdin'], 'correct horse battery\n')
    expect(added.code, added.stderr).toBe(0)
    expect((await cli(['users', 'add', 'weak', '--role', 'viewer', '--password-stdin'], 'short\n')).code).toBe(2)
    const created = await cli(['users', 'token', 'create', 'oncall', '--name', 'ci'])
    expect(created.stdout).toMatch(/^te_\S+\n$/)
    const token = created.stdout.trim()

    const engine = createEngine({ store: open({ schema }) })
    try {
      expect(await engine.users.signIn('oncall', 'correct horse battery', { via: 'admin', address: '127.0.0.1' })).toMatchObject({ ok: true })
      expect(await engine.users.get('weak')).toBeUndefined()
      expect(await engine.users.fromToken(token)).toMatchObject({ user: 'oncall', tokenName: 'ci' })
      expect((await cli(['users', 'disable', 'oncall'])).code).toBe(0)
      expect(await engine.users.fromToken(token)).toBeNull()
      expect((await cli(['users', 'enable', 'oncall'])).code).toBe(0)
      expect((await cli(['users', 'token', 'revoke', 'oncall', 'ci'])).code).toBe(0)
      expect(await engine.users.fromToken(token)).toBeNull()
    } finally {
      await engine.close()
    }
    const page = JSON.parse((await cli(['audit', '--actor', 'cli', '--json'])).stdout) as AuditPage
    expect(page.entries.map((e) => [e.action, e.target])).toEqual([
      ['token.revoke', 'oncall/ci'],
      ['user.enable', 'oncall'],
      ['user.disable', 'oncall'],
      ['token.create', 'oncall/ci'],
      ['user.add', 'oncall'],
    ])
    expect((await cli(['audit', '--action', 'user.'])).stdout).toMatch(/user\.enable\s+oncall\s+disabled: true → false\n/)
  })
})
