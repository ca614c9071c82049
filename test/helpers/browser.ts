/**
 * Real Chromium for UI tests: Debian's `/usr/bin/chromium` driven by playwright-core (never a
 * downloaded browser). Outside CI a missing browser skips the suite loudly; under CI it fails.
 *
 * Also what keeps UI tests honest on a loaded machine: contexts closed after every test, waits
 * on conditions (never on time), and states that last only a moment noted by the page itself.
 */
import { existsSync } from 'node:fs'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/**
 * Deadlines for waits on a loaded machine (load ~9 on two cores: a page can take seconds). A
 * wait ends as soon as its condition holds, so a generous deadline only costs time when the
 * test fails. For `vi.waitFor` and `expect.poll`.
 */
export const PATIENCE = { timeout: 20_000, interval: 25 } as const

/** Whether the browser tests can run here; prints why not (and throws under CI). */
export function browserAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true
  const why = `Chromium not found at ${CHROMIUM}: install it with \`apt-get install -y chromium\` (or set CHROMIUM_PATH).`
  if (process.env.CI === 'true') throw new Error(`${why} The browser tests must run in CI.`)
  console.warn(`\n⚠️  SKIPPING the admin UI browser tests: ${why}\n`)
  return false
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  })
}

/**
 * The browser contexts a suite opens, so an `afterEach` closes them all, also those of a test
 * that failed half-way (a page left open keeps its sockets and timers running into the next test).
 *
 * @example
 * const contexts = new Contexts(() => browser)
 * afterEach(() => contexts.closeAll())
 * const context = await contexts.open({ viewport: { width: 400, height: 860 } })
 */
export class Contexts {
  readonly #open = new Set<BrowserContext>()
  constructor(private readonly browser: () => Browser) {}

  async open(options: Parameters<Browser['newContext']>[0] = {}): Promise<BrowserContext> {
    const context = await this.browser().newContext(options)
    this.#open.add(context)
    context.once('close', () => this.#open.delete(context))
    return context
  }

  async closeAll(): Promise<void> {
    const open = [...this.#open]
    this.#open.clear()
    await Promise.all(open.map((context) => context.close()))
  }
}

/**
 * Clicks a button that submits a form and waits for the page the server answers with, even when
 * that page has the same URL as the one before (saving a form twice): the next `load` event is
 * the new document's, since the current one has loaded already.
 */
export async function submit(page: Page, selector: string): Promise<void> {
  const loaded = page.waitForEvent('load')
  await page.click(selector)
  await loaded
}

/** What the in-page code below touches, typed by hand: the tests compile without the DOM library. */
interface InPage {
  readonly document: { querySelector(selector: string): { textContent: string | null } | null }
  readonly MutationObserver: new (callback: (records: readonly { readonly addedNodes: ArrayLike<{ textContent: string | null }> }[]) => void) => {
    observe(target: unknown, options: { subtree?: boolean; childList?: boolean; attributes?: boolean; characterData?: boolean }): void
  }
  __held?: Record<string, boolean>
}

/**
 * Watches every document the context loads from now on and notes, in the page, whether
 * `condition` ever held: it is checked at each change of the document, so a state that lasts
 * only a moment (a run's first log line while its result is still hidden) is seen however slow
 * the machine. `condition` runs in the page (no closure over test variables). Read the note
 * with {@link hasHeld}.
 */
export async function watchFor(context: BrowserContext, name: string, condition: () => boolean): Promise<void> {
  const watch = (name: string, condition: () => boolean): void => {
    const window = globalThis as unknown as InPage
    const held = (window.__held ??= {})
    held[name] = false
    new window.MutationObserver(() => {
      if (held[name] !== true && condition()) held[name] = true
    }).observe(window.document, { subtree: true, childList: true, attributes: true, characterData: true })
  }
  // As a script's text (what Playwright does with a function): the page's CSP allows no eval.
  await context.addInitScript({ content: `(${watch.toString()})(${JSON.stringify(name)}, ${condition.toString()})` })
}

/** Whether the condition {@link watchFor} watches for under `name` held at some point in this page. */
export function hasHeld(page: Page, name: string): Promise<boolean> {
  return page.evaluate((name) => (globalThis as unknown as InPage).__held?.[name] === true, name)
}
