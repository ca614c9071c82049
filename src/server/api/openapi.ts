/**
 * The OpenAPI 3.1 description of the JSON API, health checks and metrics, and the route that
 * serves it (`GET /api/openapi.json`, or YAML with `?format=yaml` or `Accept: application/yaml`).
 * A test checks that it lists exactly the routes the app serves, and for every route exactly
 * the query parameters it reads (any other is a 400).
 */
import { Hono } from 'hono'
import { RUN_SORTS, RUN_STATES } from '../../store/types.js'
import { VERSION } from '../../version.js'
import type { ServerEnv } from '../caller.js'
import { FORMATS, respond } from '../formats.js'
import { checkQuery } from '../query.js'
import type { RouteDeps } from './deps.js'
import { SCHEMAS } from './openapi-schemas.js'

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
  { name: 'format', in: 'query', description: 'Output format (or use the Accept header); TOML leaves nulls out', schema: { type: 'string', enum: [...FORMATS] } },
  { name: 't', in: 'query', description: 'Short for format', schema: { type: 'string', enum: [...FORMATS] } },
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
      schemas: SCHEMAS,
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
          { name: 'before', in: 'query', description: 'Keyset paging (default order only): runs older than this run id', schema: { type: 'string' } },
          { name: 'countLimit', in: 'query', description: 'Count at most this many matches (total stops there; totalCapped says so)', schema: { type: 'integer', minimum: 1 } },
          {
            name: 'scanLimit',
            in: 'query',
            description: 'Examine at most this many of the newest runs (older than before, if given): a bounded search on a big store; the page’s scanBefore continues it',
            schema: { type: 'integer', minimum: 1 },
          },
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
      '/api/stats': get('Run counts by status and queue, throughput over the last hour, the flow report (flow: queues and tasks with limits), and the tasks with pending runs no live worker serves (unserved)', {
        type: 'object',
        properties: { unserved: { type: 'array', items: ref('UnservedTask') } },
      }),
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
          parameters: [{ ...FORMAT_PARAMS[0], schema: { type: 'string', enum: ['json', 'yaml'] } }, { ...FORMAT_PARAMS[1], schema: { type: 'string', enum: ['json', 'yaml'] } }, FORMAT_PARAMS[2]],
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
