/**
 * The admin UI's script, loaded by every page as an ES module (`<script type="module">`,
 * `/admin/assets/client/main.js`; no inline code, so the strict CSP holds). Pages work
 * without it; it adds live updates, keyboard shortcuts, the theme switch, confirmations and
 * small conveniences. Each feature starts only on a page that has its elements.
 */
import { followBulkJob } from './bulk-job.js'
import { initConfirmations } from './confirm.js'
import { initCopyButtons } from './copy.js'
import { initFlowForms } from './flow-forms.js'
import { meta } from './dom.js'
import { initKeyboard } from './keyboard.js'
import { initLogFilter } from './log-filter.js'
import { followLiveRegions } from './live-regions.js'
import { liveViewOwnsIndicator, setLive } from './live-state.js'
import { runLiveTask } from './live-task.js'
import { followMyRuns } from './my-runs.js'
import { NewRunsBanner } from './new-runs.js'
import { scrollTerminalsToEnd } from './render.js'
import { followRunPage } from './run-page.js'
import { followPoolView } from './pool-view.js'
import { followRunRows } from './run-rows.js'
import { initRunsSelection } from './runs-selection.js'
import { LiveStream } from './stream.js'
import { initTaskSearch } from './task-search.js'
import { initTheme } from './theme.js'
import { localTitles, tickTimes } from './times.js'

const base = meta('te-base')
const admin = meta('te-admin')

initTheme()
initKeyboard()
tickTimes()
localTitles()
initCopyButtons()
initConfirmations()
initRunsSelection()
initTaskSearch()
initFlowForms()
scrollTerminalsToEnd()
initLogFilter()

// One stream for the page; it connects when the first feature subscribes. On the live task
// page the indicator belongs to the live view's own socket.
const ownIndicator = !liveViewOwnsIndicator()
const stream = new LiveStream(base, (state, text) => {
  if (ownIndicator) setLive(state, text)
})
followRunRows(stream, NewRunsBanner.find())
followRunPage(stream, base)
followPoolView(stream)
followLiveRegions(stream)
followMyRuns(stream, admin)
runLiveTask()
followBulkJob(stream)
