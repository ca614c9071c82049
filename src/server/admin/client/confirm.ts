/**
 * Confirmations: a form (or the button that submits it) with `data-confirm` asks first. The
 * runs list's bulk form, confirmed here, tells the server so (`te:confirm`), which otherwise
 * asks on a page of its own.
 */
import { $, $$, el } from './dom.js'

export function initConfirmations(): void {
  for (const form of $$<HTMLFormElement>('form')) {
    form.addEventListener('submit', (event) => {
      const question = event.submitter?.dataset.confirm ?? form.dataset.confirm
      if (question === undefined || question === '') return
      if (!window.confirm(question)) {
        event.preventDefault()
        return
      }
      // getAttribute: the form has inputs named "id", which shadow form.id.
      if (form.getAttribute('id') === 'bulk-form' && $('input[name="te:confirm"]', form) === null) {
        const confirmed = el('input')
        confirmed.type = 'hidden'
        confirmed.name = 'te:confirm'
        confirmed.value = 'yes'
        form.append(confirmed)
      }
    })
  }
}
