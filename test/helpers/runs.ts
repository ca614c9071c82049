/**
 * Waiting for a durable run to reach a state, on the engine's run events rather than by polling
 * the store.
 */
import type { Engine, Run, RunState } from '../../src/index.js'

/**
 * How often {@link runReaches} reads the run besides its events: only for changes the engine
 * announces to nobody here (made by another engine sharing the store, or a run handed back
 * unstarted, which emits nothing).
 */
const BACKSTOP_MS = 100

/**
 * Resolves with the run once it has `status`. Reads it at once and again at each of its events
 * on `engine` (a worker announces a state change once it is stored: `started` once the run runs,
 * `succeeded` once the completion is written), and every {@link BACKSTOP_MS} besides. Rejects
 * after `timeoutMs`, naming the status it last saw.
 */
export function runReaches(engine: Engine, id: string, status: RunState, timeoutMs = 5000): Promise<Run> {
  // Made here, so that a timeout points at the test that waited.
  const timedOut = new Error(`run ${id} did not become ${status} within ${timeoutMs} ms`)
  return new Promise<Run>((resolve, reject) => {
    let last: Run | undefined
    let reading = false
    let again = false
    let settled = false
    const finish = (outcome: () => void): void => {
      if (settled) return
      settled = true
      unsubscribe()
      clearInterval(backstop)
      clearTimeout(deadline)
      outcome()
    }
    // One read at a time; events that arrive meanwhile ask for one more read after it.
    const read = (): void => {
      if (settled) return
      if (reading) {
        again = true
        return
      }
      reading = true
      engine.getRun(id).then(
        (run) => {
          reading = false
          last = run
          if (run?.status === status) finish(() => resolve(run))
          else if (again) {
            again = false
            read()
          }
        },
        (error: unknown) => finish(() => reject(error instanceof Error ? error : new Error(String(error)))),
      )
    }
    const unsubscribe = engine.subscribe(read, { runId: id })
    const backstop = setInterval(read, BACKSTOP_MS)
    const deadline = setTimeout(() => {
      timedOut.message += `; last seen ${last === undefined ? 'absent' : last.status}`
      finish(() => reject(timedOut))
    }, timeoutMs)
    read()
  })
}
