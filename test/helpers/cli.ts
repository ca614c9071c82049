/**
 * Runs the real `taskengine` binary (dist/cli/main.js) in a child process.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { join } from 'node:path'

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
  readonly env?: Record<string, string>
}

/** Starts the binary; the caller reads its streams and waits with {@link finished}. */
export function startCli(args: readonly string[], options: SpawnOptions = {}): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, NO_COLOR: '1', TASKENGINE_TASKS: '', ...options.env },
  })
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
