/**
 * The OpenAPI 3.1 description of the JSON API, health checks and metrics, and the route that
 * serves it (`GET /api/openapi.json`, or YAML with `?format=yaml` or `Accept: application/yaml`).
 * A test checks that it lists exactly the routes the app serves, and for every route exactly
 * the query parameters it reads (any other is a 400).
 */
import { Hono } from 'hono'
import { ERROR_CATALOG, type ErrorCode } from '../../errors.js'
import { RUN_SORTS, RUN_STATES } from '../../store/types.js'
import { VERSION } from '../../version.js'
import type { ServerEnv } from '../caller.js'
import { respond } from '../formats.js'
import { checkQuery } from '../query.js'
import type { RouteDeps } from './deps.js'

/** The codes the API answers with: those of the catalog that have an HTTP status. */
const API_ERROR_CODES = (Object.keys(ERROR_CATALOG) as ErrorCode[]).filter((code) => ERROR_CATALOG[code].status !== null)

export function openApiRoutes({ basePath }: RouteDeps): Hono<ServerEnv> {
  const routes = new Hono<ServerEnv>()
  routes.get('/openapi.json', (c) => {
    checkQuery(c)
    return respond(c, openApiDocument(basePath, VERSION), { name: 'openapi', formats: ['json', 'yaml'] })
  })
  return routes
}

const json = (schema: object) => ({ 'application/json': { schema } })
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` })
const error = (description: string) => ({ description, content: json(ref('Error')) })
const FORMAT_PARAMS = [
  { name: 'format', in: 'query', description: 'Output format (or use the Accept header)', schema: { type: 'string', enum: ['json', 'csv', 'xml', 'yaml', 'debug'] } },
  { name: 'download', in: 'query', description: 'Answer as a file download', schema: { type: 'boolean' } },
]
/** Statuses, comma-separated or the parameter repeated (`status=failed&status=cancelled`). */
const STATUS_PARAM = {
  name: 'status',
  in: 'query',
  description: 'Statuses: comma-separated, or the parameter repeated. Every other parameter is taken once; a repeat is a 400.',
  style: 'form',
  explode: true,
  schema: { type: 'array', items: { type: 'string', enum: RUN_STATES } },
}
const idParam = (name: string, description: string) => ({ name, in: 'path', required: true, description, schema: { type: 'string' } })
/** An enqueue's debounce or throttle: a key (per task) and a window in ms. */
const KEY_WINDOW = {
  type: 'object',
  required: ['key', 'ms'],
  additionalProperties: false,
  properties: { key: { type: 'string', minLength: 1, maxLength: 200 }, ms: { type: 'integer', minimum: 1, maximum: 86_400_000 } },
}
const ERRORS = {
  '400': error('Invalid input: every bad field is listed'),
  '401': error('Not authenticated'),
  '403': error('Not allowed'),
}

/** The OpenAPI document; `basePath` is where the API is mounted. */
export function openApiDocument(basePath: string, version: string): Record<string, unknown> {
  const get = (summary: string, schema: object, params: object[] = [], extra: Record<string, unknown> = {}) => ({
    get: { summary, parameters: [...params, ...FORMAT_PARAMS], responses: { '200': { description: 'OK', content: json(schema) }, ...ERRORS, ...extra } },
  })
  return {
    openapi: '3.1.0',
    info: { title: 'taskengine API', version, description: 'Tasks are definitions; runs are executions. Errors: { error: { code, message, fields? } }.' },
    servers: [{ url: basePath === '' ? '/' : basePath }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'Required when the server has a token (always off loopback)' } },
      schemas: {
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
                fields: { type: 'array', items: { type: 'object', properties: { key: { type: 'string' }, expected: { type: 'string' }, received: { type: ['string', 'null'] }, message: { type: 'string' } } } },
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
            type: { type: 'string', enum: ['string', 'int', 'float', 'bool', 'string[]', 'time'] },
            required: { type: 'boolean' },
            default: {},
            choices: { type: 'array' },
            min: { type: 'number' },
            max: { type: 'number' },
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
            inProcess: { type: 'boolean', description: 'executed in-process by the process that started it (the admin UI, taskengine run --store, engine.run with record), never by a worker' },
            startedFrom: { type: ['string', 'null'], description: 'where an in-process run was started: admin, admin-live, cli, engine, or a name its caller gave; null for durable runs' },
            createdAt: { type: 'string', format: 'date-time' },
            startedAt: { type: ['string', 'null'], format: 'date-time' },
            finishedAt: { type: ['string', 'null'], format: 'date-time' },
          },
        },
        RunPage: { type: 'object', properties: { data: { type: 'array', items: ref('Run') }, total: { type: 'integer' }, page: { type: 'integer' }, pageSize: { type: 'integer' } } },
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
            actorKind: { type: 'string', enum: ['user', 'token', 'shared-token', 'anonymous', 'cli', 'host'] },
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
      },
    },
    security: [{ bearer: [] }],
    paths: {
      '/api/tasks': get('List tasks', { type: 'array', items: ref('Task') }),
      '/api/tasks/{key}': {
        ...get('Describe a task: metadata and fields', ref('Task'), [idParam('key', 'Task key')], { '404': error('Unknown task') }),
        put: {
          summary: "Change a task's limits across workers, live on every worker within a heartbeat and stored (needs settings:write); a bad key or value changes nothing",
          parameters: [idParam('key', 'Task key')],
          requestBody: { required: true, content: json(ref('TaskPatch')) },
          responses: { '200': { description: 'The limits that hold now', content: json(ref('TaskLimits')) }, ...ERRORS, '404': error('Unknown task'), '413': error('Body too large'), '415': error('Not JSON') },
        },
      },
      '/api/tasks/{key}/run': {
        post: {
          summary: 'Run a task now (synchronously, with a time limit) and answer with its result',
          parameters: [idParam('key', 'Task key')],
          requestBody: { content: json({ type: 'object', properties: { args: { type: 'object' }, options: { type: 'object', properties: { label: { type: 'string' }, timeoutMs: { type: 'integer' } } } } }) },
          responses: { '200': { description: 'The result (status may be failed)', content: json(ref('RunResult')) }, ...ERRORS, '404': error('Unknown task'), '413': error('Body too large'), '415': error('Not JSON') },
        },
      },
      '/api/runs': {
        post: {
          summary: 'Enqueue a durable run',
          requestBody: { required: true, content: json(ref('EnqueueRequest')) },
          responses: { '201': { description: 'The stored run', content: json(ref('Run')) }, ...ERRORS, '404': error('Unknown task'), '413': error('Body too large'), '415': error('Not JSON') },
        },
        ...get('List runs, newest first', ref('RunPage'), [
          { name: 'page', in: 'query', schema: { type: 'integer', minimum: 1 } },
          { name: 'pageSize', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100 } },
          { name: 'search', in: 'query', description: 'Text in id, task, label or arguments', schema: { type: 'string' } },
          ...['task', 'queue', 'label', 'tag', 'createdBy', 'pool'].map((name) => ({ name, in: 'query', schema: { type: 'string' } })),
          STATUS_PARAM,
          { name: 'from', in: 'query', schema: { type: 'string', format: 'date-time' } },
          { name: 'to', in: 'query', schema: { type: 'string', format: 'date-time' } },
          { name: 'sort', in: 'query', description: 'Order: -created (default), created, due, -due, finished, -finished', schema: { type: 'string', enum: [...RUN_SORTS] } },
        ]),
      },
      '/api/runs/bulk': {
        post: {
          summary: 'Cancel, retry or delete every run matching a filter: a preview (dryRun) or a bulk job worked through in batches',
          requestBody: {
            required: true,
            content: json({
              type: 'object',
              required: ['action', 'filter'],
              properties: { action: { type: 'string', enum: ['cancel', 'retry', 'delete'] }, filter: { type: 'object', description: 'The filters of GET /api/runs; {} for every run' }, dryRun: { type: 'boolean' } },
            }),
          },
          responses: { '200': { description: 'The preview: count and a sample', content: json({ type: 'object' }) }, '202': { description: 'The job started: id, count, job', content: json({ type: 'object' }) }, ...ERRORS },
        },
        ...get('Bulk jobs, newest first', { type: 'array' }, [{ name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100 } }]),
      },
      '/api/runs/diff': get(
        'Two runs, or two attempts of runs, compared: summary fields (differing ones marked), structural diffs of arguments and result (paths added, removed, changed; arrays by index; values over 2,000 characters of JSON cut, flagged truncated), both errors, and a line diff of their logs (level and message compared; at most the first 10,000 lines of each, with a bounded search: truncated and approximate say when it stopped short). Log chunks in order: {same: n}, {removed: [lines]}, {added: [lines]}.',
        { type: 'object', required: ['a', 'b', 'fields', 'args', 'result', 'logs'] },
        [
          { name: 'a', in: 'query', required: true, description: 'The first side: <run id> (the whole run) or <run id>:<attempt> (one attempt, from 1: its outcome, error, timing and log lines)', schema: { type: 'string', pattern: '^[^:\\s]+(:[0-9]+)?$' } },
          { name: 'b', in: 'query', required: true, description: 'The second side, as a', schema: { type: 'string', pattern: '^[^:\\s]+(:[0-9]+)?$' } },
        ],
        { '400': error('A missing or malformed a or b, or an attempt the run does not have: the error names the parameter'), '404': error('A run that does not exist (or that the caller may not read): the error names the parameter and the run') },
      ),
      '/api/runs/bulk/{id}': get('A bulk job: state, total, done and skipped counts', { type: 'object' }, [idParam('id', 'Bulk job id')], { '404': error('Unknown bulk job') }),
      '/api/runs/bulk/{id}/cancel': {
        post: {
          summary: 'Stop a bulk job after its current batch',
          parameters: [idParam('id', 'Bulk job id')],
          responses: { '200': { description: 'The job', content: json({ type: 'object' }) }, ...ERRORS, '404': error('Unknown bulk job') },
        },
      },
      '/api/runs/{id}': {
        ...get('A run with attempts, progress, result and error', ref('Run'), [idParam('id', 'Run id')], { '404': error('Unknown run') }),
        delete: { summary: 'Soft-delete a run (cancels it first if running)', parameters: [idParam('id', 'Run id')], responses: { '200': { description: 'The deleted run', content: json(ref('Run')) }, ...ERRORS, '404': error('Unknown run') } },
      },
      '/api/runs/{id}/logs': get(
        'Log lines after a position',
        { type: 'object', properties: { runId: { type: 'string' }, after: { type: 'integer' }, next: { type: 'integer' }, logs: { type: 'array' } } },
        [idParam('id', 'Run id'), { name: 'after', in: 'query', schema: { type: 'integer' } }, { name: 'limit', in: 'query', schema: { type: 'integer', maximum: 10000 } }],
        { '404': error('Unknown run') },
      ),
      '/api/runs/{id}/artifacts': get('Artifacts of a run', { type: 'array' }, [idParam('id', 'Run id')], { '404': error('Unknown run') }),
      '/api/runs/{id}/artifacts/{name}': {
        get: {
          summary: 'Download an artifact',
          parameters: [idParam('id', 'Run id'), idParam('name', 'Artifact name')],
          responses: { '200': { description: 'The bytes, with their content type' }, ...ERRORS, '404': error('Unknown run or artifact') },
        },
      },
      '/api/runs/{id}/cancel': {
        post: {
          summary: 'Cancel a run: pending at once, running through its handler signal',
          parameters: [idParam('id', 'Run id')],
          requestBody: { content: json({ type: 'object', properties: { reason: { type: 'string' } } }) },
          responses: { '200': { description: 'The run', content: json(ref('Run')) }, ...ERRORS, '404': error('Unknown run'), '409': error('Already finished') },
        },
      },
      '/api/runs/{id}/retry': {
        post: {
          summary: 'Retry a failed or cancelled run',
          parameters: [idParam('id', 'Run id')],
          responses: { '200': { description: 'The run, pending again', content: json(ref('Run')) }, ...ERRORS, '404': error('Unknown run'), '409': error('Not failed or cancelled') },
        },
      },
      '/api/pools/{id}': get('A pool: aggregate status over its tree, its runs and nested pools', { type: 'object' }, [idParam('id', 'Pool id')], { '404': error('Unknown pool') }),
      '/api/me/runs': get('The caller\'s active and recent runs', { type: 'object' }),
      '/api/workers': get(
        'Live worker processes (workers and servers), each with its state and the last command given to it; with dead=true, workers whose heartbeat stopped in the last day, with the runs each held and what became of them',
        { oneOf: [{ type: 'array', items: ref('WorkerInfo') }, { type: 'array', items: ref('DeadWorker') }] },
        [{ name: 'dead', in: 'query', description: 'true: the recently dead workers instead of the live ones', schema: { type: 'boolean' } }],
      ),
      '/api/workers/{id}/{command}': {
        post: {
          summary: 'Quiet a worker (it claims nothing more and finishes the runs it holds), resume it, or stop it gracefully, on any machine within a heartbeat (needs workers:write)',
          parameters: [idParam('id', 'Worker id'), { name: 'command', in: 'path', required: true, schema: { type: 'string', enum: ['quiet', 'resume', 'stop'] } }],
          responses: {
            '200': { description: 'The worker with the command stored on it', content: json(ref('WorkerInfo')) },
            ...ERRORS,
            '404': error('Unknown worker'),
            '409': error('The worker is dead, runs no worker, or is stopping (quiet and resume)'),
          },
        },
      },
      '/api/schedules': get('Cron schedules with their state: enabled, next run, last tick and run', { type: 'array', items: ref('Schedule') }),
      '/api/schedules/{id}': get('One schedule', ref('Schedule'), [idParam('id', 'Schedule id')], { '404': error('Unknown schedule') }),
      '/api/schedules/{id}/toggle': {
        post: {
          summary: 'Enable or disable a schedule for every process (ticks missed while disabled are not caught up)',
          parameters: [idParam('id', 'Schedule id')],
          requestBody: { required: true, content: json({ type: 'object', required: ['enabled'], properties: { enabled: { type: 'boolean' } } }) },
          responses: { '200': { description: 'The schedule', content: json(ref('Schedule')) }, ...ERRORS, '404': error('Unknown schedule') },
        },
      },
      '/api/schedules/{id}/trigger': {
        post: {
          summary: 'Enqueue a run of the schedule now',
          parameters: [idParam('id', 'Schedule id')],
          responses: { '201': { description: 'The run', content: json(ref('Run')) }, ...ERRORS, '404': error('Unknown schedule'), '409': error('The schedule is disabled') },
        },
      },
      '/api/schedules/{id}/runs': get('Runs of a schedule, newest first', ref('RunPage'), [
        idParam('id', 'Schedule id'),
        { name: 'page', in: 'query', schema: { type: 'integer', minimum: 1 } },
        { name: 'pageSize', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100 } },
        STATUS_PARAM,
      ]),
      '/api/settings': {
        ...get('Runtime settings (with describe=true: every setting with title, constraints, default and value)', ref('Settings'), [
          { name: 'describe', in: 'query', schema: { type: 'boolean' } },
        ]),
        put: {
          summary: 'Change some settings; unknown keys and bad values are refused and change nothing',
          requestBody: { required: true, content: json(ref('Settings')) },
          responses: { '200': { description: 'All settings after the change', content: json(ref('Settings')) }, ...ERRORS, '415': error('Not JSON') },
        },
      },
      '/api/me': get('Who the caller is: id, kind (user, token, shared-token, anonymous, host), the API token used, and its permission codes', { type: 'object', properties: { id: { type: 'string' }, kind: { type: 'string' }, tokenName: { type: ['string', 'null'] }, permissions: { type: 'array', items: { type: 'string' } } } }),
      '/api/users': {
        ...get('The built-in users, by name (needs users:read)', { type: 'array', items: ref('User') }),
        post: {
          summary: 'Add a user (needs users:write): name, role, and optionally a password (12 characters or more); audited',
          requestBody: { required: true, content: json({ type: 'object', required: ['name', 'role'], additionalProperties: false, properties: { name: { type: 'string' }, role: { type: 'string' }, password: { type: 'string' } } }) },
          responses: { '201': { description: 'The user', content: json(ref('User')) }, ...ERRORS, '409': error('The name is taken'), '415': error('Not JSON') },
        },
      },
      '/api/users/{name}': {
        ...get('One user (users:read, or the user themself)', ref('User'), [idParam('name', 'User name')]),
        patch: {
          summary: 'Change a user (needs users:write): role, disabled (ends their sessions; their tokens stop working) and/or password (ends their sessions); a bad value changes nothing; audited',
          parameters: [idParam('name', 'User name')],
          requestBody: { required: true, content: json({ type: 'object', additionalProperties: false, properties: { role: { type: 'string' }, disabled: { type: 'boolean' }, password: { type: 'string' } } }) },
          responses: { '200': { description: 'The user after the change', content: json(ref('User')) }, ...ERRORS, '404': error('No such user'), '415': error('Not JSON') },
        },
      },
      '/api/users/{name}/sessions': {
        delete: {
          summary: "End every sign-in session of a user (users:write, or the user themself); audited",
          parameters: [idParam('name', 'User name')],
          responses: { '200': { description: 'How many ended', content: json({ type: 'object', properties: { user: { type: 'string' }, ended: { type: 'integer' } } }) }, ...ERRORS, '404': error('No such user') },
        },
      },
      '/api/users/{name}/tokens': {
        ...get("A user's API tokens, never their secrets (users:read, or the user themself)", { type: 'array', items: ref('UserToken') }, [idParam('name', 'User name')]),
        post: {
          summary: 'Create an API token acting as the user (users:write, or the user themself); the token text is in this answer only; audited',
          parameters: [idParam('name', 'User name')],
          requestBody: { required: true, content: json({ type: 'object', required: ['name'], additionalProperties: false, properties: { name: { type: 'string' }, expiresInDays: { type: 'integer', minimum: 1, maximum: 3650 } } }) },
          responses: { '201': { description: 'The token (shown once) and its record', content: json({ type: 'object', properties: { token: { type: 'string' }, info: ref('UserToken') } }) }, ...ERRORS, '404': error('No such user'), '409': error('A live token of that name exists'), '415': error('Not JSON') },
        },
      },
      '/api/users/{name}/tokens/{token}': {
        delete: {
          summary: 'Revoke a live API token by name or id (users:write, or the user themself): it stops working on the next request everywhere; audited',
          parameters: [idParam('name', 'User name'), idParam('token', 'Token name or id')],
          responses: { '200': { description: 'The revoked token', content: json(ref('UserToken')) }, ...ERRORS, '404': error('No such user or live token') },
        },
      },
      '/api/audit': get(
        'The audit trail, newest first (needs audit:read): who did what, when, from where, to which target, before and after',
        { type: 'object', properties: { entries: { type: 'array', items: ref('AuditEntry') }, next: { type: ['string', 'null'] } } },
        [
          { name: 'actor', in: 'query', description: 'A user name, token, api, cli, …', schema: { type: 'string' } },
          { name: 'action', in: 'query', description: 'An action (run.cancel), or a prefix ending in "." (run.)', schema: { type: 'string' } },
          { name: 'target', in: 'query', description: 'A run id, schedule id, user name, queue, …', schema: { type: 'string' } },
          { name: 'from', in: 'query', schema: { type: 'string', format: 'date-time' } },
          { name: 'to', in: 'query', schema: { type: 'string', format: 'date-time' } },
          { name: 'before', in: 'query', description: 'Keyset paging: the next value of the previous page', schema: { type: 'string' } },
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 50 } },
        ],
      ),
      '/api/settings/log-backends': get('Where log lines can be stored', { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, title: { type: 'string' }, description: { type: 'string' } } } }),
      '/api/queues': get('Every known queue, idle ones too: its limits across workers (concurrency, rate), paused, the tasks that use it, pending and running runs, starts in the rate window, oldest due and next due', { type: 'array', items: ref('QueueInfo') }),
      '/api/queues/{name}': {
        put: {
          summary: "Change a queue's limits across workers or pause it, live on every worker within a heartbeat and stored (needs settings:write); a bad key or value changes nothing",
          parameters: [idParam('name', 'Queue name')],
          requestBody: { required: true, content: json(ref('QueuePatch')) },
          responses: { '200': { description: 'The limits that hold now', content: json(ref('QueueLimits')) }, ...ERRORS, '404': error('Unknown queue'), '413': error('Body too large'), '415': error('Not JSON') },
        },
      },
      '/api/flow': get('Flow control: every known queue and every task with limits or paused, with their limits and usage (running, starts in the rate window, pending per group)', ref('FlowReport')),
      '/api/stats': get('Run counts by status and queue, throughput over the last hour, and the flow report (flow: queues and tasks with limits)', { type: 'object' }),
      '/api/history': get(
        'Finished runs per bar (a minute, 15 minutes or 2 hours), their failure rate, runs per minute, retries, and duration (p50, p95, max) and wait from due to start (p50, p95) over the last hour, day or week, from the per-minute rollups',
        { type: 'object' },
        [
          { name: 'range', in: 'query', schema: { type: 'string', enum: ['1h', '24h', '7d'], default: '1h' } },
          { name: 'task', in: 'query', description: 'One task only', schema: { type: 'string' } },
        ],
      ),
      '/api/openapi.json': {
        get: {
          summary: 'This document (JSON, or YAML with format=yaml or Accept: application/yaml)',
          parameters: [{ ...FORMAT_PARAMS[0], schema: { type: 'string', enum: ['json', 'yaml'] } }, FORMAT_PARAMS[1]],
          responses: { '200': { description: 'OpenAPI 3.1', content: { ...json({ type: 'object' }), 'application/yaml': { schema: { type: 'object' } } } }, '400': error('A format other than json or yaml') },
        },
      },
      '/healthz': {
        get: {
          summary: 'Liveness: the process answers. Always JSON (format is ignored); no credentials needed',
          security: [],
          responses: { '200': { description: 'Alive', content: json({ type: 'object', properties: { status: { const: 'ok' } } }) } },
        },
      },
      '/readyz': {
        get: {
          summary: 'Readiness: the store answers (a cheap read, not run counts). Always JSON (format is ignored); no credentials needed',
          security: [],
          responses: {
            '200': { description: 'Ready', content: json({ type: 'object', properties: { status: { const: 'ready' } } }) },
            '503': { description: 'The store is not reachable', content: json({ type: 'object', properties: { status: { const: 'unavailable' }, error: { type: 'string' } } }) },
          },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics of this process (needs metrics:read): runs created, started, completed, durations, dropped log lines and stream clients; queue length, running runs and workers of every process',
          responses: { '200': { description: 'Prometheus text exposition format', content: { 'text/plain; version=0.0.4': { schema: { type: 'string' } } } }, '401': error('Not authenticated'), '403': error('Not allowed') },
        },
      },
      '/api/stream': {
        get: {
          summary: 'WebSocket: live run events with resume, and bulk job progress (subscribe with "bulkId"; see the README for the protocol)',
          responses: { '101': { description: 'Switching protocols' }, '401': error('Not authenticated'), '403': error('Origin not allowed') },
        },
      },
    },
  }
}
