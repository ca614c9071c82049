import { describe, expect, it } from 'vitest'
import { runInProcess } from '../helpers/cli.js'

describe('taskengine amqp', () => {
  it('needs the broker\'s URL, and says so before opening anything', async () => {
    const { code, stderr } = await runInProcess(['amqp', '--queue', 'q'], { env: { TASKENGINE_AMQP_URL: undefined } })
    expect(code).toBe(2)
    expect(stderr).toContain('--url: the broker is required (or TASKENGINE_AMQP_URL)')
  })

  it('refuses a bad bound, naming the flag', async () => {
    const { code, stderr } = await runInProcess(['amqp', '--url', 'amqp://127.0.0.1', '--prefetch', 'many'])
    expect(code).toBe(2)
    expect(stderr).toContain('--prefetch')
  })

  it('refuses an unknown --events choice, naming the choices', async () => {
    const { code, stderr } = await runInProcess(['amqp', '--url', 'amqp://127.0.0.1', '--events', 'remote'])
    expect(code).not.toBe(0)
    expect(stderr).toContain('Allowed choices are local, all, none')
  })

  it('lists its flags in --help', async () => {
    const { code, stdout } = await runInProcess(['amqp', '--help'])
    expect(code).toBe(0)
    for (const flag of ['--url', '--queue', '--exchange', '--dead-letter-exchange', '--prefetch', '--buffer-limit', '--no-events', '--events', '--worker']) expect(stdout).toContain(flag)
  })
})
