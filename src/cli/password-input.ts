/**
 * Reading a new password for `users add` and `users password`: on a terminal, asked twice
 * without echo; with `--password-stdin`, the first line of stdin (for scripts and secrets
 * managers: `pass show oncall | taskengine users add oncall --role operator --password-stdin`).
 * Never from an argument, which would land in the shell's history and the process list.
 */
import { createInterface } from 'node:readline'
import { Writable } from 'node:stream'
import { ValidationError } from '../errors.js'
import type { CliIo } from './io.js'

/** How the password is given. */
export interface PasswordFlags {
  /** Read one line from stdin instead of asking. */
  readonly passwordStdin?: boolean
}

/**
 * The new password for `user`: the first line of stdin with `--password-stdin`, else asked
 * twice on the terminal (a mismatch is a `ValidationError`; nothing changes). Off a terminal and
 * without `--password-stdin`, a `ValidationError` says what to pass instead.
 */
export async function readNewPassword(io: CliIo, user: string, flags: PasswordFlags): Promise<string> {
  const stdin = io.stdin ?? process.stdin
  if (flags.passwordStdin === true) return firstLine(stdin)
  if (stdin.isTTY !== true || io.stderr.isTTY !== true) {
    throw new ValidationError('no terminal to ask for the password on: pass --password-stdin and write it as one line on stdin (or --no-password for a tokens-only user)')
  }
  const first = await askHidden(stdin, io.stderr, `password for ${user}: `)
  if (first === '') throw new ValidationError('password: expected a password, got none; nothing changed')
  const again = await askHidden(stdin, io.stderr, 'again, to confirm: ')
  if (again !== first) throw new ValidationError('password: the two entries differ; nothing changed')
  return first
}

/** The first line of a stream (without its line break), or `''` when it ends without one. */
function firstLine(input: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input, crlfDelay: Infinity })
    let line: string | undefined
    lines.once('line', (text) => {
      line = text
      lines.close()
    })
    lines.once('close', () => resolve(line ?? ''))
    input.once('error', reject)
  })
}

/** Asks on the terminal, echoing the prompt but not what is typed. */
function askHidden(input: NodeJS.ReadableStream, output: NodeJS.WritableStream, prompt: string): Promise<string> {
  let muted = false
  // readline echoes keystrokes through its output: let the prompt through, swallow the rest.
  const echo = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      if (!muted) output.write(chunk)
      callback()
    },
  })
  const lines = createInterface({ input, output: echo, terminal: true })
  return new Promise((resolve) => {
    lines.question(prompt, (answer) => {
      lines.close()
      output.write('\n')
      resolve(answer)
    })
    muted = true
  })
}
