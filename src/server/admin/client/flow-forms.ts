/**
 * The Queues page's forms through the API: pause, resume and new limits are sent as JSON to
 * `PUT /api/queues/:name` or `PUT /api/tasks/:key` (the same patch the form post would make,
 * `../shared/flow-form.ts`), the API's errors are shown at their fields, and on success the
 * page's live regions are read again at once. Without this script the forms post to the
 * admin UI, which answers the same way with a page.
 */
import { flowPatch, issueField } from '../shared/flow-form.js'
import { $, $$ } from './dom.js'

/** The event after which the live regions are read again at once (`live-regions.ts`). */
export const REFRESH_REGIONS = 'te:refresh-regions'

/** The error envelope of the API. */
interface ApiError {
  readonly error?: { readonly message?: string; readonly fields?: readonly { readonly key: string; readonly message: string }[] }
}

export function initFlowForms(): void {
  if ($('[data-flow-form]') === null) return
  // On the document: live regions replace the forms, and new ones must work the same.
  document.addEventListener('submit', (event) => {
    const form = event.target
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute('data-flow-form') || event.defaultPrevented) return
    event.preventDefault()
    void send(form)
  })
}

async function send(form: HTMLFormElement): Promise<void> {
  const values: Record<string, string> = {}
  for (const [name, value] of new FormData(form)) if (typeof value === 'string' && name !== '_csrf') values[name] = value
  let url = form.dataset.api ?? ''
  // The "limit another task" form names its task in a field.
  const keyField = form.dataset.apiKey
  if (keyField !== undefined) {
    url += encodeURIComponent(values[keyField] ?? '')
    delete values[keyField]
  }
  clearErrors(form)
  const buttons = $$<HTMLButtonElement>('button', form)
  for (const button of buttons) button.disabled = true
  try {
    const response = await fetch(url, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(flowPatch(values)),
    })
    if (response.ok) {
      form.closest('details')?.removeAttribute('open')
      // A focused button would keep its region from being replaced.
      if (document.activeElement instanceof HTMLElement) document.activeElement.blur()
      document.dispatchEvent(new CustomEvent(REFRESH_REGIONS))
      return
    }
    const body = (await response.json().catch(() => ({}))) as ApiError
    showErrors(form, body.error?.message ?? `the server answered ${response.status}`, body.error?.fields ?? [])
  } catch (error) {
    showErrors(form, `could not reach the server: ${(error as Error).message}`, [])
  } finally {
    for (const button of buttons) button.disabled = false
  }
}

function clearErrors(form: HTMLFormElement): void {
  for (const field of $$('[data-flow-field]', form)) {
    field.classList.remove('invalid')
    for (const input of $$('input, select', field)) input.removeAttribute('aria-invalid')
    const error = $('.error', field)
    if (error !== null) {
      error.textContent = ''
      error.hidden = true
    }
  }
  const top = $('.form-error', form)
  if (top !== null) {
    top.textContent = ''
    top.hidden = true
  }
}

/** Each issue at its field (its text only: nothing from the server is read as HTML); the rest above the form. */
function showErrors(form: HTMLFormElement, message: string, fields: readonly { readonly key: string; readonly message: string }[]): void {
  let placed = 0
  for (const issue of fields) {
    const field = $(`[data-flow-field="${CSS.escape(issueField(issue.key))}"]`, form)
    const error = field === null ? null : $('.error', field)
    if (field === null || error === null) continue
    field.classList.add('invalid')
    for (const input of $$('input, select', field)) input.setAttribute('aria-invalid', 'true')
    error.textContent = error.textContent === '' ? issue.message : `${error.textContent ?? ''}; ${issue.message}`
    error.hidden = false
    placed++
  }
  const top = $('.form-error', form)
  if (top !== null && placed < Math.max(1, fields.length)) {
    top.textContent = message
    top.hidden = false
  }
}
