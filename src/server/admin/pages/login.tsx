/**
 * Sign in (`/admin/login`): asks for the server's token, which becomes an HttpOnly cookie. The
 * page has no script and needs no identity.
 */
import { Icon } from '../ui.js'

export function LoginPage({ admin, next, failed }: { admin: string; next: string; failed: boolean }) {
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
            <p class="muted">This server requires its access token.</p>
            {failed ? <div class="notice notice-bad">That token is not valid.</div> : null}
            <form method="post" action={`${admin}/login`}>
              <input type="hidden" name="next" value={next} />
              <div class="field">
                <label for="token">Token</label>
                <input type="password" id="token" name="token" autocomplete="current-password" required />
              </div>
              <button type="submit" class="primary">
                Sign in
              </button>
            </form>
          </section>
        </main>
      </body>
    </html>
  )
}
