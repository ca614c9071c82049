// taskengine admin — the one client script. Pages work without it; it adds live updates,
// keyboard shortcuts, the theme switch, confirmations and small conveniences.
// Everything from the server is inserted as text (textContent), never as HTML.
'use strict'
;(() => {
  const $ = (selector, root = document) => root.querySelector(selector)
  const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector))
  const meta = (name) => $(`meta[name="${name}"]`)?.getAttribute('content') ?? ''
  const base = meta('te-base')
  const admin = meta('te-admin')
  const el = (tag, className, text) => {
    const node = document.createElement(tag)
    if (className) node.className = className
    if (text !== undefined) node.textContent = text
    return node
  }

  // ─── Theme ──────────────────────────────────────────────────────────────
  const storedTheme = localStorage.getItem('te-theme')
  if (storedTheme === 'dark' || storedTheme === 'light') document.documentElement.dataset.theme = storedTheme
  $('#theme-toggle')?.addEventListener('click', () => {
    const dark = document.documentElement.dataset.theme === 'dark' || (!document.documentElement.dataset.theme && matchMedia('(prefers-color-scheme: dark)').matches)
    const next = dark ? 'light' : 'dark'
    document.documentElement.dataset.theme = next
    localStorage.setItem('te-theme', next)
  })

  // ─── Keyboard ───────────────────────────────────────────────────────────
  let pendingG = false
  document.addEventListener('keydown', (event) => {
    const target = event.target
    if (event.ctrlKey || event.metaKey || event.altKey) return
    if (target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement || target?.isContentEditable) {
      if (event.key === 'Escape') target.blur()
      return
    }
    if (pendingG) {
      pendingG = false
      const link = $(`[data-key="g ${event.key}"]`)
      if (link) {
        event.preventDefault()
        link.click()
      }
      return
    }
    if (event.key === 'g') {
      pendingG = true
      setTimeout(() => (pendingG = false), 1200)
    } else if (event.key === '/') {
      const search = $('[data-key="/"]')
      if (search) {
        event.preventDefault()
        search.focus()
        search.select?.()
      }
    } else if (event.key === '[' || event.key === ']') {
      $(`[data-key="${event.key}"]`)?.click()
    }
  })

  // ─── Relative times ─────────────────────────────────────────────────────
  const relative = (date) => {
    const seconds = Math.round((date.getTime() - Date.now()) / 1000)
    const abs = Math.abs(seconds)
    if (abs < 2) return 'just now'
    const [n, unit] = abs < 60 ? [abs, 's'] : abs < 3600 ? [Math.round(abs / 60), 'min'] : abs < 86400 ? [Math.round(abs / 3600), 'h'] : [Math.round(abs / 86400), 'd']
    return seconds < 0 ? `${n} ${unit} ago` : `in ${n} ${unit}`
  }
  const refreshTimes = () => {
    for (const node of $$('time[data-relative]')) {
      const text = relative(new Date(node.getAttribute('datetime')))
      if (node.textContent !== text) node.textContent = text
    }
  }
  // Every second, so "in 5 s" counts down and "just now" becomes "3 s ago" as it should.
  setInterval(refreshTimes, 1000)

  /** `2026-03-01 02:30:15 (UTC+01:00)`: a time as the viewer's clock shows it. */
  const localTime = (date, seconds) => {
    const pad = (n) => String(n).padStart(2, '0')
    const offset = -date.getTimezoneOffset()
    const sign = offset < 0 ? '-' : '+'
    const zone = `UTC${sign}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`
    const clock = `${pad(date.getHours())}:${pad(date.getMinutes())}${seconds ? `:${pad(date.getSeconds())}` : ''}`
    return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${clock} (${zone})`
  }
  const localTitles = () => {
    for (const node of $$('[data-local-title]')) {
      if (node.dataset.localDone) continue
      node.dataset.localDone = '1'
      node.title = `${node.title} · your time: ${localTime(new Date(node.dataset.localTitle), node.dataset.seconds === 'true')}`
    }
  }
  localTitles()

  // ─── Copy, confirm, select ─────────────────────────────────────────────
  // Delegated, so copy buttons the script adds later work too.
  document.addEventListener('click', async (event) => {
    const button = typeof event.target?.closest === 'function' ? event.target.closest('[data-copy]') : null
    if (!button) return
    const source = document.getElementById(button.dataset.copy)
    try {
      await navigator.clipboard.writeText(source?.textContent ?? '')
      button.lastChild.textContent = ' Copied'
    } catch {
      button.lastChild.textContent = ' Copy failed'
    }
    setTimeout(() => (button.lastChild.textContent = ' Copy'), 1500)
  })

  for (const form of $$('form')) {
    form.addEventListener('submit', (event) => {
      const question = event.submitter?.dataset.confirm ?? form.dataset.confirm
      if (!question) return
      if (!window.confirm(question)) {
        event.preventDefault()
        return
      }
      // Confirmed here: the server need not ask again. (getAttribute: the form has inputs
      // named "id", which shadow form.id.)
      if (form.getAttribute('id') === 'bulk-form' && !$('input[name="te:confirm"]', form)) {
        const confirmed = el('input')
        confirmed.type = 'hidden'
        confirmed.name = 'te:confirm'
        confirmed.value = 'yes'
        form.append(confirmed)
      }
    })
  }

  const selectAll = $('#select-all')
  const boxes = () => $$('#runs-table tbody input[type="checkbox"][name="id"]')
  const updateSelection = () => {
    const chosen = boxes().filter((box) => box.checked)
    const count = $('#selected-count')
    if (count) count.textContent = `${chosen.length} selected`
    for (const box of boxes()) box.closest('tr')?.classList.toggle('selected', box.checked)
  }
  selectAll?.addEventListener('change', () => {
    for (const box of boxes()) box.checked = selectAll.checked
    updateSelection()
  })
  for (const box of boxes()) box.addEventListener('change', updateSelection)

  const cardFilter = $('[data-filter-cards]')
  cardFilter?.addEventListener('input', () => {
    const q = cardFilter.value.trim().toLowerCase()
    for (const card of $$(cardFilter.dataset.filterCards)) card.hidden = q !== '' && !(card.dataset.search ?? '').includes(q)
    for (const section of $$('.task-groups > section')) section.hidden = $$('.task-card', section).every((card) => card.hidden)
  })

  // ─── Rendering helpers ─────────────────────────────────────────────────
  const statusPill = (status) => {
    const pill = el('span', `status status-${status}`, status)
    pill.dataset.status = status
    return pill
  }
  const formatDuration = (ms) => {
    if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`
    if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`
    if (ms < 3600000) return `${Math.floor(ms / 60000)} min ${Math.round((ms % 60000) / 1000)} s`
    return `${Math.floor(ms / 3600000)} h ${Math.round((ms % 3600000) / 60000)} min`
  }
  /** JSON as a collapsible tree, like the server's JsonView (text nodes only). */
  const jsonNode = (value, depth, name) => {
    const key = () => (name === undefined ? [] : [el('span', 'k', `${JSON.stringify(name)}: `)])
    const row = (className, text) => {
      const node = el('div', 'row')
      node.append(...key(), el('span', className, text))
      return node
    }
    if (value === null) return row('z', 'null')
    if (typeof value === 'string') return row('s', JSON.stringify(value))
    if (typeof value === 'number') return row('n', String(value))
    if (typeof value === 'boolean') return row('b', String(value))
    const array = Array.isArray(value)
    const entries = array ? value.map((v) => [undefined, v]) : Object.entries(value)
    const [open, close] = array ? ['[', ']'] : ['{', '}']
    if (entries.length === 0) return row('z', open + close)
    const details = el('details')
    details.open = depth < 2
    const summary = el('summary')
    const noun = array ? 'item' : 'key'
    summary.append(...key(), `${open} `, el('span', 'faint', `${entries.length} ${noun}${entries.length === 1 ? '' : 's'}`))
    details.append(summary, ...entries.map(([k, v]) => jsonNode(v, depth + 1, k)), el('div', 'row', close))
    return details
  }
  const fillJson = (id, value) => {
    const text = JSON.stringify(value ?? null, null, 2) ?? 'null'
    const pre = document.getElementById(id)
    if (pre) pre.textContent = text
    $(`[data-json-tree="${id}"]`)?.replaceChildren(jsonNode(JSON.parse(text), 0))
  }
  const appendLog = (terminal, entry) => {
    const last = Number(terminal.dataset.lastSeq || '0')
    if (entry.seq <= last) return false
    terminal.dataset.lastSeq = String(entry.seq)
    const line = el('div', 'line')
    line.dataset.seq = String(entry.seq)
    const time = typeof entry.time === 'string' ? entry.time : new Date(entry.time).toISOString()
    const t = el('span', 't', time.slice(11, 19))
    t.title = time
    line.append(t, el('span', `lv lv-${entry.level}`, entry.level), el('span', 'msg', entry.message))
    terminal.append(line)
    while (terminal.childElementCount > 10000) terminal.firstElementChild.remove()
    const counter = terminal.parentElement?.querySelector('[data-log-count]')
    if (counter) {
      counter.textContent = String(terminal.childElementCount)
      if (counter.nextSibling) counter.nextSibling.textContent = terminal.childElementCount === 1 ? ' line' : ' lines'
    }
    const follow = $(`[data-follow="${terminal.id}"]`)
    if (!follow || follow.checked) terminal.scrollTop = terminal.scrollHeight
    return true
  }
  const setProgress = (container, progress) => {
    if (!container || !progress) return
    container.hidden = false
    for (const note of $$('[data-no-progress]', container.parentElement)) note.hidden = true
    const bar = $('progress', container)
    if (bar && typeof progress.percent === 'number') {
      bar.value = Math.round(progress.percent)
      bar.textContent = `${Math.round(progress.percent)}%`
    }
    const part = (name, text) => {
      const node = $(`[data-part="${name}"]`, container)
      if (node) node.textContent = text
    }
    part('percent', typeof progress.percent === 'number' ? `${Math.floor(progress.percent)}%` : '')
    part('steps', progress.step !== undefined && progress.steps !== undefined ? `${progress.step}/${progress.steps}` : '')
    part('message', progress.message ?? '')
  }
  for (const terminal of $$('.terminal')) terminal.scrollTop = terminal.scrollHeight

  // ─── Live stream (GET /api/stream) ──────────────────────────────────────
  const liveState = $('#live-state')
  const setLive = (state, text) => {
    if (!liveState) return
    liveState.dataset.state = state
    liveState.textContent = text
  }
  // On the live task page the indicator shows the live view's own socket: that run dies with
  // it, so its "disconnected" is the page's final word, not the stream's next reconnect attempt.
  const liveViewOwnsIndicator = $('#live-run') !== null

  /** One connection with resumable subscriptions: reconnects with backoff and catches up. */
  const stream = (() => {
    const subs = new Map()
    let socket
    let epoch
    let delay = 500
    let opened = false
    let up = false
    const show = (state, text) => {
      if (!liveViewOwnsIndicator) setLive(state, text)
    }
    const url = () => `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${base}/api/stream`
    const send = (message) => {
      if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message))
    }
    const subscribe = (id, sub) => {
      const message = { type: 'subscribe', id, filter: sub.filter }
      if (sub.lastSeq !== undefined && epoch !== undefined) Object.assign(message, { after: sub.lastSeq, epoch })
      if (sub.logsAfter !== undefined) message.logsAfter = sub.logsAfter()
      send(message)
    }
    const connect = () => {
      socket = new WebSocket(url())
      socket.addEventListener('open', () => {
        opened = true
        up = true
        delay = 500
        show('live', 'live')
      })
      socket.addEventListener('message', (message) => {
        let data
        try {
          data = JSON.parse(message.data)
        } catch {
          return
        }
        if (data.type === 'hello') {
          for (const [id, sub] of subs) subscribe(id, sub)
          epoch = data.epoch
          return
        }
        const sub = subs.get(data.id)
        if (!sub) return
        if (data.type === 'event') {
          sub.lastSeq = data.seq
          sub.onEvent(data.event)
        } else if (data.type === 'logs') sub.onLogs?.(data.logs)
        else if (data.type === 'run') sub.onRun?.(data.run)
        else if (data.type === 'gap') sub.onGap?.()
        else if (data.type === 'subscribed' && sub.lastSeq === undefined) sub.lastSeq = data.seq
      })
      socket.addEventListener('close', (event) => {
        up = false
        show('stale', event.code === 4008 ? 'behind — reconnecting' : opened ? 'reconnecting…' : 'offline')
        setTimeout(connect, delay)
        delay = Math.min(10000, delay * 2)
      })
    }
    return {
      /** Whether the stream is connected now (the indicator may be showing another socket). */
      get up() {
        return up
      },
      add(id, sub) {
        subs.set(id, sub)
        if (!socket) connect()
        else subscribe(id, sub)
      },
    }
  })()

  // Run rows anywhere on the page: keep status and progress current.
  /** Run objects anywhere in a page's JSON (runs lists, recent runs, pools), by id. */
  const collectRuns = (value, out = new Map(), depth = 0) => {
    if (depth > 8 || value === null || typeof value !== 'object') return out
    if (!Array.isArray(value) && typeof value.id === 'string' && typeof value.status === 'string' && typeof value.task === 'string' && Array.isArray(value.attempts)) out.set(value.id, value)
    for (const child of Array.isArray(value) ? value : Object.values(value)) collectRuns(child, out, depth + 1)
    return out
  }
  const setRowProgress = (row, percent) => {
    const cell = $('[data-cell="progress"]', row)
    if (!cell || typeof percent !== 'number') return
    const bar = el('progress')
    bar.max = 100
    bar.value = Math.round(percent)
    cell.replaceChildren(bar)
  }
  const updateRow = (row, run) => {
    $('[data-cell="status"]', row)?.replaceChildren(statusPill(run.status))
    setRowProgress(row, run.progress?.percent)
    const attempt = $('[data-cell="attempt"]', row)
    if (attempt) attempt.textContent = `${run.attempt}/${run.maxAttempts + run.attemptBase}`
    const took = $('[data-cell="took"]', row)
    if (took) took.textContent = run.startedAt && run.finishedAt ? formatDuration(new Date(run.finishedAt).getTime() - new Date(run.startedAt).getTime()) : ''
    const error = $('[data-cell="error"]', row)
    if (error) {
      error.textContent = run.error?.message ?? ''
      error.title = run.error?.message ?? ''
    }
  }
  const asData = (href) => {
    const url = new URL(href, location.href)
    url.searchParams.set('format', 'json')
    return url
  }
  /** After a gap in the stream (the server restarted, or we fell behind): read the rows' state again. */
  const reloadRows = async () => {
    try {
      const response = await fetch(asData(location.href), { headers: { accept: 'application/json' } })
      if (!response.ok) return
      const runs = collectRuns(await response.json())
      for (const row of $$('tr[data-run-id]')) {
        const run = runs.get(row.dataset.runId)
        if (run) updateRow(row, run)
      }
    } catch {
      // Offline again: the next reconnect brings another gap and another try.
    }
  }

  // The runs list's banner counts only new runs that match the page's filter.
  const newRuns = $('#new-runs')
  const pageFilter = newRuns ? JSON.parse(newRuns.dataset.filter || '{}') : {}
  const STATUS_AFTER = { started: 'running', resumed: 'running', waiting: 'waiting', retrying: 'pending', retried: 'pending', succeeded: 'succeeded', failed: 'failed', cancelled: 'cancelled' }
  let countTimer
  const countNewRuns = async () => {
    try {
      const response = await fetch(newRuns.dataset.src, { headers: { accept: 'application/json' } })
      if (!response.ok) return
      const found = await response.json()
      const shown = new Set($$('tr[data-run-id]').map((row) => row.dataset.runId))
      const fresh = Math.max(0, found.total - found.data.filter((run) => shown.has(run.id)).length)
      newRuns.dataset.count = String(fresh)
      $('[data-part="text"]', newRuns).textContent = fresh === 1 ? '1 new run matches this page.' : `${fresh} new runs match this page.`
    } catch {
      // The banner is a hint; the page's own reload shows the same.
    }
  }
  /** Whether an event may add a run to this page's filter; the server's count then decides. */
  const mayBeNew = (event) => {
    const f = pageFilter
    if ((f.task && event.task !== f.task) || (f.pool && event.poolId !== f.pool)) return false
    if (event.type === 'created') {
      const run = event.run
      return (!f.status || run.status === f.status) && (!f.queue || run.queue === f.queue) && (!f.label || run.label === f.label) && (!f.tag || run.tags.includes(f.tag)) && (!f.createdBy || run.createdBy === f.createdBy)
    }
    return Boolean(f.status) && STATUS_AFTER[event.type] === f.status
  }
  const rows = $$('tr[data-run-id]')
  if (rows.length > 0 || newRuns) {
    stream.add('rows', {
      // The page's task or pool filter holds for its rows too, so the server may filter.
      filter: pageFilter.task ? { task: pageFilter.task } : pageFilter.pool ? { poolId: pageFilter.pool } : {},
      onGap() {
        void reloadRows()
        if (newRuns) void countNewRuns()
      },
      onEvent(event) {
        if (newRuns && mayBeNew(event)) {
          clearTimeout(countTimer)
          countTimer = setTimeout(countNewRuns, 250)
        }
        for (const row of $$(`tr[data-run-id="${event.runId}"]`)) {
          const status = event.type === 'created' ? undefined : STATUS_AFTER[event.type]
          if (status) $('[data-cell="status"]', row)?.replaceChildren(statusPill(status))
          if (event.type === 'progress') setRowProgress(row, event.progress.percent)
        }
      },
    })
  }

  // The run page: live log tail with follow, progress, status.
  const runPage = $('#run-page')
  if (runPage) {
    const runId = runPage.dataset.runId
    const terminal = $('#run-log')
    const statusCell = $('[data-cell="status"]', runPage)
    let reloading = false
    const finish = (status) => {
      if (reloading || status === runPage.dataset.status) return
      reloading = true
      // The final state (result, attempts, timeline) is rendered by the server.
      setTimeout(() => location.reload(), 400)
    }
    stream.add('run', {
      filter: { runId },
      logsAfter: () => Number(terminal?.dataset.lastSeq || '0'),
      onLogs(logs) {
        for (const entry of logs) appendLog(terminal, entry)
      },
      onGap() {
        // Events were missed (the server restarted): the stored run says where it is now.
        void (async () => {
          try {
            const response = await fetch(`${base}/api/runs/${encodeURIComponent(runId)}`, { headers: { accept: 'application/json' } })
            if (!response.ok) return
            const run = await response.json()
            if (run.status !== runPage.dataset.status) finish(run.status)
          } catch {
            // Offline again: the next reconnect tries again.
          }
        })()
      },
      onRun(run) {
        // A snapshot from the store (the run executes in another process).
        setProgress($('#run-progress'), run.progress)
        statusCell?.replaceChildren(statusPill(run.status))
        if (['succeeded', 'failed', 'cancelled'].includes(run.status) || run.status !== runPage.dataset.status) finish(run.status)
      },
      onEvent(event) {
        if (event.type === 'waiting' || event.type === 'resumed') {
          const item = el('li', event.type === 'waiting' ? 'wait' : 'run')
          const when = el('div', 'when')
          const time = el('time', '', relative(new Date(event.time)))
          time.dateTime = event.time
          time.dataset.relative = ''
          when.append(time, ` · ${String(event.time).replace('T', ' ').slice(0, 23)} UTC`)
          item.append(el('div', '', event.type === 'waiting' ? 'waiting on its pool' : 'resumed'), when)
          $('#run-timeline')?.append(item)
        }
        if (event.type === 'log') appendLog(terminal, event.entry)
        else if (event.type === 'progress') setProgress($('#run-progress'), event.progress)
        else if (event.type === 'started' || event.type === 'resumed') statusCell?.replaceChildren(statusPill('running'))
        else if (event.type === 'waiting') statusCell?.replaceChildren(statusPill('waiting'))
        else if (['succeeded', 'failed', 'cancelled'].includes(event.type)) {
          statusCell?.replaceChildren(statusPill(event.type))
          finish(event.type)
        } else if (event.type === 'retrying') {
          statusCell?.replaceChildren(statusPill('pending'))
          finish('pending')
        }
      },
    })
  }

  // Parts of a page that refresh in place (the overview's counts, chart, queues, workers,
  // failures): the page is fetched again and each part swapped for its new self. The markup is
  // the server's own page, escaped by construction, the same as a reload would show.
  const regions = $$('[data-live-region]')
  if (regions.length > 0) {
    const every = Number(regions[0].dataset.liveEvery) || 10000
    const refreshRegions = async () => {
      if (document.visibilityState !== 'visible') return
      try {
        const response = await fetch(location.href, { headers: { accept: 'text/html' } })
        if (!response.ok) throw new Error(String(response.status))
        const fresh = new DOMParser().parseFromString(await response.text(), 'text/html')
        for (const region of $$('[data-live-region]')) {
          // Not under the user's hands: a focused switch or field stays as it is until next time.
          if (region.contains(document.activeElement) && document.activeElement !== document.body) continue
          const next = $(`[data-live-region="${region.dataset.liveRegion}"]`, fresh)
          if (next) region.replaceWith(document.importNode(next, true))
          else region.classList.remove('stale')
        }
        refreshTimes()
        localTitles()
      } catch {
        for (const region of $$('[data-live-region]')) region.classList.add('stale')
      }
    }
    // Soon after runs are created or finish (at most about once a second), and every few
    // seconds anyway for what has no event (heartbeats, due times).
    let regionTimer
    const refreshSoon = () => {
      if (regionTimer !== undefined) return
      regionTimer = setTimeout(() => {
        regionTimer = undefined
        void refreshRegions()
      }, 700)
    }
    const REFRESH_ON = new Set(['created', 'started', 'succeeded', 'failed', 'cancelled', 'deleted', 'retried'])
    stream.add('regions', {
      filter: {},
      onGap: refreshSoon,
      onEvent(event) {
        if (REFRESH_ON.has(event.type)) refreshSoon()
      },
    })
    setInterval(refreshRegions, every)
  }

  // The header menu: the user's active and recent runs.
  const menu = $('#my-runs')
  if (menu) {
    const panel = $('.menu-panel', menu)
    const fill = (list, runs) => {
      list.replaceChildren()
      if (runs.length === 0) list.append(el('li', 'faint', 'none'))
      for (const run of runs) {
        const link = el('a')
        link.href = `${admin}/runs/${run.id}`
        link.append(statusPill(run.status), el('span', '', `${run.task} · ${run.label}`))
        const item = el('li')
        item.append(link)
        list.append(item)
      }
    }
    /** My runs' ids in the menu: changes to them (not only new runs) refresh it. */
    let mine = new Set()
    const load = async () => {
      try {
        const response = await fetch(panel.dataset.src, { headers: { accept: 'application/json' } })
        if (!response.ok) return
        const data = await response.json()
        fill($('[data-list="active"]', panel), data.active)
        fill($('[data-list="recent"]', panel), data.recent)
        const badge = $('#my-active-count')
        badge.textContent = String(data.activeTotal)
        badge.dataset.count = String(data.activeTotal)
        mine = new Set([...data.active, ...data.recent].map((run) => run.id))
      } catch {
        // The menu is a convenience; the runs page has the same information.
      }
    }
    // Live: the stream says when one of my runs is created, starts or finishes. Only when the
    // stream is down does a slow poll stand in for it.
    const user = menu.dataset.user
    let soonTimer
    const soon = () => {
      clearTimeout(soonTimer)
      soonTimer = setTimeout(() => void load(), 250)
    }
    const CHANGES = new Set(['started', 'waiting', 'resumed', 'retrying', 'retried', 'deleted', 'succeeded', 'failed', 'cancelled'])
    stream.add('mine', {
      filter: {},
      onGap: soon,
      onEvent(event) {
        if (event.type === 'created' ? event.run.createdBy === user : CHANGES.has(event.type) && mine.has(event.runId)) soon()
      },
    })
    void load()
    setInterval(() => {
      if (!stream.up) void load()
    }, 60000)
    menu.addEventListener('toggle', () => menu.open && void load())
  }

  // ─── Live task view (GET /admin/task/:key/start over WebSocket) ─────────
  const live = $('#live-run')
  if (live) {
    const terminal = $('#live-log')
    let status = $('#live-status')
    const setStatus = (text, state) => {
      const pill = statusPill(state)
      pill.textContent = text
      pill.id = 'live-status'
      status.replaceWith(pill)
      status = pill
    }
    const socket = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${live.dataset.socket}`)
    let done = false
    const showError = (error) => {
      const card = $('#live-error')
      card.hidden = false
      $('[data-part="message"]', card).textContent = error.message
      $('[data-part="code"]', card).textContent = error.code ?? ''
      const stack = $('[data-part="stack"]', card)
      stack.hidden = !error.stack
      if (error.stack) {
        $('[data-part="name"]', card).textContent = error.name ?? 'Error'
        $('[data-part="stack-text"]', card).textContent = error.stack
      }
    }
    socket.addEventListener('open', () => setLive('live', 'live'))
    socket.addEventListener('message', (message) => {
      const data = JSON.parse(message.data)
      if (data.cmd === 'started') {
        status.textContent = 'running'
        live.dataset.runId = data.param.runId
      } else if (data.cmd === 'output') appendLog(terminal, { seq: data.param.seq, level: data.param.level, message: data.param.msg, time: data.param.time })
      else if (data.cmd === 'progress') setProgress($('#live-progress'), data.param)
      else if (data.cmd === 'complete') {
        done = true
        const result = data.param.result
        setStatus(result.status, result.status)
        if (result.progress) setProgress($('#live-progress'), result.progress)
        terminal.classList.add('terminal-done')
        const box = $('#live-result')
        box.hidden = false
        const part = (name, ...nodes) => $(`[data-part="${name}"]`, box).replaceChildren(...nodes)
        part('status', statusPill(result.status))
        part('id', el('span', '', result.id))
        part('label', el('span', '', result.label))
        const started = el('time', '', relative(new Date(result.startedAt)))
        started.dateTime = result.startedAt
        started.dataset.relative = ''
        started.title = result.startedAt
        part('started', started, el('span', 'faint', ` ${result.startedAt}`))
        part('duration', el('span', '', formatDuration(result.durationMs)))
        part('tags', ...(result.tags.length === 0 ? [el('span', 'faint', 'none')] : result.tags.map((tag) => el('span', 'tag', tag))))
        if (result.data === undefined && result.status !== 'succeeded') {
          $('[data-json-tree="live-data"]').closest('.json').replaceWith(el('p', 'empty', `No result: the run ${result.status}.`))
        } else fillJson('live-data', result.data ?? null)
        if (result.error) showError(result.error)
        $('#live-actions').hidden = false
        const sub = $('#live-sub')
        if (sub) sub.textContent = `The run ${result.status} after ${formatDuration(result.durationMs)}. It executed in this server process, so it is not kept in the runs list.`
        setLive('off', 'finished')
      } else if (data.cmd === 'error') {
        done = true
        setStatus(data.param.code === 'ERR_TICKET' || data.param.code === 'ERR_CONFIRMATION_REQUIRED' ? 'not started' : 'failed', 'failed')
        $('#live-result').hidden = false
        $('.grid', $('#live-result')).hidden = true
        showError({ message: data.param.message, code: data.param.code ?? 'ERR_START' })
        setLive('off', 'not started')
      }
    })
    socket.addEventListener('close', () => {
      if (done) return
      // The run lives in the server process and is cancelled with its socket: there is nothing
      // to reconnect to. Say so plainly instead of pretending to wait.
      setLive('stale', 'disconnected')
      setStatus('interrupted', 'cancelled')
      $('#live-interrupted').hidden = false
      $('#live-actions').hidden = false
    })
  }
})()
