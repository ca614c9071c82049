/**
 * A value a test changes in callbacks (a store's wake-ups, the errors it reports) and waits on:
 * each condition is checked at once and again at every change, never on a timer.
 */
export class Watched<T> {
  #value: T
  readonly #checks = new Set<() => void>()

  constructor(value: T) {
    this.#value = value
  }

  get value(): T {
    return this.#value
  }

  /** Changes the value and checks what is waited for. */
  set(value: T): void {
    this.#value = value
    for (const check of [...this.#checks]) check()
  }

  /** Resolves with the value once `condition` holds of it; rejects after `timeoutMs`, naming `what`. */
  until(condition: (value: T) => boolean, what: string, timeoutMs = 5000): Promise<T> {
    // Made here, so that a timeout points at the test that waited.
    const timedOut = new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    return new Promise<T>((resolve, reject) => {
      const check = (): void => {
        if (!condition(this.#value)) return
        this.#checks.delete(check)
        clearTimeout(timer)
        resolve(this.#value)
      }
      const timer = setTimeout(() => {
        this.#checks.delete(check)
        reject(timedOut)
      }, timeoutMs)
      this.#checks.add(check)
      check()
    })
  }
}
