/**
 * The `taskengine` command line: the command tree. `runCli` takes its streams and environment
 * as arguments, so tests can drive it in-process as well as through the real binary.
 */
import { Command, CommanderError, Option } from 'commander'
import { amqpCommand } from './commands/amqp.js'
import { auditCommand } from './commands/audit.js'
import { enqueueCommand } from './commands/enqueue.js'
import { queuesCommand } from './commands/queues.js'
import { runCommand } from './commands/run.js'
import { runsCommand } from './commands/runs.js'
import { schedulesCommand } from './commands/schedules.js'
import { serveCommand } from './commands/serve.js'
import { tasksCommand } from './commands/tasks.js'
import { usersCommand } from './commands/users.js'
import { workerCommand } from './commands/worker.js'
import { workersCommand } from './commands/workers.js'
import { EXIT, reportError, writer, type CliIo } from './io.js'
import { CONFIG_FILES } from './load-tasks.js'
import { DEFAULT_STORE_FILE } from './store-option.js'
import { VERSION as version } from '../version.js'

export { EXIT, type CliIo } from './io.js'


/** The environment variables the CLI reads, for `--help` (a test checks that every one read is here). */
/** The width of the variables' column in the help: the longest name and two spaces. */
const environmentWidth = (): number => Math.max(...ENVIRONMENT.map(([name]) => name.length)) + 2

export const ENVIRONMENT: readonly (readonly [name: string, about: string])[] = [
  ['TASKENGINE_TASKS', '--tasks: module exporting tasks'],
  ['TASKENGINE_STORE', '--store: SQLite file or postgres:// URL'],
  ['TASKENGINE_PORT', 'serve --port'],
  ['TASKENGINE_HOST', 'serve --host'],
  ['TASKENGINE_CONCURRENCY', 'serve --concurrency'],
  ['TASKENGINE_TOKEN', 'serve --token'],
  ['TASKENGINE_ALLOWED_HOSTS', 'serve --allowed-hosts'],
  ['TASKENGINE_ALLOWED_FRAME_ANCESTORS', 'serve --allowed-frame-ancestors'],
  ['TASKENGINE_METRICS_PORT', 'worker --metrics-port'],
  ['TASKENGINE_AMQP_URL', 'amqp --url'],
  ['USER', 'creator of runs made by enqueue and schedules trigger, and USER@host in the audit trail (else the login name, else "local")'],
  ['NO_COLOR', 'set: no colours in live output'],
]

/** Runs the CLI with `argv` (without `node` and the script) and resolves to the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const out = writer(io.stdout)
  const err = writer(io.stderr)
  // Read before parsing: an error may come before (or without) the command's own options.
  const end = argv.indexOf('--')
  const debug = (end === -1 ? argv : argv.slice(0, end)).includes('--debug')
  let exitCode: number = EXIT.ok
  const setExit = (code: number): void => {
    exitCode = code
  }
  const program = new Command('taskengine')
    .description('Run and steer tasks: typed, observable, durable.')
    .version(version, '-v, --version')
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ writeOut: out, writeErr: err })
    .showHelpAfterError('(run with --help for usage)')
    .option('--debug', 'print the stack of an error (for a bug report)')
  const configFiles = `taskengine.config.{${CONFIG_FILES.map((f) => f.slice('taskengine.config.'.length)).join(',')}}`
  program.addHelpText(
    'after',
    `\nTasks come from --tasks <module>, else ${configFiles} in the working\n` +
      'directory, else the built-in examples. The store is --store: a SQLite file (default\n' +
      `${DEFAULT_STORE_FILE}) or a postgres:// URL. --debug prints the stack of an error.\n` +
      `\nEnvironment variables (a command-line option wins):\n${ENVIRONMENT.map(([name, about]) => `  ${name.padEnd(environmentWidth())}${about}`).join('\n')}\n`,
  )
  // Commander reads options' environment variables from process.env; give it ours.
  const tasksOption = (): Option =>
    withEnv(new Option('--tasks <module>', `module exporting tasks (default: ${configFiles} here, else the examples)`), 'TASKENGINE_TASKS', io)
  const storeOption = (): Option =>
    withEnv(new Option('--store <path|url>', `SQLite file or postgres:// URL (default: ${DEFAULT_STORE_FILE})`), 'TASKENGINE_STORE', io)

  tasksCommand(program, io, setExit, tasksOption, storeOption)
  runCommand(program, io, setExit, tasksOption, storeOption)
  enqueueCommand(program, io, setExit, tasksOption, storeOption)
  workerCommand(program, io, setExit, tasksOption, storeOption, (option, name) => withEnv(option, name, io))
  runsCommand(program, io, setExit, storeOption)
  queuesCommand(program, io, setExit, tasksOption, storeOption)
  schedulesCommand(program, io, setExit, tasksOption, storeOption)
  serveCommand(program, io, setExit, tasksOption, storeOption, (option, name) => withEnv(option, name, io))
  amqpCommand(program, io, setExit, tasksOption, storeOption, (option, name) => withEnv(option, name, io))
  workersCommand(program, io, setExit, storeOption)
  usersCommand(program, io, setExit, tasksOption, storeOption)
  auditCommand(program, io, setExit, storeOption)
  // Every subcommand reports through ours, not process.exit.
  for (const command of program.commands) applyOverrides(command, out, err)

  try {
    await program.parseAsync([...argv], { from: 'user' })
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; a usage error has been printed already.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage
    }
    return reportError(error, err, { debug })
  }
  return exitCode
}

function applyOverrides(command: Command, out: (text: string) => void, err: (text: string) => void): void {
  command.exitOverride().configureOutput({ writeOut: out, writeErr: err })
  // Accepted after any command, too (runCli reads it from argv).
  command.option('--debug', 'print the stack of an error (for a bug report)')
  for (const sub of command.commands) applyOverrides(sub, out, err)
}

/** Sets an option's default from the CLI's environment (commander would read process.env). */
function withEnv(option: Option, name: string, io: CliIo): Option {
  const value = io.env[name]
  if (value !== undefined && value !== '') option.default(value, `$${name}`)
  return option
}
