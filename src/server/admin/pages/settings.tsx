/**
 * Settings (`/admin/settings`): the runtime settings as a form built from their own
 * descriptions (errors shown at each field; nothing changes until every value is valid), and
 * the log backends to choose from.
 */
import type { SettingInfo } from '../../../engine/settings/settings.js'
import type { LogBackendInfo } from '../../../engine/settings/log-backends.js'
import type { FieldIssue } from '../../../errors.js'
import { requirePermission } from '../../caller.js'
import { Layout, type PageContext } from '../layout.js'
import type { AdminPage } from '../page.js'
import { Csrf } from '../ui.js'

export interface SettingsData {
  readonly settings: readonly SettingInfo[]
  readonly backends: readonly LogBackendInfo[]
}

export const settingsPage: AdminPage<SettingsData> = {
  async load(c, { engine }) {
    requirePermission(c, 'settings:read')
    return { settings: await engine.settings.describe(), backends: engine.logBackends() }
  },
  data: ({ settings }) => ({ value: settings, name: 'settings' }),
  view: ({ page, data }) => <SettingsPage page={page} settings={data.settings} backends={data.backends} />,
}

export function SettingsPage({
  page,
  settings,
  backends,
  errors,
  issues = new Map(),
}: {
  page: PageContext
  settings: readonly SettingInfo[]
  backends: readonly LogBackendInfo[]
  errors?: string
  /** What is wrong with each bad setting, by key, shown at its field. */
  issues?: ReadonlyMap<string, FieldIssue>
}) {
  return (
    <Layout page={page} title="Settings" nav="settings">
      <div class="page-head">
        <div>
          <h1>Settings</h1>
          <p class="sub">Shared by every process on this store. Worker concurrency applies to running workers at once.</p>
        </div>
      </div>
      {errors === undefined ? null : (
        <div class="notice notice-bad" role="alert">
          {errors}
        </div>
      )}
      <form method="post" action={`${page.admin}/settings`} class="panel settings-form">
        <Csrf token={page.csrf} />
        {settings.map((s) => (
          <div class={`field${issues.has(s.key) ? ' invalid' : ''}`} data-field={s.key}>
            <label for={`setting-${s.key}`}>{s.title}</label>
            {s.type === 'choice' ? (
              <select id={`setting-${s.key}`} name={s.key}>
                {(s.choices ?? []).map((choice) => (
                  <option value={choice.value} selected={choice.value === s.value}>
                    {choice.title}
                  </option>
                ))}
              </select>
            ) : (
              <input
                id={`setting-${s.key}`}
                name={s.key}
                type="number"
                inputmode="numeric"
                min={String(s.min)}
                max={String(s.max)}
                step="1"
                value={s.value === null ? '' : String(s.value)}
                placeholder={s.nullable === true ? 'each worker\'s own' : String(s.default)}
                required={s.nullable !== true}
                aria-invalid={issues.has(s.key) ? 'true' : undefined}
              />
            )}
            <p class="help">
              {s.description} <span class="faint">Default: {s.default === null ? 'none' : String(s.default)}.</span>
            </p>
            {issues.has(s.key) ? (
              <div class="error" role="alert">
                Expected {issues.get(s.key)!.expected}, got {issues.get(s.key)!.received}.
              </div>
            ) : null}
          </div>
        ))}
        <div class="form-actions">
          <button type="submit" class="primary">
            Save settings
          </button>
        </div>
      </form>
      <section class="panel">
        <h2>Log storage backends</h2>
        <ul class="plain">
          {backends.map((b) => (
            <li>
              <strong>{b.title}</strong> <code class="faint">{b.name}</code> — {b.description}
            </li>
          ))}
        </ul>
      </section>
    </Layout>
  )
}
