/**
 * Users (`/admin/users`, `users:read`): the built-in users with their role, state and API
 * tokens; with `users:write`, forms to add a user, change a role or password, disable or enable,
 * end sessions, and create or revoke tokens. A new token is shown once, on the page that
 * answers its creation. Roles and what each may do are listed below.
 */
import { PERMISSIONS } from '../../../engine/access/permissions.js'
import { MIN_PASSWORD_LENGTH } from '../../../engine/access/secrets.js'
import type { TokenInfo, UserInfo } from '../../../engine/access/users.js'
import { can } from '../../auth.js'
import { identity, requirePermission } from '../../caller.js'
import { Layout, type PageContext } from '../layout.js'
import type { AdminPage } from '../page.js'
import { Csrf, Time } from '../ui.js'

export interface UsersData {
  readonly users: readonly UserInfo[]
  readonly tokens: readonly TokenInfo[]
  readonly roles: Readonly<Record<string, readonly string[]>>
  readonly canEdit: boolean
}

/** A token just made, shown once. */
export interface NewToken {
  readonly user: string
  readonly name: string
  readonly token: string
}

export const usersPage: AdminPage<UsersData> = {
  async load(c, { engine }) {
    requirePermission(c, 'users:read')
    const [users, tokens] = await Promise.all([engine.users.list(), engine.users.tokens()])
    return { users, tokens, roles: engine.users.roles, canEdit: can(identity(c), 'users:write') }
  },
  data: ({ users, tokens, roles }) => ({ value: { users, tokens, roles }, name: 'users' }),
  view: ({ page, data }) => <UsersPage page={page} data={data} />,
}

export function UsersPage({ page, data, created, error }: { page: PageContext; data: UsersData; created?: NewToken; error?: string }) {
  const { users, tokens, roles, canEdit } = data
  const roleNames = Object.keys(roles)
  const action = (user: string, what: string): string => `${page.admin}/users/${encodeURIComponent(user)}/${what}`
  return (
    <Layout page={page} title="Users" nav="users">
      <div class="page-head">
        <div>
          <h1>Users</h1>
          <p class="sub">People who sign in to this server, their roles and API tokens. A change applies on their next request in every process sharing the store.</p>
        </div>
      </div>
      {error === undefined ? null : (
        <div class="notice notice-bad" role="alert">
          {error}
        </div>
      )}
      {created === undefined ? null : (
        <div class="notice notice-ok new-token" role="status">
          <p>
            Token <strong>{created.name}</strong> for <strong>{created.user}</strong> created. Copy it now: it is not shown again.
          </p>
          <code class="mono copyable" id="new-token">
            {created.token}
          </code>
        </div>
      )}
      <section class="panel">
        {users.length === 0 ? (
          <p class="empty">No users yet: the server lets loopback callers in without signing in. Add one below, or with `taskengine users add NAME --role admin`.</p>
        ) : (
          <div class="table-wrap">
            <table class="wide" id="users">
              <thead>
                <tr>
                  <th>User</th>
                  <th>Role</th>
                  <th>State</th>
                  <th>API tokens</th>
                  <th>Added</th>
                  {canEdit ? <th>Change</th> : null}
                </tr>
              </thead>
              <tbody>
                {users.map((u) => {
                  const mine = tokens.filter((t) => t.user === u.name && t.revokedAt === null)
                  return (
                    <tr id={`user-${u.name}`} data-user={u.name}>
                      <td>
                        <strong>{u.name}</strong>
                        {u.hasPassword ? null : <div class="faint small">no password (tokens only)</div>}
                      </td>
                      <td>
                        {u.role}
                        {u.roleKnown ? null : <div><span class="badge badge-danger">unknown role: no permissions</span></div>}
                      </td>
                      <td>{u.disabledAt === null ? <span class="badge badge-active">enabled</span> : <span class="badge badge-danger" title={u.disabledAt.toISOString()}>disabled</span>}</td>
                      <td>
                        {mine.length === 0 ? (
                          <span class="faint">none</span>
                        ) : (
                          <ul class="plain">
                            {mine.map((t) => (
                              <li data-token={t.name}>
                                <span class="mono">{t.name}</span>{' '}
                                <span class="faint small">
                                  {t.lastUsedAt === null ? 'never used' : <>used <Time date={t.lastUsedAt} now={page.now} /></>}
                                  {t.expiresAt === null ? null : <> · expires <Time date={t.expiresAt} now={page.now} /></>}
                                </span>
                                {canEdit || page.user === u.name ? (
                                  <form method="post" action={action(u.name, `tokens/${encodeURIComponent(t.id)}/revoke`)} class="inline" data-confirm={`Revoke token "${t.name}" of ${u.name}? It stops working at once.`}>
                                    <Csrf token={page.csrf} />
                                    <button type="submit" class="small danger">
                                      Revoke
                                    </button>
                                  </form>
                                ) : null}
                              </li>
                            ))}
                          </ul>
                        )}
                        {canEdit || page.user === u.name ? (
                          <form method="post" action={action(u.name, 'tokens')} class="inline token-form">
                            <Csrf token={page.csrf} />
                            <input type="text" id={`token-name-${u.name}`} name="name" aria-label={`New token name for ${u.name}`} placeholder="token name, e.g. ci" required maxlength={64} />
                            <button type="submit" class="small">
                              New token
                            </button>
                          </form>
                        ) : null}
                      </td>
                      <td class="nowrap">
                        <Time date={u.createdAt} now={page.now} />
                        {u.createdBy === null ? null : <div class="faint small">by {u.createdBy}</div>}
                      </td>
                      {canEdit ? (
                        <td class="user-edit">
                          <form method="post" action={action(u.name, 'role')} class="inline">
                            <Csrf token={page.csrf} />
                            <select id={`role-${u.name}`} name="role" aria-label={`Role of ${u.name}`}>
                              {roleNames.map((r) => (
                                <option value={r} selected={r === u.role}>
                                  {r}
                                </option>
                              ))}
                            </select>
                            <button type="submit" class="small">
                              Set role
                            </button>
                          </form>
                          <form method="post" action={action(u.name, 'password')} class="inline">
                            <Csrf token={page.csrf} />
                            <input type="password" id={`password-${u.name}`} name="password" aria-label={`New password for ${u.name}`} placeholder="new password" autocomplete="new-password" required minlength={MIN_PASSWORD_LENGTH} />
                            <button type="submit" class="small">
                              Set password
                            </button>
                          </form>
                          <div class="row-actions">
                          <form method="post" action={action(u.name, u.disabledAt === null ? 'disable' : 'enable')} class="inline" data-confirm={u.disabledAt === null ? `Disable ${u.name}? Their sessions end and their tokens stop working at once.` : undefined}>
                            <Csrf token={page.csrf} />
                            <button type="submit" class={`small${u.disabledAt === null ? ' danger' : ''}`}>
                              {u.disabledAt === null ? 'Disable' : 'Enable'}
                            </button>
                          </form>
                          <form method="post" action={action(u.name, 'sessions/end')} class="inline">
                            <Csrf token={page.csrf} />
                            <button type="submit" class="small">
                              End sessions
                            </button>
                          </form>
                          </div>
                        </td>
                      ) : null}
                    </tr>
                  )
                })}
              </tbody>
            </table>
          </div>
        )}
      </section>
      {canEdit ? (
        <section class="panel">
          <h2>Add a user</h2>
          <form method="post" action={`${page.admin}/users`} class="filters" id="add-user">
            <Csrf token={page.csrf} />
            <div class="field">
              <label for="new-name">User name</label>
              <input type="text" id="new-name" name="name" required maxlength={64} autocomplete="off" autocapitalize="none" spellcheck={false} />
            </div>
            <div class="field">
              <label for="new-role">Role</label>
              <select id="new-role" name="role">
                {roleNames.map((r) => (
                  <option value={r} selected={r === 'viewer'}>
                    {r}
                  </option>
                ))}
              </select>
            </div>
            <div class="field">
              <label for="new-password">Password</label>
              <input type="password" id="new-password" name="password" autocomplete="new-password" minlength={MIN_PASSWORD_LENGTH} placeholder={`at least ${MIN_PASSWORD_LENGTH} characters`} />
            </div>
            <div class="field buttons">
              <button type="submit" class="primary">
                Add user
              </button>
            </div>
          </form>
        </section>
      ) : null}
      <section class="panel">
        <h2>Roles</h2>
        <div class="table-wrap">
          <table class="wide" id="roles">
            <thead>
              <tr>
                <th>Role</th>
                <th>May</th>
              </tr>
            </thead>
            <tbody>
              {Object.entries(roles).map(([name, codes]) => (
                <tr>
                  <td>{name}</td>
                  <td class="mono small wrap">{codes.includes('*') ? `everything (${PERMISSIONS.filter((p) => p !== 'runs:write').join(', ')})` : codes.join(', ')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </Layout>
  )
}
