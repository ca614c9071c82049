/**
 * What `taskengine run` prints at the end: on a terminal a short summary (status, duration,
 * result data) after the live view, without repeating its log lines; the whole run as JSON when
 * stdout is not a terminal or with --json. Exit codes stay.
 */
import { describe, expect, it } from 'vitest'
import type { RunResult } from '../../src/index.js'
import { runBin, runInProcess } from '../helpers/cli.js'

const occurrences = (text: string, part: string): number => text.split(part).length - 1

describe('taskengine run on a terminal', () => {
  it('ends with a summary on stdout, not the run as JSON, and shows each log line once', async () => {
    const { code, stdout, stderr } = await runInProcess(['run', 'hello', '--name', 'Ada', '--shout'], { tty: true })
    expect(code).toBe(0)
    expect(stdout).toMatch(/^✔ hello succeeded in \d+ ms\ndata: \{"greeting":"HELLO, ADA!"\}\n$/)
    expect(occurrences(stdout + stderr, 'greeting Ada')).toBe(1)
    expect(stderr).toMatch(/info {2}greeting Ada\n/)
    // The summary is said once, on stdout.
    expect(stderr).not.toContain('succeeded in')
  })

  it('with -q shows only the summary', async () => {
    const { code, stdout, stderr } = await runInProcess(['run', 'countdown', '--steps', '2', '--delayMs', '1', '-q'], { tty: true })
    expect(code).toBe(0)
    expect(stderr).toBe('')
    expect(stdout).toMatch(/^✔ countdown succeeded in \d+ ms\ndata: \{"steps":2\}\n$/)
  })

  it('pretty-prints long data under the summary line', async () => {
    const { stdout } = await runInProcess(['run', 'hello', '--name', 'x'.repeat(120), '-q'], { tty: true })
    expect(stdout).toBe(`${stdout.split('\n')[0]!}\ndata:\n    {\n      "greeting": "Hello, ${'x'.repeat(120)}!"\n    }\n`)
  })

  it('on failure prints the error and its stack, and exits 1', async () => {
    const { code, stdout } = await runInProcess(['run', 'always-fails', '--message', 'disk on fire', '-q'], { tty: true })
    expect(code).toBe(1)
    expect(stdout).toMatch(/^✖ always-fails failed in \d+ ms: disk on fire\n {4}ExampleFailure: disk on fire\n {8}at /)
    expect(stdout).not.toContain('data:')
    expect(stdout).not.toContain('"status"')
  })

  it('with --json prints the whole run as JSON, the live summary going to stderr', async () => {
    const { code, stdout, stderr } = await runInProcess(['run', 'hello', '--name', 'Ada', '--json'], { tty: true })
    expect(code).toBe(0)
    expect(JSON.parse(stdout)).toMatchObject({ task: 'hello', status: 'succeeded', data: { greeting: 'Hello, Ada!' } })
    expect(stderr).toMatch(/✔ hello succeeded in \d+ ms\n$/)
  })
})

describe('taskengine run into a pipe', () => {
  it('prints the run as JSON, with or without --json, and exits as before', async () => {
    for (const args of [['-q'], ['-q', '--json']]) {
      const ok = await runBin(['run', 'hello', '--name', 'Ada', ...args])
      expect(ok.code).toBe(0)
      expect((JSON.parse(ok.stdout) as RunResult).data).toEqual({ greeting: 'Hello, Ada!' })
      const failed = await runBin(['run', 'always-fails', ...args])
      expect(failed.code).toBe(1)
      expect((JSON.parse(failed.stdout) as RunResult).status).toBe('failed')
    }
  })
})
