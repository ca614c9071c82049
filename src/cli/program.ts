/**
 * The `taskengine` command line: the command tree. `runCli` takes its streams and environment
 * as arguments, so tests can drive it in-process as well as through the real binary.
 */
import { Command, CommanderError, Option } from 'commander'
import { enqueueCommand } from './commands/enqueue.js'
import { runCommand } from './commands/run.js'
import { runsCommand } from './commands/runs.js'
import { schedulesCommand } from './commands/schedules.js'
import { serveCommand } from './commands/serve.js'
import { tasksCommand } from './commands/tasks.js'
import { workerCommand } from './commands/worker.js'
import { EXIT, reportError, writer, type CliIo } from './io.js'
import { DEFAULT_STORE_FILE } from './store-option.js'
import { VERSION as version } from '../version.js'

export { EXIT, type CliIo } from './io.js'


/** Runs the CLI with `argv` (without `node` and the script) and resolves to the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const out = writer(io.stdout)
  const err = writer(io.stderr)
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
  // Commander reads options' environment variables from process.env; give it ours.
  const tasksOption = (): Option =>
    withEnv(new Option('--tasks <module>', 'module exporting tasks (default: taskengine.config.{ts,js} here, else the examples)'), 'TASKENGINE_TASKS', io)
  const storeOption = (): Option =>
    withEnv(new Option('--store <path|url>', `SQLite file or postgres:// URL (default: ${DEFAULT_STORE_FILE})`), 'TASKENGINE_STORE', io)

  tasksCommand(program, io, tasksOption)
  runCommand(program, io, setExit, tasksOption)
  enqueueCommand(program, io, setExit, tasksOption, storeOption)
  workerCommand(program, io, setExit, tasksOption, storeOption, (option, name) => withEnv(option, name, io))
  runsCommand(program, io, setExit, storeOption)
  schedulesCommand(program, io, setExit, tasksOption, storeOption)
  serveCommand(program, io, setExit, tasksOption, storeOption, (option, name) => withEnv(option, name, io))
  // Every subcommand reports through ours, not process.exit.
  for (const command of program.commands) applyOverrides(command, out, err)

  try {
    await program.parseAsync([...argv], { from: 'user' })
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; a usage error has been printed already.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage
    }
    return reportError(error, err)
  }
  return exitCode
}

function applyOverrides(command: Command, out: (text: string) => void, err: (text: string) => void): void {
  command.exitOverride().configureOutput({ writeOut: out, writeErr: err })
  for (const sub of command.commands) applyOverrides(sub, out, err)
}

/** Sets an option's default from the CLI's environment (commander would read process.env). */
function withEnv(option: Option, name: string, io: CliIo): Option {
  const value = io.env[name]
  if (value !== undefined && value !== '') option.default(value, `$${name}`)
  return option
}
