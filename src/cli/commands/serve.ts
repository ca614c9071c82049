/**
 * `taskengine serve`: the whole product in one process — the store, a worker, and the HTTP
 * server (API, live streams, metrics, admin UI) on 127.0.0.1:8080 by default.
 */
import { Option, type Command } from 'commander'
import { resolve } from 'node:path'
import { Engine } from '../../engine/engine.js'
import { DEFAULT_CONCURRENCY, DEFAULT_GRACE_MS } from '../../engine/options.js'
import { filesLogBackend } from '../../engine/settings/log-backends.js'
import { ValidationError } from '../../errors.js'
import { DEFAULT_HOST, DEFAULT_PORT, serve } from '../../server/serve.js'
import { listenFailure } from '../failures.js'
import { EXIT, interrupted, type CliIo } from '../io.js'
import { loadTasks } from '../load-tasks.js'
import { stopRequest } from '../stop-request.js'
import { DEFAULT_LOG_DIR, describeStore, openStore } from '../store-option.js'
import { intOption, portOption } from '../task-input.js'

interface ServeFlags {
  tasks?: string
  store?: string
  logDir?: string
  port?: string
  host?: string
  concurrency?: string
  token?: string
  allowedHosts?: string
  allowedFrameAncestors?: string
  grace?: string
}

export function serveCommand(program: Command, io: CliIo, setExit: (code: number) => void, tasksOption: () => Option, storeOption: () => Option, env: (option: Option, name: string) => Option): void {
  program
    .command('serve')
    .description('run the store, a worker and the HTTP server (API, live streams, metrics, admin UI)')
    .addOption(tasksOption())
    .addOption(storeOption())
    .option('--log-dir <dir>', 'directory of the "files" log backend (chosen with the logBackend setting)', DEFAULT_LOG_DIR)
    .addOption(env(new Option('-p, --port <port>', 'port to listen on').default(String(DEFAULT_PORT)), 'TASKENGINE_PORT'))
    .addOption(env(new Option('--host <host>', 'address to listen on (anything but loopback needs --token)').default(DEFAULT_HOST), 'TASKENGINE_HOST'))
    .addOption(env(new Option('-c, --concurrency <n>', 'runs executing at once in this process (0: no worker)').default(String(DEFAULT_CONCURRENCY)), 'TASKENGINE_CONCURRENCY'))
    .addOption(env(new Option('--token <token>', 'require Authorization: Bearer <token> on every request (16 characters or more: openssl rand -hex 32)'), 'TASKENGINE_TOKEN'))
    .addOption(
      env(
        new Option('--allowed-hosts <list>', 'without a token, host names to answer besides localhost, 127.0.0.1 and [::1], comma-separated: "ops.example,ops.example:8443,.example.com"'),
        'TASKENGINE_ALLOWED_HOSTS',
      ),
    )
    .addOption(
      env(
        new Option('--allowed-frame-ancestors <list>', 'origins whose pages may frame the embeddable views (/admin/embed/…), comma-separated: "https://app.example.com,http://localhost:3000"'),
        'TASKENGINE_ALLOWED_FRAME_ANCESTORS',
      ),
    )
    .option('--grace <ms>', 'on stop, how long running handlers may take before they are aborted', String(DEFAULT_GRACE_MS))
    .action(async (flags: ServeFlags) => {
      setExit(await run(flags, io))
    })
}

async function run(flags: ServeFlags, io: CliIo): Promise<number> {
  const err = (text: string): void => void io.stderr.write(text)
  const { tasks, schedules, queues, users, unservedAfterMs, allowedFrameAncestors: configured, source } = await loadTasks({ module: flags.tasks, cwd: io.cwd })
  const port = portOption(flags.port, '--port') ?? DEFAULT_PORT
  const concurrency = intOption(flags.concurrency, '--concurrency', 0) ?? DEFAULT_CONCURRENCY
  const graceMs = intOption(flags.grace, '--grace', 0) ?? DEFAULT_GRACE_MS
  const engine = new Engine({ tasks: [...tasks], schedules: [...schedules], ...(queues === undefined ? {} : { queues }), ...(users === undefined ? {} : { users }), ...(unservedAfterMs === undefined ? {} : { unservedAfterMs }), logBackends: [filesLogBackend({ dir: resolve(io.cwd, flags.logDir ?? DEFAULT_LOG_DIR) })], store: await openStore(flags.store, io.cwd), onError: (e) => err(`taskengine: ${e.message}\n`) })
  const stopSignal = interrupted(io)
  let server: Awaited<ReturnType<typeof serve>>
  const host = flags.host ?? DEFAULT_HOST
  const token = flags.token === '' ? undefined : flags.token
  const allowedHosts = parseList(flags.allowedHosts)
  // The flag (or its variable) wins over the config file's `allowedFrameAncestors`.
  const allowedFrameAncestors = flags.allowedFrameAncestors === undefined ? configured : parseList(flags.allowedFrameAncestors)
  try {
    server = await serve(engine, {
      host,
      port,
      ...(token === undefined ? {} : { token }),
      ...(allowedHosts.length === 0 ? {} : { allowedHosts }),
      ...(allowedFrameAncestors === undefined ? {} : { allowedFrameAncestors }),
      onError: (e) => err(`taskengine server: ${e.stack ?? e.message}\n`),
    })
  } catch (error) {
    await engine.close()
    throw inFlagTerms(listenFailure(error, { host, port, portOption: { option: '--port', env: 'TASKENGINE_PORT' }, hostOption: { option: '--host', env: 'TASKENGINE_HOST' } }))
  }
  const request = stopRequest()
  if (concurrency > 0) await engine.start({ concurrency, onStopRequested: request.onStopRequested })
  err(
    `taskengine serving ${server.url}/admin\n` +
      `  store ${describeStore(flags.store, io.cwd)}; ${concurrency > 0 ? `worker concurrency ${concurrency}` : 'no worker'}; tasks from ${source} (${tasks.length})\n` +
      `  API ${server.url}/api  metrics ${server.url}/metrics${token === undefined ? '' : '  (token required)'}\n` +
      (allowedHosts.length === 0 ? '' : `  also answers as ${allowedHosts.join(', ')}\n`),
  )
  const signal = await Promise.race([stopSignal, request.requested])
  err(`taskengine: ${signal}: stopping (grace ${graceMs} ms; again to force quit)\n`)
  await server.close()
  await engine.close({ graceMs })
  err('taskengine: stopped\n')
  return EXIT.ok
}

/** `"a.example, b.example,"` → `['a.example', 'b.example']`. */
function parseList(text: string | undefined): string[] {
  return (text ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
}

/** The server's options, as its messages name them, and the flags that set them here. */
const FLAGS_OF_OPTIONS: readonly (readonly [RegExp, string])[] = [
  [/^token:/, '--token (or TASKENGINE_TOKEN):'],
  [/^allowedHosts\[\d+\]:/, '--allowed-hosts (or TASKENGINE_ALLOWED_HOSTS):'],
  [/^allowedFrameAncestors(\[\d+\])?:/, '--allowed-frame-ancestors (or TASKENGINE_ALLOWED_FRAME_ANCESTORS, or allowedFrameAncestors in the config file):'],
]

/** A server `ValidationError` about one of its options, worded with the flag a CLI user set. */
function inFlagTerms(error: Error): Error {
  if (!(error instanceof ValidationError)) return error
  for (const [option, flag] of FLAGS_OF_OPTIONS) if (option.test(error.message)) return new ValidationError(error.message.replace(option, flag))
  return error
}
