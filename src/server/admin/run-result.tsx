/**
 * The run page's Result section: the data of a succeeded run; for a run still going, or one that
 * failed or was cancelled, its partial result (`ctx.setResult`) when it has one. While the run is
 * active the section is ready for the client script (`client/run-result.ts`) to show the partial
 * result live, from `result` events or from the stored run.
 */
import type { Run } from '../../store/types.js'
import { JsonView } from './ui.js'

/** The id of the JSON view holding the run's data (its copy button copies it). */
export const RUN_DATA_ID = 'run-data'

export function RunResultSection({ run, active }: { run: Run; active: boolean }) {
  const partial = run.status !== 'succeeded' && run.data !== null && run.data !== undefined
  const note = run.status === 'succeeded' ? null : partial ? (active ? 'Partial result so far.' : `Partial result: the run ${run.status === 'pending' ? 'waits to retry' : run.status}.`) : active ? 'Not finished yet.' : 'No result.'
  return (
    <div id="run-result" data-partial={partial ? '' : undefined} data-live={active ? '' : undefined}>
      {note === null ? null : (
        <p class={partial ? 'faint' : 'empty'} data-result-note="">
          {note}
        </p>
      )}
      {run.status === 'succeeded' || partial ? (
        <JsonView value={run.data} id={RUN_DATA_ID} />
      ) : active ? (
        // Shown by the client once the handler sets a partial result.
        <div hidden data-result-box="">
          <JsonView value={{}} id={RUN_DATA_ID} />
        </div>
      ) : null}
    </div>
  )
}
