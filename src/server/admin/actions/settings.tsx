/**
 * Saving the settings form: every value is checked by the engine; a bad one comes back as the
 * form (400) with what was typed and the reason at its field, and nothing changes.
 */
import type { Handler } from 'hono'
import { ValidationError } from '../../../errors.js'
import { requirePermission, type ServerEnv } from '../../caller.js'
import { checkCsrf } from '../csrf.js'
import { withNotice } from '../notices.js'
import { settingsChange } from '../../../engine/access/changes.js'
import { recordAction } from '../../audit.js'
import { pageContext, render, type AdminDeps } from '../page.js'
import { SettingsPage } from '../pages/settings.js'

export function settingsActions(deps: AdminDeps): Record<'save', Handler<ServerEnv>> {
  const { engine } = deps
  const admin = `${deps.base}/admin`
  return {
    async save(c) {
      requirePermission(c, 'settings:write')
      const body = await c.req.parseBody()
      checkCsrf(c, body)
      const described = await engine.settings.describe()
      const patch: Record<string, unknown> = {}
      for (const setting of described) {
        const raw = body[setting.key]
        if (typeof raw !== 'string') continue
        const text = raw.trim()
        if (setting.type === 'choice') patch[setting.key] = text
        else if (text === '') patch[setting.key] = setting.nullable === true ? null : text
        else patch[setting.key] = /^-?\d+$/.test(text) ? Number(text) : text
      }
      try {
        const before = await engine.settings.get()
        await recordAction(c, deps, settingsChange(before, await engine.settings.update(patch)))
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error
        // Show what was typed, with the reason, and change nothing.
        const typed = described.map((s) => (s.key in patch ? { ...s, value: patch[s.key] as never } : s))
        const issues = new Map(error.fields.map((f) => [f.key, f]))
        return render(c, <SettingsPage page={pageContext(c, deps)} settings={typed} backends={engine.logBackends()} errors={error.message} issues={issues} />, 400)
      }
      return c.redirect(withNotice(`${admin}/settings`, 'settings-saved'), 303)
    },
  }
}
