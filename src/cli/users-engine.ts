/**
 * What the `users` commands share: an engine on the store with the config file's roles, and
 * looking a user up by name.
 */
import type { UserInfo } from '../engine/access/users.js'
import { Engine } from '../engine/engine.js'
import { NotFoundError } from '../errors.js'
import type { CliIo } from './io.js'
import { loadTasks } from './load-tasks.js'
import { openStore } from './store-option.js'

/** Flags every `users` command takes. */
export interface UsersFlags {
  tasks?: string
  store?: string
  json?: boolean
}

/**
 * An engine on the store with the config file's `users` options (roles), not started; closed
 * after `fn`.
 */
export async function withUsers(flags: UsersFlags, io: CliIo, fn: (engine: Engine) => Promise<number>): Promise<number> {
  const { users } = await loadTasks({ module: flags.tasks, cwd: io.cwd })
  const engine = new Engine({ ...(users === undefined ? {} : { users }), store: await openStore(flags.store, io.cwd) })
  try {
    return await fn(engine)
  } finally {
    await engine.close()
  }
}

/** The user named, or a `NotFoundError`. */
export async function existing(engine: Engine, name: string): Promise<UserInfo> {
  const user = await engine.users.get(name)
  if (user === undefined) throw new NotFoundError(`no user "${name}" (taskengine users list shows them)`)
  return user
}
