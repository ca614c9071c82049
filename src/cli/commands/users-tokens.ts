/**
 * `taskengine users token create|list|revoke`: API tokens acting as a user. `create` prints the
 * token alone on stdout (`TOKEN=$(taskengine users token create deploy-bot --name ci)`), shown
 * this once: the store keeps only a digest.
 */
import type { Command } from 'commander'
import type { TokenInfo } from '../../engine/access/users.js'
import { EXIT, renderTable, utc, type CliIo } from '../io.js'
import { cliActor } from '../cli-actor.js'
import { intOption } from '../task-input.js'
import { existing, withUsers, type UsersFlags } from '../users-engine.js'

const DAY_MS = 24 * 3600_000

/** Adds `users token …` to the `users` command. */
export function usersTokenCommand(
  users: Command,
  io: CliIo,
  act: <A extends unknown[]>(fn: (...args: A) => Promise<number>) => (...args: A) => Promise<void>,
  withOptions: (command: Command) => Command,
): void {
  const token = users.command('token').description('create, list and revoke API tokens acting as a user')

  withOptions(
    token
      .command('create')
      .description('make an API token acting as a user; prints it alone on stdout, shown this once')
      .argument('<user>', 'user name')
      .requiredOption('--name <name>', 'a name for people, unique among the user\'s live tokens (e.g. ci)')
      .option('--expires-in-days <n>', 'stop working after n days (default: never)'),
  ).action(act((user: string, flags: UsersFlags & { name: string; expiresInDays?: string }) => {
    // Checked before the store is opened: a bad flag changes nothing.
    const days = intOption(flags.expiresInDays, '--expires-in-days', 1, 36_500)
    return withUsers(flags, io, async (engine) => {
      const made = await engine.users.createToken(user, { name: flags.name, expiresInMs: days === undefined ? undefined : days * DAY_MS, by: cliActor(io) })
      io.stdout.write(`${made.token}\n`)
      io.stderr.write(`token "${made.info.name}" for ${user} (id ${made.info.id}, ${made.info.expiresAt === null ? 'never expires' : `expires ${utc(made.info.expiresAt)} UTC`}): shown this once, store it now; send it as Authorization: Bearer <token>\n`)
      return EXIT.ok
    })
  }))

  withOptions(token.command('list', { isDefault: true }).description('list API tokens (never their secrets), newest first: a user\'s or everyone\'s').argument('[user]', 'user name'))
    .option('--json', 'print JSON')
    .action(act((user: string | undefined, flags: UsersFlags) => withUsers(flags, io, async (engine) => {
      if (user !== undefined) await existing(engine, user)
      const list = await engine.users.tokens(user)
      if (flags.json === true) io.stdout.write(`${JSON.stringify(list, null, 2)}\n`)
      else if (list.length === 0) io.stdout.write(user === undefined ? 'no API tokens\n' : `no API tokens for ${user}\n`)
      else io.stdout.write(renderTable(['USER', 'NAME', 'ID', 'STATE', 'CREATED (UTC)', 'EXPIRES (UTC)', 'LAST USED (UTC)'], list.map((t) => tokenRow(t, Date.now()))))
      return EXIT.ok
    })))

  withOptions(token.command('revoke').description('revoke a user\'s live API token: it stops working on the next request').argument('<user>', 'user name').argument('<token>', 'the token\'s name or id (taskengine users token list)'))
    .action(act((user: string, nameOrId: string, flags: UsersFlags) => withUsers(flags, io, async (engine) => {
      const revoked = await engine.users.revokeToken(user, nameOrId, cliActor(io))
      io.stderr.write(`token "${revoked.name}" of ${user} (id ${revoked.id}): revoked\n`)
      return EXIT.ok
    })))
}

function tokenRow(t: TokenInfo, now: number): string[] {
  const state = t.revokedAt !== null ? 'revoked' : t.expiresAt !== null && t.expiresAt.getTime() <= now ? 'expired' : 'live'
  return [t.user, t.name, t.id, state, utc(t.createdAt), t.expiresAt === null ? 'never' : utc(t.expiresAt), t.lastUsedAt === null ? 'never' : utc(t.lastUsedAt)]
}
