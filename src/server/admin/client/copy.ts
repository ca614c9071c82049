/**
 * Copy buttons (`data-copy="<id>"`) copy the text of the element with that id: the raw JSON a
 * JSON view keeps. Delegated, so buttons the script adds later work too.
 */

/** How long the button says "Copied", in ms. */
const SAID_MS = 1500

export function initCopyButtons(): void {
  document.addEventListener('click', (event) => {
    const button = event.target instanceof Element ? event.target.closest<HTMLElement>('[data-copy]') : null
    if (button !== null) void copy(button)
  })
}

async function copy(button: HTMLElement): Promise<void> {
  // The button's last child is its label text (after the icon).
  const label = button.lastChild
  const say = (text: string): void => {
    if (label !== null) label.textContent = text
  }
  const source = document.getElementById(button.dataset.copy ?? '')
  try {
    // No clipboard on a page that is not a secure context: that fails here too.
    await navigator.clipboard.writeText(source?.textContent ?? '')
    say(' Copied')
  } catch {
    say(' Copy failed')
  }
  setTimeout(() => say(' Copy'), SAID_MS)
}
