/**
 * `taskengine users …`: the built-in users of the store (`engine.users`): add them with a role
 * and a password (asked without echo, or `--password-stdin`), list them, change their role or
 * password, disable and enable them, end their sessions. `taskengine users token …`: API
 * tokens acting as a user. Roles are the config file's `users.roles` (else the defaults), the
 * same ones `taskengine serve` checks. Every change is in the audit trail, by `cli`.
 */
import type { Command, Option } from 'commander'
import { checkUserName } from '../../engine/access/users.js'
import { ConflictError, ValidationError, describeValue } from '../../errors.js'
import { cliActor } from '../cli-actor.js'
import { EXIT, renderTable, utc, type CliIo } from '../io.js'
import { readNewPassword } from '../password-input.js'
import { existing, withUsers, type UsersFlags } from '../users-engine.js'
import { usersTokenCommand } from './users-tokens.js'

interface AddFlags extends UsersFlags {
  role: string
  password?: boolean
  passwordStdin?: boolean
}

export function usersCommand(program: Command, io: CliIo, setExit: (code: number) => void, tasksOption: () => Option, storeOption: () => Option): void {
  const users = program
    .command('users')
    .description('add, list and change the users who sign in to the server; their API tokens and sessions')
    .addHelpText(
      'after',
      '\nRoles come from the config file\'s users.roles (or that of --tasks <module>\'s default\n' +
        'export); without one: viewer, operator, admin — the roles `taskengine serve` checks.\n' +
        'Every change is recorded in the audit trail as done by "cli" (taskengine audit).\n' +
        '\nExamples:\n' +
        '  taskengine users add oncall --role operator              (asks for the password twice)\n' +
        '  pass show oncall | taskengine users add oncall --role operator --password-stdin\n' +
        '  taskengine users add deploy-bot --role operator --no-password\n' +
        '  TOKEN=$(taskengine users token create deploy-bot --name ci --expires-in-days 90)\n',
    )
  const act =
    <A extends unknown[]>(fn: (...args: A) => Promise<number>) =>
    async (...args: A): Promise<void> => {
      setExit(await fn(...args))
    }
  const withOptions = (command: Command): Command => command.addOption(tasksOption()).addOption(storeOption())

  withOptions(
    users
      .command('add')
      .description('add a user with a role and a password (asked twice without echo on a terminal)')
      .argument('<name>', 'user name: letters, digits, ".", "_", "@", "-" (at most 64)')
      .requiredOption('--role <role>', 'role name from the config file (default roles: viewer, operator, admin)')
      .option('--password-stdin', 'read the password as one line from stdin instead of asking')
      .option('--no-password', 'no password: the user can only act through API tokens'),
  )
    .option('--json', 'print the user as JSON')
    .action(act((name: string, flags: AddFlags) => withUsers(flags, io, async (engine) => {
      if (flags.password === false && flags.passwordStdin === true) throw new ValidationError('give --password-stdin or --no-password, not both')
      // Everything but the password is checked before asking for it.
      checkUserName(name)
      if (!Object.hasOwn(engine.users.roles, flags.role)) throw new ValidationError(`--role: unknown role ${describeValue(flags.role)}; known: ${Object.keys(engine.users.roles).join(', ')}`)
      if ((await engine.users.get(name)) !== undefined) throw new ConflictError(`user "${name}" already exists`)
      const password = flags.password === false ? undefined : await readNewPassword(io, name, flags)
      const user = await engine.users.add(name, { role: flags.role, password, by: cliActor(io) })
      io.stderr.write(`user ${user.name} added: role ${user.role}, ${user.hasPassword ? 'password set' : 'no password (API tokens only)'}\n`)
      if (flags.json === true) io.stdout.write(`${JSON.stringify(user, null, 2)}\n`)
      return EXIT.ok
    })))

  withOptions(users.command('list', { isDefault: true }).description('list the users: role, password set, enabled, created'))
    .option('--json', 'print JSON')
    .action(act((flags: UsersFlags) => withUsers(flags, io, async (engine) => {
      const list = await engine.users.list()
      if (flags.json === true) {
        io.stdout.write(`${JSON.stringify(list, null, 2)}\n`)
        return EXIT.ok
      }
      if (list.length === 0) {
        io.stdout.write('no users (the server admits anonymous loopback callers and its --token; add one with taskengine users add)\n')
        return EXIT.ok
      }
      const rows = list.map((u) => [u.name, u.roleKnown ? u.role : `${u.role} (unknown role: no permissions)`, u.disabledAt === null ? 'enabled' : 'disabled', u.hasPassword ? 'yes' : 'no', utc(u.createdAt), u.createdBy ?? '-'])
      io.stdout.write(renderTable(['NAME', 'ROLE', 'STATE', 'PASSWORD', 'CREATED (UTC)', 'BY'], rows))
      return EXIT.ok
    })))

  withOptions(users.command('set-role').description('give a user another role (takes effect on their next request)').argument('<name>', 'user name').argument('<role>', 'role name from the config file'))
    .action(act((name: string, role: string, flags: UsersFlags) => withUsers(flags, io, async (engine) => {
      const before = await existing(engine, name)
      const user = await engine.users.setRole(name, role, cliActor(io))
      io.stderr.write(`user ${name}: role ${before.role} → ${user.role}\n`)
      return EXIT.ok
    })))

  for (const [verb, about] of [
    ['disable', 'disable a user: their sessions end and their API tokens stop working at once (until enabled)'],
    ['enable', 'enable a disabled user: their API tokens work again (sessions ended by disable stay ended)'],
  ] as const) {
    withOptions(users.command(verb).description(about).argument('<name>', 'user name')).action(
      act((name: string, flags: UsersFlags) => withUsers(flags, io, async (engine) => {
        const user = verb === 'disable' ? await engine.users.disable(name, cliActor(io)) : await engine.users.enable(name, cliActor(io))
        io.stderr.write(`user ${user.name}: ${verb}d\n`)
        return EXIT.ok
      })),
    )
  }

  withOptions(
    users
      .command('password')
      .description('set a user\'s password (asked twice without echo on a terminal); their sessions end, their API tokens stay')
      .argument('<name>', 'user name')
      .option('--password-stdin', 'read the password as one line from stdin instead of asking'),
  ).action(act((name: string, flags: UsersFlags & { passwordStdin?: boolean }) => withUsers(flags, io, async (engine) => {
    await existing(engine, name)
    await engine.users.setPassword(name, await readNewPassword(io, name, flags), cliActor(io))
    io.stderr.write(`user ${name}: password changed; their sessions ended\n`)
    return EXIT.ok
  })))

  const sessions = users.command('sessions').description('list and end sign-in sessions')
  withOptions(sessions.command('list', { isDefault: true }).description('live sessions, newest first: a user\'s or everyone\'s').argument('[name]', 'user name'))
    .option('--json', 'print JSON')
    .action(act((name: string | undefined, flags: UsersFlags) => withUsers(flags, io, async (engine) => {
      if (name !== undefined) await existing(engine, name)
      const list = await engine.users.sessions(name)
      if (flags.json === true) io.stdout.write(`${JSON.stringify(list, null, 2)}\n`)
      else if (list.length === 0) io.stdout.write('no live sessions\n')
      else io.stdout.write(renderTable(['ID', 'USER', 'SIGNED IN (UTC)', 'LAST SEEN (UTC)', 'EXPIRES (UTC)', 'FROM'], list.map((s) => [s.id, s.user, utc(s.createdAt), utc(s.lastSeenAt), utc(s.expiresAt), s.address ?? '-'])))
      return EXIT.ok
    })))
  withOptions(sessions.command('end').description('end every session of a user (they sign in again; API tokens are not affected)').argument('<name>', 'user name'))
    .action(act((name: string, flags: UsersFlags) => withUsers(flags, io, async (engine) => {
      await existing(engine, name)
      const ended = await engine.users.endSessions({ user: name }, cliActor(io))
      io.stderr.write(`user ${name}: ${ended} session${ended === 1 ? '' : 's'} ended\n`)
      return EXIT.ok
    })))

  usersTokenCommand(users, io, act, withOptions)
}
