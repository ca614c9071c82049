/**
 * Runs the real `taskengine` binary (dist/cli/main.js) in a child process, or the CLI in this
 * process through `runCli` with collecting streams.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { createServer, type AddressInfo } from 'node:net'
import { join } from 'node:path'
import { Readable, Writable } from 'node:stream'
import { runCli } from '../../src/cli/program.js'

export const ROOT = join(import.meta.dirname, '..', '..')
export const BIN = join(ROOT, 'dist', 'cli', 'main.js')
export const FIXTURES = join(ROOT, 'test', 'fixtures')

export interface CliRun {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

export interface SpawnOptions {
  readonly cwd?: string
  /** Added to the test process's environment; `undefined` removes a variable. */
  readonly env?: Record<string, string | undefined>
}

/** Starts the binary; the caller reads its streams and waits with {@link finished}. */
export function startCli(args: readonly string[], options: SpawnOptions = {}): ChildProcessWithoutNullStreams {
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1', TASKENGINE_TASKS: '', ...options.env }
  for (const [name, value] of Object.entries(env)) if (value === undefined) delete env[name]
  return spawn(process.execPath, [BIN, ...args], { cwd: options.cwd ?? ROOT, env })
}

/** Collects a child's output until it exits. */
export function finished(child: ChildProcessWithoutNullStreams): Promise<CliRun> {
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
}

/** Runs the binary to completion. */
export function runBin(args: readonly string[], options?: SpawnOptions): Promise<CliRun> {
  return finished(startCli(args, options))
}

/** A port nothing listens on: one the system just handed out, closed again. */
export async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** Resolves when `text` has appeared on the stream. */
export function waitForOutput(stream: NodeJS.ReadableStream, text: string | RegExp): Promise<void> {
  return new Promise((resolve) => {
    let seen = ''
    const onData = (chunk: Buffer | string): void => {
      seen += chunk.toString()
      if (typeof text === 'string' ? seen.includes(text) : text.test(seen)) {
        stream.off('data', onData)
        resolve()
      }
    }
    stream.on('data', onData)
  })
}

/** Options of {@link runInProcess}. */
export interface InProcessOptions {
  /** Whether stdout and stderr claim to be a terminal. Default: false. */
  readonly tty?: boolean
  readonly cwd?: string
  readonly env?: Record<string, string | undefined>
  /** What the CLI reads on stdin (passwords); default: an empty stream. */
  readonly stdin?: string
}

/** Runs the CLI in this process through `runCli`, with streams that collect what it writes. */
export async function runInProcess(args: readonly string[], options: InProcessOptions = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const collect = (): Writable & { text: string; isTTY: boolean; columns: number } => {
    const stream = Object.assign(
      new Writable({
        write(chunk: Buffer | string, _encoding, callback) {
          stream.text += chunk.toString()
          callback()
        },
      }),
      { text: '', isTTY: options.tty ?? false, columns: 100 },
    )
    return stream
  }
  const stdout = collect()
  const stderr = collect()
  const stdin = Readable.from(options.stdin === undefined ? [] : [options.stdin])
  const code = await runCli(args, { stdout, stderr, stdin, cwd: options.cwd ?? ROOT, env: { NO_COLOR: '1', ...options.env } })
  return { code, stdout: stdout.text, stderr: stderr.text }
}
