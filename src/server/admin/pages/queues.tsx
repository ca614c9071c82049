/**
 * Queues (`/admin/queues`): flow control as an operator sees it. Every known queue, idle ones
 * included, with its depth, running runs, oldest due, limits across workers, starts in the rate
 * window and paused state; every task with limits or paused, with its groups. Each can be
 * paused, resumed and given new limits (with `settings:write`), for every worker on the store.
 */
import type { FlowReport, QueueInfo, TaskFlowInfo } from '../../../engine/flow/report.js'
import { can } from '../../auth.js'
import { identity, readScope } from '../../caller.js'
import { LimitsEditor, Limit, PauseButton, RateText, Stat, StateBadge, type FlowEdit } from '../flow-parts.js'
import { Layout, type PageContext } from '../layout.js'
import type { AdminPage } from '../page.js'
import { Time } from '../ui.js'

/** What the page shows. */
export interface QueuesData {
  readonly flow: FlowReport
  /** Registered tasks without limits, which the "limit another task" form offers. */
  readonly unlimited: readonly string[]
  /** Whether the caller may change limits (`settings:write`). */
  readonly canEdit: boolean
}

/** The busiest groups shown per task. */
const GROUPS_SHOWN = 5

/** The page's data (also for the form posts, which show it again with their errors). */
export async function loadQueues(c: Parameters<AdminPage<QueuesData>['load']>[0], engine: Parameters<AdminPage<QueuesData>['load']>[1]['engine']): Promise<QueuesData> {
  readScope(c)
  const { flow } = await engine.stats()
  const limited = new Set(flow.tasks.map((t) => t.task))
  const unlimited = engine
    .list()
    .map((t) => t.key)
    .filter((key) => !limited.has(key))
    .sort()
  return { flow, unlimited, canEdit: can(identity(c), 'settings:write') }
}

export const queuesPage: AdminPage<QueuesData> = {
  load: (c, { engine }) => loadQueues(c, engine),
  // CSV: one row per queue (the tasks are in the JSON, and in `GET /api/flow?format=csv`).
  data: ({ flow }) => ({ value: flow, name: 'queues', rows: (report) => (report as FlowReport).queues }),
  view: ({ page, data }) => <QueuesPage page={page} data={data} />,
}

export function QueuesPage({ page, data, edit }: { page: PageContext; data: QueuesData; edit?: FlowEdit }) {
  const { flow, canEdit } = data
  return (
    <Layout page={page} title="Queues" nav="queues">
      <div class="page-head">
        <div>
          <h1>Queues</h1>
          <p class="sub">
            Limits across every worker on the store. A change applies to every worker within a heartbeat and is stored; pausing holds pending runs back while running ones finish.
          </p>
        </div>
      </div>
      {edit === undefined ? null : (
        <div class="notice notice-bad" role="alert">
          {edit.message}
        </div>
      )}
      <section class="panel" data-live-region="queues" data-live-every="5000" aria-labelledby="queues-h">
        <h2 id="queues-h">Queues</h2>
        {flow.queues.length === 0 ? (
          <p class="empty">No queues yet: they appear once a task names one or runs are in one.</p>
        ) : (
          <div class="flow-list">
            {flow.queues.map((q) => (
              <QueueItem page={page} queue={q} canEdit={canEdit} edit={edit} />
            ))}
          </div>
        )}
      </section>
      <section class="panel" data-live-region="flow-tasks" aria-labelledby="flow-tasks-h">
        <h2 id="flow-tasks-h">Tasks with limits</h2>
        {flow.tasks.length === 0 ? (
          <p class="empty">
            No task has limits across workers or is paused. Give them with <code>defineTask({'{'} limits {'}'})</code>
            {canEdit ? ' or below' : ''}.
          </p>
        ) : (
          <div class="flow-list">
            {flow.tasks.map((t) => (
              <TaskItem page={page} task={t} canEdit={canEdit} edit={edit} />
            ))}
          </div>
        )}
        {canEdit && data.unlimited.length > 0 ? (
          <div class="flow-more">
            <LimitsEditor page={page} target={{ kind: 'task', name: '' }} limits={{ concurrency: null, rate: null, groupConcurrency: null }} edit={edit} tasks={data.unlimited} />
          </div>
        ) : null}
      </section>
    </Layout>
  )
}

/** What a queue and a task with limits both show. */
type FlowFigures = Pick<QueueInfo, 'pending' | 'running' | 'concurrency' | 'rate' | 'startsInWindow'>

/** Pending and running runs (running out of the concurrency limit, if any). */
function RunCounts({ flow }: { flow: FlowFigures }) {
  return (
    <>
      <Stat label="Pending" name="pending">
        {flow.pending}
      </Stat>
      <Stat label="Running" name="running">
        {flow.running}
        {flow.concurrency === null ? null : <span class="faint"> / {flow.concurrency}</span>}
      </Stat>
    </>
  )
}

/** The concurrency and rate limits, and the starts in the rate window. */
function LimitStats({ flow }: { flow: FlowFigures }) {
  return (
    <>
      <Stat label="Concurrency" name="concurrency">
        <Limit value={flow.concurrency} />
      </Stat>
      <Stat label="Rate" name="rate">
        <RateText rate={flow.rate} />
      </Stat>
      <Stat label="Starts in window" name="starts">
        {flow.startsInWindow === null || flow.rate === null ? <span class="faint">—</span> : `${flow.startsInWindow} / ${flow.rate.max}`}
      </Stat>
    </>
  )
}

function QueueItem({ page, queue: q, canEdit, edit }: { page: PageContext; queue: QueueInfo; canEdit: boolean; edit: FlowEdit | undefined }) {
  const target = { kind: 'queue', name: q.name } as const
  return (
    <article class={`flow-item${q.paused ? ' is-paused' : ''}`} data-queue={q.name}>
      <div class="flow-head">
        <div class="flow-name">
          <strong class="mono" data-part="name">
            {q.name}
          </strong>
          <StateBadge paused={q.paused} />
          <span class="faint small">{q.tasks.length === 0 ? 'no task enqueues here by default' : `tasks: ${q.tasks.join(', ')}`}</span>
        </div>
        {canEdit ? <PauseButton page={page} target={target} paused={q.paused} edit={edit} /> : null}
      </div>
      <dl class="flow-stats">
        <RunCounts flow={q} />
        <Stat label="Oldest due" name="oldest">
          <Time date={q.oldestPendingAt} now={page.now} />
        </Stat>
        <Stat label="Next due" name="next">
          <Time date={q.nextDueAt} now={page.now} />
        </Stat>
        <LimitStats flow={q} />
      </dl>
      {canEdit ? <LimitsEditor page={page} target={target} limits={q} edit={edit} /> : null}
    </article>
  )
}

function TaskItem({ page, task: t, canEdit, edit }: { page: PageContext; task: TaskFlowInfo; canEdit: boolean; edit: FlowEdit | undefined }) {
  const target = { kind: 'task', name: t.task } as const
  return (
    <article class={`flow-item${t.paused ? ' is-paused' : ''}`} data-task={t.task}>
      <div class="flow-head">
        <div class="flow-name">
          <a class="mono" data-part="name" href={`${page.admin}/task/${encodeURIComponent(t.task)}`}>
            <strong>{t.task}</strong>
          </a>
          <StateBadge paused={t.paused} />
          <span class="faint small">queue: {t.queue}</span>
        </div>
        {canEdit ? <PauseButton page={page} target={target} paused={t.paused} edit={edit} /> : null}
      </div>
      <dl class="flow-stats">
        <RunCounts flow={t} />
        <LimitStats flow={t} />
        <Stat label="Per group" name="group-concurrency">
          <Limit value={t.groupConcurrency} />
        </Stat>
        <Stat label="Groups" name="groups">
          {t.groupCount === null ? <span class="faint">—</span> : t.groupCount}
        </Stat>
      </dl>
      {t.groups.length === 0 ? null : (
        <div class="flow-groups">
          <span class="faint small">Busiest groups:</span>
          {t.groups.slice(0, GROUPS_SHOWN).map((g) => (
            <span class="tag group" data-group={g.key} title={`${g.key}: ${g.pending} pending, ${g.running} running`}>
              <span class="mono group-key">{g.key}</span> {g.pending} pending · {g.running} running
            </span>
          ))}
          {t.groups.length > GROUPS_SHOWN ? <span class="faint small">+{t.groups.length - GROUPS_SHOWN} more</span> : null}
        </div>
      )}
      {canEdit ? <LimitsEditor page={page} target={target} limits={t} edit={edit} /> : null}
    </article>
  )
}
