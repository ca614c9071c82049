/**
 * The component schemas of the OpenAPI document (`openapi.ts`): the shapes of runs, tasks,
 * schedules, settings, workers, flow, users, audit entries and errors the API answers with.
 */
import { ERROR_CATALOG, type ErrorCode } from '../../errors.js'
import { RUN_STATES } from '../../store/types.js'
import { FIELD_TYPES } from '../../task/fields.js'

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` })
/** The codes the API answers with: those of the catalog that have an HTTP status. */
const API_ERROR_CODES = (Object.keys(ERROR_CATALOG) as ErrorCode[]).filter((code) => ERROR_CATALOG[code].status !== null)

/** An enqueue's debounce or throttle: a key (per task) and a window in ms. */
const KEY_WINDOW = {
  type: 'object',
  required: ['key', 'ms'],
  additionalProperties: false,
  properties: { key: { type: 'string', minLength: 1, maxLength: 200 }, ms: { type: 'integer', minimum: 1, maximum: 86_400_000 } },
}

export const SCHEMAS: Record<string, unknown> = {
    Error: {
      type: 'object',
      required: ['error'],
      properties: {
        error: {
          type: 'object',
          required: ['code', 'message'],
          properties: {
            code: { type: 'string', enum: API_ERROR_CODES, description: API_ERROR_CODES.map((code) => `${code} (${ERROR_CATALOG[code].status}): ${ERROR_CATALOG[code].meaning}`).join('; ') },
            message: { type: 'string' },
            fields: { type: 'array', items: { type: 'object', properties: { key: { type: 'string' }, expected: { type: 'string' }, received: { type: ['string', 'null'] }, message: { type: 'string' }, origin: { type: 'string', enum: ['validate'], description: "the task's own validate reported it; key '' = the arguments as a whole" } } } },
          },
        },
      },
    },
    Field: {
      type: 'object',
      properties: {
        key: { type: 'string' },
        title: { type: 'string' },
        description: { type: 'string' },
        type: { type: 'string', enum: [...FIELD_TYPES], description: 'int64 values (arguments, default, min, max) are decimal strings, exact beyond 2^53' },
        required: { type: 'boolean' },
        default: {},
        choices: { type: 'array' },
        min: { type: ['number', 'string'] },
        max: { type: ['number', 'string'] },
      },
    },
    Task: {
      type: 'object',
      properties: {
        key: { type: 'string' },
        title: { type: 'string' },
        category: { type: 'string' },
        icon: { type: 'string' },
        description: { type: 'string' },
        tags: { type: 'array', items: { type: 'string' } },
        dangerous: { type: ['string', 'null'] },
        expensive: { type: 'boolean' },
        webUrl: { type: 'string' },
        maxConcurrent: { type: ['integer', 'null'] },
        concurrency: { type: ['integer', 'null'], description: 'runs executing at once across every worker (limits.concurrency); null: no such limit' },
        timeoutMs: { type: ['integer', 'null'] },
        queue: { type: 'string' },
        fields: { type: 'array', items: ref('Field') },
      },
    },
    RunResult: { type: 'object', description: 'Result of an in-process run: id, task, label, args, status, data, error, logs, tags, progress, artifacts, startedAt, finishedAt, durationMs' },
    Run: {
      type: 'object',
      description: 'A stored run: durable (executed by a worker), or executed in-process and recorded (inProcess)',
      properties: {
        id: { type: 'string' },
        task: { type: 'string' },
        label: { type: 'string' },
        queue: { type: 'string' },
        status: { type: 'string', enum: ['pending', 'running', 'waiting', 'succeeded', 'failed', 'cancelled'] },
        args: { type: 'object' },
        progress: { type: ['object', 'null'] },
        data: {},
        error: { type: ['object', 'null'] },
        attempts: { type: 'array' },
        groupKey: { type: ['string', 'null'], description: "its group under the task's per-key limit (limits.groupBy, or the enqueue's groupKey); null: none" },
        requestId: { type: ['string', 'null'], description: "the client's id of the request that made it (the enqueue's requestId, an AMQP message id), unique among all runs; null: none" },
        inProcess: { type: 'boolean', description: 'executed in-process by the process that started it (the admin UI, taskengine run --store, engine.run with record), never by a worker' },
        startedFrom: { type: ['string', 'null'], description: 'where an in-process run was started: admin, admin-live, cli, engine, or a name its caller gave; null for durable runs' },
        createdAt: { type: 'string', format: 'date-time' },
        startedAt: { type: ['string', 'null'], format: 'date-time' },
        finishedAt: { type: ['string', 'null'], format: 'date-time' },
        unserved: {
          description:
            'GET /api/runs/{id} only: for a pending run no live worker serves (none registered its task, serves its queue and has a heartbeat within three heartbeats), since when it waits for one (the later of its runAt and lastSeen), when a worker serving it was last seen (null: never, within the day dead workers are kept), and when unservedAfterMs fails it with ERR_NO_WORKER (null: off); null otherwise',
          oneOf: [
            {
              type: 'object',
              properties: { since: { type: 'string', format: 'date-time' }, lastSeen: { type: ['string', 'null'], format: 'date-time' }, failsAt: { type: ['string', 'null'], format: 'date-time' } },
            },
            { type: 'null' },
          ],
        },
      },
    },
    UnservedTask: {
      type: 'object',
      description: 'A task with pending runs on a queue that no live worker serves',
      properties: {
        task: { type: 'string' },
        queue: { type: 'string' },
        pending: { type: 'integer', description: 'its pending runs on the queue, due or not' },
        oldestRunAt: { type: 'string', format: 'date-time', description: 'the earliest runAt among them' },
        lastSeen: { type: ['string', 'null'], format: 'date-time', description: 'the last heartbeat of a worker that served the task on the queue; null: never (within the day dead workers are kept)' },
      },
    },
    RunPage: {
      type: 'object',
      properties: {
        data: { type: 'array', items: ref('Run') },
        total: { type: 'integer' },
        totalCapped: { type: 'boolean', description: 'total stopped at countLimit: at least that many match' },
        scanBefore: { type: 'string', description: 'With scanLimit, when older runs were not examined: pass as before to go on' },
        page: { type: 'integer' },
        pageSize: { type: 'integer' },
      },
    },
    Schedule: {
      type: 'object',
      properties: {
        id: { type: 'string' },
        name: { type: 'string' },
        description: { type: 'string' },
        cron: { type: 'string' },
        timezone: { type: 'string' },
        task: { type: 'string' },
        enabled: { type: 'boolean' },
        overlap: { type: 'boolean' },
        catchUp: { type: 'integer' },
        expireAtNextTick: { type: 'boolean' },
        nextRunAt: { type: ['string', 'null'], format: 'date-time' },
        lastTickAt: { type: ['string', 'null'], format: 'date-time' },
        lastRun: { oneOf: [ref('Run'), { type: 'null' }] },
      },
    },
    User: {
      type: 'object',
      properties: {
        name: { type: 'string' },
        role: { type: 'string' },
        roleKnown: { type: 'boolean' },
        hasPassword: { type: 'boolean' },
        disabledAt: { type: ['string', 'null'], format: 'date-time' },
        createdAt: { type: 'string', format: 'date-time' },
        updatedAt: { type: 'string', format: 'date-time' },
        createdBy: { type: ['string', 'null'] },
      },
    },
    UserToken: {
      type: 'object',
      properties: {
        id: { type: 'string' },
        user: { type: 'string' },
        name: { type: 'string' },
        createdAt: { type: 'string', format: 'date-time' },
        expiresAt: { type: ['string', 'null'], format: 'date-time' },
        lastUsedAt: { type: ['string', 'null'], format: 'date-time' },
        revokedAt: { type: ['string', 'null'], format: 'date-time' },
        createdBy: { type: ['string', 'null'] },
      },
    },
    AuditEntry: {
      type: 'object',
      properties: {
        id: { type: 'string' },
        at: { type: 'string', format: 'date-time' },
        actor: { type: 'string' },
        actorKind: { type: 'string', enum: ['user', 'token', 'shared-token', 'anonymous', 'cli', 'host', 'amqp'] },
        tokenName: { type: ['string', 'null'] },
        via: { type: 'string' },
        address: { type: ['string', 'null'] },
        userAgent: { type: ['string', 'null'] },
        action: { type: 'string' },
        target: { type: ['string', 'null'] },
        before: {},
        after: {},
        details: {},
      },
    },
    Settings: {
      type: 'object',
      additionalProperties: false,
      properties: {
        workerConcurrency: { type: ['integer', 'null'], minimum: 1, maximum: 10000 },
        runRetentionDays: { type: 'integer', minimum: 0, maximum: 36500 },
        logRetentionDays: { type: 'integer', minimum: 0, maximum: 36500 },
        rollupRetentionDays: { type: 'integer', minimum: 0, maximum: 36500 },
        auditRetentionDays: { type: 'integer', minimum: 0, maximum: 36500 },
        defaultMaxAttempts: { type: 'integer', minimum: 1, maximum: 1000 },
        logBackend: { type: 'string' },
      },
    },
    RateLimit: {
      type: 'object',
      required: ['max', 'perMs'],
      additionalProperties: false,
      description: 'at most max starts per perMs ms (a sliding window), across every worker',
      properties: { max: { type: 'integer', minimum: 1, maximum: 1_000_000 }, perMs: { type: 'integer', minimum: 1, maximum: 86_400_000 } },
    },
    QueuePatch: {
      type: 'object',
      additionalProperties: false,
      description: 'A live change to limits across workers: a value sets a limit, null removes it (also one set in code), a key left out keeps what holds now',
      properties: {
        concurrency: { type: ['integer', 'null'], minimum: 1, maximum: 1_000_000, description: 'runs executing at once across every worker' },
        rate: { oneOf: [ref('RateLimit'), { type: 'null' }] },
        paused: { type: 'boolean', description: 'true: workers start none of its runs (running ones finish, pending ones wait); false: resume' },
      },
    },
    TaskPatch: {
      type: 'object',
      additionalProperties: false,
      description: 'A QueuePatch for a task, with groupConcurrency',
      properties: {
        concurrency: { type: ['integer', 'null'], minimum: 1, maximum: 1_000_000 },
        rate: { oneOf: [ref('RateLimit'), { type: 'null' }] },
        groupConcurrency: { type: ['integer', 'null'], minimum: 1, maximum: 1_000_000, description: 'runs of one group key executing at once' },
        paused: { type: 'boolean' },
      },
    },
    QueueLimits: {
      type: 'object',
      description: 'The limits that hold now for a queue',
      properties: { name: { type: 'string' }, concurrency: { type: ['integer', 'null'] }, rate: { oneOf: [ref('RateLimit'), { type: 'null' }] }, paused: { type: 'boolean' } },
    },
    TaskLimits: {
      type: 'object',
      description: 'The limits that hold now for a task',
      properties: {
        task: { type: 'string' },
        concurrency: { type: ['integer', 'null'] },
        rate: { oneOf: [ref('RateLimit'), { type: 'null' }] },
        groupConcurrency: { type: ['integer', 'null'] },
        paused: { type: 'boolean' },
      },
    },
    QueueInfo: {
      type: 'object',
      properties: {
        name: { type: 'string' },
        concurrency: { type: ['integer', 'null'] },
        rate: { oneOf: [ref('RateLimit'), { type: 'null' }] },
        paused: { type: 'boolean' },
        tasks: { type: 'array', items: { type: 'string' }, description: 'registered tasks whose runs go here by default' },
        pending: { type: 'integer' },
        running: { type: 'integer' },
        startsInWindow: { type: ['integer', 'null'], description: 'starts in the current rate window; null without a rate limit' },
        oldestPendingAt: { type: ['string', 'null'], format: 'date-time', description: 'when the longest-waiting due run became due' },
        nextDueAt: { type: ['string', 'null'], format: 'date-time' },
      },
    },
    TaskFlowInfo: {
      type: 'object',
      properties: {
        task: { type: 'string' },
        queue: { type: 'string' },
        concurrency: { type: ['integer', 'null'] },
        rate: { oneOf: [ref('RateLimit'), { type: 'null' }] },
        groupConcurrency: { type: ['integer', 'null'] },
        paused: { type: 'boolean' },
        pending: { type: 'integer' },
        running: { type: 'integer' },
        startsInWindow: { type: ['integer', 'null'] },
        groupCount: { type: ['integer', 'null'], description: 'group keys with pending or running runs; null: not grouped' },
        groups: { type: 'array', description: 'the busiest groups (at most 20)', items: { type: 'object', properties: { key: { type: 'string' }, pending: { type: 'integer' }, running: { type: 'integer' } } } },
      },
    },
    FlowReport: { type: 'object', properties: { queues: { type: 'array', items: ref('QueueInfo') }, tasks: { type: 'array', items: ref('TaskFlowInfo') } } },
    EnqueueRequest: {
      type: 'object',
      required: ['task'],
      properties: {
        task: { type: 'string' },
        args: { type: 'object' },
        options: {
          type: 'object',
          properties: {
            label: { type: 'string' },
            queue: { type: 'string' },
            priority: { type: 'integer' },
            runAt: { type: 'string', format: 'date-time' },
            delayMs: { type: 'integer' },
            maxAttempts: { type: 'integer' },
            backoff: { type: 'object' },
            timeoutMs: { type: 'integer' },
            uniqueKey: { type: 'string' },
            requestId: { type: 'string', maxLength: 200, description: "the client's id of this request: a repeat with the same id returns the run it made, whatever its state, instead of adding one" },
            notAfter: { type: 'string', format: 'date-time' },
            category: { type: 'string', enum: ['user', 'system'] },
            tags: { type: 'array', items: { type: 'string' } },
            groupKey: { type: 'string', maxLength: 200, description: "the run's group under the task's limits.groupConcurrency (overrides limits.groupBy)" },
            debounce: { ...KEY_WINDOW, description: 'while a run of the task with this key is pending, replace its arguments and move its start to now + ms instead of adding a run (not with runAt, delayMs or throttle)' },
            throttle: { ...KEY_WINDOW, description: 'within ms of the run that took this key, return that run instead of adding one' },
          },
        },
      },
    },
    WorkerInfo: {
      type: 'object',
      properties: {
        id: { type: 'string' },
        host: { type: 'string' },
        pid: { type: 'integer' },
        concurrency: { type: 'integer', description: '0: a process that only serves live views' },
        busy: { type: 'integer' },
        queues: { type: ['array', 'null'], items: { type: 'string' }, description: 'null: every queue' },
        tasks: { type: 'array', items: { type: 'string' } },
        running: { type: 'array', items: { type: 'string' }, description: 'ids of the runs it holds' },
        startedAt: { type: 'string', format: 'date-time' },
        heartbeatAt: { type: 'string', format: 'date-time' },
        observer: { type: 'boolean' },
        state: { type: 'string', enum: ['active', 'quiet', 'stopping'], description: 'as the worker said at its last heartbeat' },
        command: {
          oneOf: [{ type: 'null' }, { type: 'object', properties: { type: { type: 'string', enum: ['quiet', 'resume', 'stop'] }, by: { type: ['string', 'null'] }, at: { type: 'string', format: 'date-time' } } }],
          description: 'the last command an operator gave it',
        },
      },
    },
    DeadWorker: {
      allOf: [
        ref('WorkerInfo'),
        {
          type: 'object',
          properties: {
            heldTotal: { type: 'integer', description: 'runs it held at its last heartbeat' },
            held: {
              type: 'array',
              description: 'the runs it held (at most 50), with what became of each',
              items: {
                type: 'object',
                properties: {
                  id: { type: 'string' },
                  task: { type: ['string', 'null'] },
                  label: { type: ['string', 'null'] },
                  fate: { type: 'string', enum: ['awaiting-rescue', ...RUN_STATES, 'deleted', 'purged'] },
                  nowOn: { type: ['string', 'null'], description: 'the worker that runs it now or ran its last attempt, when another' },
                  lostAttempt: { type: ['object', 'null'], description: "the dead worker's attempt as the rescue recorded it" },
                },
              },
            },
          },
        },
      ],
    },
}
