/**
 * Sign in (`/admin/login`): a user name and password for the built-in users, and the access
 * token (the server's, or a user's API token) as the other way in; the token becomes an
 * HttpOnly cookie, the password a session cookie. The page has no script and needs no identity.
 * It never says which of the name or the password was wrong.
 */
import { Icon } from '../ui.js'

/** What went wrong with the last attempt. */
export type LoginFailure = 'invalid' | 'token' | 'throttled' | undefined

export function LoginPage({ admin, next, failure, users, token }: { admin: string; next: string; failure: LoginFailure; users: boolean; token: boolean }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>Sign in · taskengine</title>
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href={`${admin}/assets/app.css`} />
      </head>
      <body>
        <main class="login">
          <section class="panel">
            <h1>
              <Icon name="bolt" /> taskengine
            </h1>
            {failure === 'invalid' ? (
              <div class="notice notice-bad" role="alert">
                Wrong user name or password.
              </div>
            ) : failure === 'token' ? (
              <div class="notice notice-bad" role="alert">
                That token is not valid.
              </div>
            ) : failure === 'throttled' ? (
              <div class="notice notice-bad" role="alert">
                Too many failed sign-ins. Try again in 15 minutes.
              </div>
            ) : null}
            {users ? (
              <form method="post" action={`${admin}/login`}>
                <input type="hidden" name="next" value={next} />
                <div class="field">
                  <label for="user">User name</label>
                  <input type="text" id="user" name="user" autocomplete="username" autocapitalize="none" spellcheck={false} required />
                </div>
                <div class="field">
                  <label for="password">Password</label>
                  <input type="password" id="password" name="password" autocomplete="current-password" required />
                </div>
                <button type="submit" class="primary">
                  Sign in
                </button>
              </form>
            ) : (
              <p class="muted">This server requires its access token.</p>
            )}
            {users ? (
              <details class="login-token" open={failure === 'token' || !users ? true : undefined}>
                <summary>Use an access token instead</summary>
                <TokenForm admin={admin} next={next} />
              </details>
            ) : token ? (
              <TokenForm admin={admin} next={next} />
            ) : null}
          </section>
        </main>
      </body>
    </html>
  )
}

function TokenForm({ admin, next }: { admin: string; next: string }) {
  return (
    <form method="post" action={`${admin}/login`}>
      <input type="hidden" name="next" value={next} />
      <div class="field">
        <label for="token">Token</label>
        <input type="password" id="token" name="token" autocomplete="current-password" required />
      </div>
      <button type="submit">Sign in with the token</button>
    </form>
  )
}
