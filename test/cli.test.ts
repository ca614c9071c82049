/**
 * End-to-end tests of the `taskengine` binary: a real child process, real streams, real signals.
 */
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { RunResult } from '../src/index.js'
import { FIXTURES, finished, runBin, startCli, waitForOutput } from './helpers/cli.js'

const parseResult = (stdout: string): RunResult => JSON.parse(stdout) as RunResult

describe('taskengine tasks', () => {
  it('lists the built-in examples when no tasks module or config is given', async () => {
    const { code, stdout, stderr } = await runBin(['tasks'])
    expect(stderr).toBe('')
    expect(code).toBe(0)
    const lines = stdout.trim().split('\n')
    expect(lines[0]).toMatch(/^KEY\s+TITLE\s+CATEGORY\s+FIELDS/)
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(['all-fields', 'always-fails', 'countdown', 'fan-out', 'hello'])
    expect(stdout).toMatch(/always-fails\s+Always Fails\s+examples\s+message:string\s+dangerous/)
  })

  it('prints tasks with their fields as JSON', async () => {
    const { code, stdout } = await runBin(['tasks', '--json'])
    expect(code).toBe(0)
    const tasks = JSON.parse(stdout) as { key: string; fields: { key: string; type: string; default?: unknown }[] }[]
    const allFields = tasks.find((t) => t.key === 'all-fields')
    expect(allFields?.fields.map((f) => f.type)).toEqual(['string', 'string', 'int', 'float', 'bool', 'string[]', 'time'])
    expect(allFields?.fields[1]).toMatchObject({ key: 'format', default: 'sql', choices: ['sql', 'tar', 'zip'] })
  })

  it('loads tasks from --tasks (JavaScript and TypeScript) and from a config file in the working directory', async () => {
    const js = await runBin(['tasks', '--tasks', join(FIXTURES, 'tasks.mjs')])
    expect(js.stderr).toBe('')
    expect(js.stdout).toMatch(/^add\s/m)
    expect(js.stdout).toMatch(/^echo\s/m)
    const ts = await runBin(['tasks', '--tasks', 'test/fixtures/tasks.ts'])
    expect(ts.stderr).toBe('')
    expect(ts.stdout).toMatch(/^typed-square\s/m)
    const config = await runBin(['tasks'], { cwd: join(FIXTURES, 'config-dir') })
    expect(config.stderr).toBe('')
    expect(config.stdout).toMatch(/^from-config\s/m)
    const env = await runBin(['tasks'], { env: { TASKENGINE_TASKS: join(FIXTURES, 'tasks.mjs') } })
    expect(env.stdout).toMatch(/^add\s/m)
  })

  it('explains a tasks module that is missing or exports no tasks', async () => {
    const missing = await runBin(['tasks', '--tasks', 'nowhere.mjs'])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/taskengine: tasks module not found: .*nowhere\.mjs/)
    const empty = await runBin(['tasks', '--tasks', join(FIXTURES, 'empty', 'no-tasks.mjs')])
    expect(empty.code).toBe(2)
    expect(empty.stderr).toMatch(/no-tasks\.mjs exports no tasks/)
  })
})

describe('taskengine run', () => {
  it('runs a task: result JSON on stdout, live log lines on stderr, exit 0', async () => {
    const { code, stdout, stderr } = await runBin(['run', 'hello', '--name', 'Ada', '--shout'])
    expect(code).toBe(0)
    const result = parseResult(stdout)
    expect(result).toMatchObject({ task: 'hello', status: 'succeeded', label: 'ad-hoc', args: { name: 'Ada', shout: true }, data: { greeting: 'HELLO, ADA!' } })
    expect(stderr).toMatch(/^\d\d:\d\d:\d\d\.\d{3} info {2}greeting Ada$/m)
    expect(stderr).toMatch(/✔ hello succeeded in \d+ ms/)
  })

  it('shows progress and log lines as the run goes', async () => {
    const { code, stdout, stderr } = await runBin(['run', 'countdown', '--steps', '3', '--delayMs', '30', '--label', 'demo'])
    expect(code).toBe(0)
    expect(parseResult(stdout)).toMatchObject({ label: 'demo', data: { steps: 3 }, progress: { percent: 100, step: 3, steps: 3 } })
    const lines = stderr.split('\n')
    const step1 = lines.findIndex((l) => l.endsWith('info  step 1 of 3'))
    const step3 = lines.findIndex((l) => l.endsWith('info  step 3 of 3'))
    expect(step1).toBeGreaterThanOrEqual(0)
    expect(step3).toBeGreaterThan(step1)
    expect(lines).toContain('progress 33% (1/3) 2 to go')
    expect(lines).toContain('progress 100% (3/3) 0 to go')
  })

  it('takes name=value, --no-flag, repeated list flags, negative numbers and --args JSON', async () => {
    const { code, stdout, stderr } = await runBin([
      'run',
      'all-fields',
      'text=hi there',
      '--no-enabled',
      '--labels',
      'a',
      '--labels',
      'b,c',
      '--ratio',
      '-1.5',
      '--args',
      '{"count": 7, "format": "tar"}',
      '--at=2026-01-02T03:04',
      '-q',
    ])
    expect(stderr).toBe('')
    expect(code).toBe(0)
    expect(parseResult(stdout).args).toEqual({
      text: 'hi there',
      format: 'tar',
      count: 7,
      ratio: -1.5,
      enabled: false,
      labels: ['a', 'b,c'],
      at: '2026-01-02T03:04:00.000Z',
    })
  })

  it('exits 1 with the failed result and the stack when the handler throws', async () => {
    const { code, stdout, stderr } = await runBin(['run', 'always-fails', '--message', 'disk on fire'])
    expect(code).toBe(1)
    const result = parseResult(stdout)
    expect(result.status).toBe('failed')
    expect(result.error).toMatchObject({ message: 'disk on fire', code: 'E_EXAMPLE', name: 'ExampleFailure' })
    expect(stderr).toMatch(/warn {2}about to fail/)
    expect(stderr).toMatch(/✖ always-fails failed in \d+ ms: disk on fire\n\s+ExampleFailure: disk on fire\n\s+at /)
  })

  it('exits 2 listing every bad field, and runs nothing', async () => {
    const { code, stdout, stderr } = await runBin(['run', 'all-fields', '--count', 'many', '--format', 'rar', '--bogus', '1'])
    expect(code).toBe(2)
    expect(stdout).toBe('')
    expect(stderr).toBe(
      'taskengine: invalid arguments for task "all-fields":\n' +
        '  --text: required (string)\n' +
        '  --format: expected one of "sql", "tar", "zip", got "rar" (string)\n' +
        '  --count: expected int from 0 to 100, got "many" (string)\n' +
        '  --bogus: unknown field (known fields: text, format, count, ratio, enabled, labels, at)\n',
    )
  })

  it('exits 2 for an unknown task, naming the known ones', async () => {
    const { code, stderr } = await runBin(['run', 'nope'])
    expect(code).toBe(2)
    expect(stderr).toBe('taskengine: unknown task "nope" (tasks from examples: all-fields, always-fails, countdown, fan-out, hello)\n')
  })

  it('exits 2 for malformed --args JSON and a bad --timeout', async () => {
    const json = await runBin(['run', 'hello', '--args', '{nope'])
    expect(json.code).toBe(2)
    expect(json.stderr).toMatch(/^taskengine: --args: not valid JSON/)
    const array = await runBin(['run', 'hello', '--args', '[1]'])
    expect(array.stderr).toBe('taskengine: --args: expected a JSON object, got [1] (array)\n')
    const timeout = await runBin(['run', 'hello', '--timeout', 'soon'])
    expect(timeout.code).toBe(2)
    expect(timeout.stderr).toBe('taskengine: --timeout: expected a positive integer, got "soon" (string)\n')
  })

  it('fails a run that exceeds --timeout with a timeout error', async () => {
    const { code, stdout } = await runBin(['run', 'countdown', '--steps', '100', '--delayMs', '1000', '--timeout', '200', '-q'])
    expect(code).toBe(1)
    expect(parseResult(stdout)).toMatchObject({ status: 'failed', error: { code: 'ERR_TIMEOUT', message: 'timed out after 200 ms' } })
  })

  it('cancels the run on SIGINT and exits 130 with the cancelled result', async () => {
    const child = startCli(['run', 'countdown', '--steps', '100', '--delayMs', '50'])
    const done = finished(child)
    await waitForOutput(child.stderr, 'step 1 of 100')
    child.kill('SIGINT')
    const { code, stdout, stderr } = await done
    expect(code).toBe(130)
    expect(parseResult(stdout)).toMatchObject({ status: 'cancelled', error: { code: 'ERR_CANCELLED', message: 'interrupted (SIGINT)' } })
    expect(stderr).toMatch(/taskengine: SIGINT: cancelling "countdown"/)
  })

  it('runs tasks from a module, before or after the task key', async () => {
    const before = await runBin(['run', '--tasks', join(FIXTURES, 'tasks.mjs'), 'add', '--a', '2', '--b', '40', '-q'])
    expect(before.code).toBe(0)
    expect(parseResult(before.stdout).data).toEqual({ sum: 42 })
    const after = await runBin(['run', 'typed-square', '--x', '1.5', '--tasks', 'test/fixtures/tasks.ts', '-q'])
    expect(after.stderr).toBe('')
    expect(parseResult(after.stdout).data).toEqual({ square: '2.25' })
  })

  it("labels a run with the task's default label unless --label says otherwise", async () => {
    const plain = await runBin(['run', 'labelled', '--tasks', 'test/fixtures/tasks.ts', '-q'])
    expect(parseResult(plain.stdout)).toMatchObject({ label: 'nightly report', tags: ['report'] })
    const named = await runBin(['run', 'labelled', '--label', 'by hand', '--tasks', 'test/fixtures/tasks.ts', '-q'])
    expect(parseResult(named.stdout)).toMatchObject({ label: 'by hand' })
  })

  it('prints a task\'s fields with run <task> --help', async () => {
    const { code, stdout } = await runBin(['run', 'all-fields', '--help'])
    expect(code).toBe(0)
    expect(stdout).toMatch(/^all-fields — All Field Types \[examples\]/)
    expect(stdout).toMatch(/--format <string>\s+Format; one of sql, tar, zip; default sql/)
    expect(stdout).toMatch(/--enabled, --no-enabled\s+Enabled; default true/)
  })

  it('prints usage for a missing task key and exits 2', async () => {
    const { code, stderr } = await runBin(['run'])
    expect(code).toBe(2)
    expect(stderr).toMatch(/missing required argument 'task'/)
  })
})
