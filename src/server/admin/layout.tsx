/**
 * The page shell: header with navigation, the live-connection state, the user's runs menu,
 * the theme switch, notices; the stylesheet and the client script, an ES module (no inline
 * scripts or styles: the Content-Security-Policy forbids them).
 */
import type { Child } from 'hono/jsx'
import type { Permission } from '../../engine/access/permissions.js'
import { Icon } from './ui.js'

export type NavKey = 'overview' | 'tasks' | 'runs' | 'queues' | 'schedules' | 'workers' | 'settings' | 'users' | 'audit' | 'none'

/** A message shown on top of a page after an action. */
export interface Notice {
  readonly kind: 'ok' | 'warn' | 'bad'
  readonly text: string
}

/** What every page knows about its request. */
export interface PageContext {
  /** The admin UI's path, e.g. `/admin` or `/ops/admin`. */
  readonly admin: string
  /** The server's base path (for API and stream URLs). */
  readonly base: string
  readonly csrf: string
  readonly user: string
  /** Whether the caller holds a permission (pages hide what it may not do). */
  readonly may: (permission: Permission) => boolean
  /** Whether the caller signed in here (a session or a token cookie), so the menu offers to sign out. */
  readonly signedIn: boolean
  readonly now: number
  readonly notice: Notice | undefined
}

/** Sections: key, path, label, the letter after "g" that jumps there, and the permission it needs (if any). */
const NAV: readonly [NavKey, string, string, string, Permission?][] = [
  ['overview', '', 'Overview', 'o'],
  ['tasks', '/task', 'Tasks', 't'],
  ['runs', '/runs', 'Runs', 'r'],
  ['queues', '/queues', 'Queues', 'q'],
  ['schedules', '/schedules', 'Schedules', 'c'],
  ['workers', '/workers', 'Workers', 'w'],
  ['settings', '/settings', 'Settings', 's'],
  ['users', '/users', 'Users', 'u', 'users:read'],
  ['audit', '/audit', 'Audit', 'a', 'audit:read'],
]

/** The document head every page shares: the base paths the script reads, the title, the stylesheet and the script. */
export function PageHead({ page, title, children }: { page: PageContext; title: string; children?: Child }) {
  return (
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="te-base" content={page.base} />
      <meta name="te-admin" content={page.admin} />
      <title>{`${title} · taskengine`}</title>
      {children}
      <link rel="icon" href="data:," />
      <link rel="stylesheet" href={`${page.admin}/assets/app.css`} />
      <script type="module" src={`${page.admin}/assets/client/main.js`} />
    </head>
  )
}

export function Layout({ page, title, nav, children }: { page: PageContext; title: string; nav: NavKey; children: Child }) {
  return (
    <html lang="en">
      <PageHead page={page} title={title} />
      <body>
        <header class="topbar">
          <a class="brand" href={page.admin === '' ? '/' : page.admin} data-key="g o">
            <Icon name="bolt" /> taskengine
          </a>
          <nav class="nav" aria-label="sections">
            {NAV.filter(([, , , , needs]) => needs === undefined || page.may(needs)).map(([key, path, label, letter]) => (
              <a href={`${page.admin}${path}`} aria-current={key === nav ? 'page' : undefined} data-key={`g ${letter}`} title={`${label} (g ${letter})`}>
                {label}
              </a>
            ))}
          </nav>
          <span class="spacer" />
          <span class="live-state" id="live-state" data-state="off" title="Live updates">
            static
          </span>
          <details class="menu" id="my-runs" data-user={page.user}>
            <summary title="Your recent and active runs">
              <Icon name="user" /> {page.user} <span class="count-badge" data-count="0" id="my-active-count">0</span>
            </summary>
            <div class="menu-panel" data-src={`${page.base}/api/me/runs`}>
              <h3>Active</h3>
              <ul data-list="active">
                <li class="faint">Loading…</li>
              </ul>
              <h3>Recent</h3>
              <ul data-list="recent" />
              <p>
                <a href={`${page.admin}/runs?createdBy=${encodeURIComponent(page.user)}`}>All my runs →</a>
              </p>
              {page.signedIn ? (
                <form method="post" action={`${page.admin}/logout`} class="sign-out">
                  <input type="hidden" name="_csrf" value={page.csrf} />
                  <button type="submit" class="small">
                    Sign out
                  </button>
                </form>
              ) : null}
            </div>
          </details>
          <button type="button" class="small" id="theme-toggle" title="Switch light / dark theme" aria-label="Switch light / dark theme">
            <Icon name="theme" /> <span class="wide-only">Theme</span>
          </button>
        </header>
        <main>
          {page.notice === undefined ? null : (
            <div class={`notice notice-${page.notice.kind}`} role="status">
              {page.notice.text}
            </div>
          )}
          {children}
          <p class="hint">
            Keys: <span class="kbd">/</span> search · <span class="kbd">g</span> then{' '}
            {NAV.filter(([, , , , needs]) => needs === undefined || page.may(needs)).map(([, , , letter]) => (
              <>
                <span class="kbd">{letter}</span>{' '}
              </>
            ))}
            to go to a section (hover a section for its letter) · <span class="kbd">[</span> <span class="kbd">]</span> pages
          </p>
        </main>
      </body>
    </html>
  )
}
